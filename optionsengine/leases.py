"""Sweep leases: a stage's periodic sweep never overlaps itself across processes or machines
(SPEC §12).

    with sweep_lease("paper_executor") as held:
        if held: ...run the sweep...        # else another process is sweeping: skip this tick

Two mechanisms, chosen by the database, because the lease must be visible to every process that
can sweep (web processes serving the cron endpoint, every qcluster on every machine):
- PostgreSQL (scaled mode): a session-level advisory lock, `pg_try_advisory_lock`, keyed per
  stage and scoped to the database. Released explicitly at the end, and by PostgreSQL when the
  session ends — a crashed or killed worker (django-q2 kills a task at `timeout`) never leaves a
  stage locked. Needs session pooling: behind a transaction-pooling PgBouncer use a direct DSN.
- SQLite (embedded mode, one machine by definition): an exclusive, non-blocking `flock` on a file
  next to the database file. The kernel drops it when the process dies.
The default cache is not used: in embedded mode it is LocMemCache, one per process, and a
cache lock there would not stop the cron endpoint from sweeping alongside the qcluster.

Only periodic sweeps take the lease. A targeted run for one row (the fast path) does not: each
stage's own claim (row leases, guarded updates, unique constraints) keeps it exactly-once.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

_KEY_PREFIX = "optionsengine:sweep:"


def _advisory_key(stage: str) -> int:
    """A stable signed 64-bit key per stage (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.sha256(f"{_KEY_PREFIX}{stage}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def sweep_lease(stage: str) -> Iterator[bool]:
    """Yield True when this process holds `stage`'s sweep lease, False when another one does."""
    held_here = _held_by_this_thread()
    if stage in held_here:  # PostgreSQL session locks are re-entrant; a nested sweep still skips
        yield False
        return
    backend = _advisory_lease if connection.vendor == "postgresql" else _file_lease
    with backend(stage) as held:
        if held:
            held_here.add(stage)
        try:
            yield held
        finally:
            held_here.discard(stage)


_local = threading.local()


def _held_by_this_thread() -> set[str]:
    if not hasattr(_local, "stages"):
        _local.stages = set()
    return _local.stages


@contextlib.contextmanager
def _advisory_lease(stage: str) -> Iterator[bool]:
    key = _advisory_key(stage)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except Exception:  # the session is gone, and the lock with it
                logger.warning("could not release the %s sweep lease (session lost)", stage)


def _lock_path(stage: str) -> Path:
    """Next to the SQLite file, so two databases (e.g. parallel test runs) never share a lease."""
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        base = Path(settings.VAR_DIR) / f"memory-{os.getpid()}"
    else:
        base = Path(name)
    return base.with_name(f"{base.name}.sweep-{stage}.lock")


@contextlib.contextmanager
def _file_lease(stage: str) -> Iterator[bool]:
    import fcntl  # POSIX only, like the embedded deployment (bin/run, gunicorn)

    path = _lock_path(stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A separate open file description per attempt: flock conflicts between them even inside
    # one process, so two threads of one worker are held apart as well.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
