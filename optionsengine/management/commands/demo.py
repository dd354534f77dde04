"""`manage.py demo` (SPEC §14): replay a trading session of TradingView alerts through the real
webhook and the whole pipeline on a simulated clock and market, print what happened and write an
HTML report. `--file` replays your own alerts (format: docs/demo.md).

The demo never touches your data: it runs on its own SQLite file (var/demo.sqlite3, recreated on
every run). Started against any other database, the command re-runs itself in a child process
pointed at that file (DATABASE_URL and REDIS_URL dropped).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from optionsengine.demo.alerts import AlertFileError, load_session
from optionsengine.demo.figures import collect
from optionsengine.demo.replay import ReplayOptions, replay
from optionsengine.demo.report import render_html, render_text

BUNDLED_SESSION = Path(__file__).resolve().parents[2] / "demo" / "session.json"


class Command(BaseCommand):
    help = "Replay a bundled (or your own) session of TradingView alerts through the full pipeline; print and report the results."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=None,
                            help="alert file to replay instead of the bundled session (see docs/demo.md)")
        parser.add_argument("--report", type=Path, default=None,
                            help="where to write the HTML report (default var/demo-report.html)")
        parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
        parser.add_argument("--step-minutes", type=int, default=1,
                            help="simulated minutes between pipeline runs during the session (default 1)")
        parser.add_argument("--close-out-days", type=int, default=10,
                            help="trading days to keep managing positions after the session (default 10)")
        parser.add_argument("--db", type=Path, default=None,
                            help="the demo's own SQLite file, recreated on every run (default var/demo.sqlite3)")
        parser.add_argument("--in-place", action="store_true",
                            help="replay into the configured database as it is (no reset); for tests and experts")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        if options["step_minutes"] < 1 or options["close_out_days"] < 0:
            raise CommandError("--step-minutes must be >= 1 and --close-out-days >= 0")
        source = options["file"] or BUNDLED_SESSION
        try:
            session = load_session(source)
        except AlertFileError as exc:
            raise CommandError(f"cannot replay {source}: {exc}") from exc

        if not options["in_place"]:
            demo_db = (options["db"] or settings.VAR_DIR / "demo.sqlite3").resolve()
            if not _running_on(demo_db):
                return self._rerun_on(demo_db, options)
            _recreate(demo_db)

        started = time.perf_counter()
        bar_holder: list = []
        log = replay(
            session,
            options=ReplayOptions(step_minutes=options["step_minutes"], close_out_days=options["close_out_days"]),
            progress=None if options["no_progress"] else (lambda total: _bar(total, bar_holder)),
        )
        for bar in bar_holder:
            bar.close()
        figures = collect(log)
        elapsed = time.perf_counter() - started

        report_path = (options["report"] or settings.VAR_DIR / "demo-report.html").resolve()
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(render_html(figures, logged_errors=log.logged_errors, run_seconds=elapsed))
        if options["json"]:
            options["json"].write_text(json.dumps(figures, indent=2))
        self.stdout.write(render_text(figures, logged_errors=log.logged_errors))
        self.stdout.write(f"report: {report_path}")
        spent = ", ".join(f"{name} {seconds:.1f}" for name, seconds in log.seconds.most_common())
        self.stdout.write(f"replayed in {elapsed:.1f} s (seconds by stage: {spent})")
        return None

    def _rerun_on(self, demo_db: Path, options: dict) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "QUEUE_BROKER")}
        env["SQLITE_PATH"] = str(demo_db)
        argv = [sys.executable, str(settings.BASE_DIR / "manage.py"), "demo", "--db", str(demo_db),
                "--step-minutes", str(options["step_minutes"]), "--close-out-days", str(options["close_out_days"])]
        for flag in ("file", "report", "json"):
            if options[flag]:
                argv += [f"--{flag}", str(Path(options[flag]).resolve())]
        if options["no_progress"]:
            argv.append("--no-progress")
        self.stderr.write(f"(the demo runs on its own database, {demo_db})")
        code = subprocess.call(argv, env=env, cwd=settings.BASE_DIR)
        if code:
            raise CommandError(f"the demo exited with status {code}")


def _running_on(path: Path) -> bool:
    db = settings.DATABASES["default"]
    return db["ENGINE"] == "django.db.backends.sqlite3" and Path(str(db["NAME"])).resolve() == path


def _recreate(path: Path) -> None:
    """A fresh demo database every run: the same session gives the same figures."""
    connections.close_all()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    call_command("migrate", verbosity=0, interactive=False)


def _bar(total: int, holder: list):
    from tqdm import tqdm

    bar = tqdm(total=total, unit="step", file=sys.stderr, dynamic_ncols=True, leave=True)
    holder.append(bar)
    return bar
