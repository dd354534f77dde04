"""Talking to a running optionsengine server, for `replay_webhooks` and `validate_e2e` (SPEC §13).

Standard library HTTP (urllib) on purpose: these are operator scripts, and the market-data layer
keeps the only httpx dependency. Default server: settings.BACKEND_URL (`make run`'s address).
API auth: `--token`, else BACKEND_TOKEN, else BACKEND_EMAIL + BACKEND_PASSWORD exchanged at
`POST /api/auth/token`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import CommandError

TIMEOUT_SECONDS = 15


@dataclass
class Answer:
    status: int | None  # None: no HTTP answer (connection refused, timeout)
    body: dict
    error: str | None = None


def base_url(url: str | None) -> str:
    return (url or settings.BACKEND_URL).rstrip("/")


def webhook_url(url: str | None) -> str:
    """`--url` may be the server (`http://host:8000`) or the full webhook URL."""
    chosen = base_url(url)
    return chosen if urlsplit(chosen).path not in ("", "/") else f"{chosen}/webhook"


def post_json(url: str, payload, *, headers: dict | None = None, secret: str = "", timeout: float = TIMEOUT_SECONDS) -> Answer:
    body = json.dumps(payload).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if secret:  # what TradingView cannot do, an operator script can: sign the exact bytes
        all_headers["X-Webhook-Signature"] = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, headers=all_headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, _json(response.read()))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, _json(exc.read()))
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Answer(None, {}, f"{type(exc).__name__}: {reason}")


def _json(raw: bytes) -> dict:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {"raw": raw[:200].decode(errors="replace")}
    return value if isinstance(value, dict) else {"value": value}


def resolve_token(token: str | None, server: str) -> str | None:
    """The API token to send, or None when none is configured."""
    token = token or os.environ.get("BACKEND_TOKEN") or None
    if token:
        return token
    email, password = os.environ.get("BACKEND_EMAIL"), os.environ.get("BACKEND_PASSWORD")
    if not (email and password):
        return None
    answer = post_json(f"{server}/api/auth/token", {"username": email, "password": password})
    if answer.status != 200 or "token" not in answer.body:
        raise CommandError(f"could not log in as {email} at {server}/api/auth/token: {answer.status or answer.error}")
    return answer.body["token"]


def auth_headers(token: str | None) -> dict:
    return {"Authorization": f"Token {token}"} if token else {}


def unreachable(url: str, answer: Answer) -> CommandError:
    return CommandError(f"could not reach {url}: {answer.error}. Is the server running (`make run`)?")
