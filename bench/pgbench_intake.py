"""Print a pgbench script that runs exactly the SQL one accepted webhook runs (bench/webhook.py's ceiling).

    DATABASE_URL=... .venv/bin/python bench/pgbench_intake.py > intake.sql

One real alert (bench/tradingview_alert.json) goes through Django's handler against DATABASE_URL
(a benchmark database: it writes that one signal). The statement batch it sends is captured with
its parameters bound exactly as psycopg sends them; the symbol becomes `'P' || :n` and the row ids
`gen_random_uuid()`, so every pgbench transaction is a new, accepted signal; `\\;` keeps the batch
one round trip and one implicit transaction, as the endpoint sends it.
"""

from __future__ import annotations

import io
import os
import re
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "optionsengine.settings")

SAMPLE = f"PGB{uuid.uuid4().hex[:10].upper()}"  # a new symbol per run: the sample alert must be accepted


def capture_batch() -> str:
    """The SQL one accepted alert sent, with its parameters bound."""
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    body = (ROOT / "bench" / "tradingview_alert.json").read_bytes().replace(b'"NASDAQ:AAPL"', f'"{SAMPLE}"'.encode())
    sent: list[str] = []

    def capture(execute, sql, params, many, context):
        sent.append(context["cursor"].cursor.mogrify(sql, params))
        return execute(sql, params, many, context)

    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/webhook", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "REMOTE_ADDR": "127.0.0.1", "QUERY_STRING": "",
    }
    statuses: list[str] = []
    with connection.execute_wrapper(capture):
        answer = b"".join(WSGIHandler()(environ, lambda status, headers, *_: statuses.append(status)))
    if not statuses[0].startswith("201") or len(sent) != 1:
        sys.exit(f"expected one statement batch for an accepted alert, got {statuses} {answer[:200]!r} {len(sent)} statements")
    return sent[0]


def pgbench_script(batch: str) -> str:
    def per_transaction(match: re.Match) -> str:
        literal = match.group(0)
        if SAMPLE not in literal:
            return literal
        pieces = []
        for index, part in enumerate(literal[1:-1].split(SAMPLE)):
            if index:
                pieces.append("('P' || :n)")
            if part:
                pieces.append(f"'{part}'")
        return "(" + " || ".join(pieces) + ")"

    script = re.sub(r"'(?:[^']|'')*'", per_transaction, batch)
    script = re.sub(r"'(?:[0-9a-f]{32}|[0-9a-f-]{36})'::uuid", "gen_random_uuid()", script)  # signal, event, request ids
    script = " ".join(script.split())  # one line: pgbench ends a command at a newline-terminated ';'
    script = script.replace("; WITH", " \\; WITH", 1)  # the lock and the statement: one query, one transaction
    if len(re.findall(r":n(?![A-Za-z0-9_])", script)) != script.count("('P' || :n)"):
        raise ValueError("a literal looks like a pgbench variable")
    return "\\set n random(1, 2000000000)\n" + script.rstrip(";") + ";\n"


def main() -> int:
    for _ in range(5):  # the signed task payload is random; retry the rare one pgbench would misread
        try:
            sys.stdout.write(pgbench_script(capture_batch()))
            return 0
        except ValueError:
            continue
    sys.exit("could not build a pgbench script")


if __name__ == "__main__":
    sys.exit(main())
