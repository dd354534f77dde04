"""The periodic sweeps, declared in code (SPEC §12) and synced into django-q2 by name.

`manage.py sync_schedules` (run by `bin/run` at start) makes the `django_q_schedule` table equal
to `declared_schedules()`: creates missing rows, updates drifted ones, deletes undeclared ones.
Running it twice changes nothing.

Intervals are the seed's: orchestrator 30 s, order creator 30 s, paper executor 10 s, position
refresher 60 s, exit monitor 60 s, adaptive tuner daily after the close. django-q2 schedules have
a one-minute resolution and its scheduler wakes about every 30 s, so a sub-minute sweep is
declared as staggered one-minute rows (`+0s`, `+30s`): the floor is one sweep per scheduler pass,
~30 s. The paper executor's 10 s therefore becomes ~30 s for the safety net; its fast path (a
task enqueued on commit of every order) is what makes fills immediate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

SCHEDULER_PASS_SECONDS = 30  # django-q2's sentinel calls the scheduler about this often
NEW_YORK = ZoneInfo("America/New_York")
TUNER_AT = time(16, 30)  # New York: after the 16:00 close (and after any 13:00 early close)


@dataclass(frozen=True)
class Sweep:
    """One periodic task as the code wants it."""

    stage: str
    func: str
    every_seconds: int | None = None  # interval sweeps
    daily_at: time | None = None  # daily sweeps, New York wall-clock time


SWEEPS: tuple[Sweep, ...] = (
    Sweep("orchestrator", "optionsengine.tasks.orchestrate", every_seconds=30),
    Sweep("order_creator", "optionsengine.tasks.create_orders", every_seconds=30),
    Sweep("paper_executor", "optionsengine.tasks.execute", every_seconds=10),
    Sweep("position_refresher", "optionsengine.tasks.refresh", every_seconds=60),
    Sweep("exit_monitor", "optionsengine.tasks.exits", every_seconds=60),
    Sweep("adaptive_tuner", "optionsengine.tasks.adaptive_tuner", daily_at=TUNER_AT),
)


@dataclass(frozen=True)
class ScheduleRow:
    """One `django_q.models.Schedule` row: the fields sync compares, plus where a new row starts."""

    name: str
    func: str
    schedule_type: str  # Schedule.MINUTES / Schedule.DAILY
    minutes: int | None
    offset_seconds: int = 0  # for staggered copies of a sub-minute sweep
    daily_at: time | None = None

    def fields(self) -> dict:
        return {"func": self.func, "schedule_type": self.schedule_type, "minutes": self.minutes,
                "repeats": -1, "args": None, "kwargs": None, "hook": None, "cluster": None}

    def first_run(self, now: datetime) -> datetime:
        if self.daily_at is not None:
            local = now.astimezone(NEW_YORK)
            candidate = datetime.combine(local.date(), self.daily_at, tzinfo=NEW_YORK)
            if candidate <= local:
                candidate = datetime.combine(local.date() + timedelta(days=1), self.daily_at, tzinfo=NEW_YORK)
            return candidate
        return now + timedelta(seconds=self.offset_seconds)


def declared_schedules() -> list[ScheduleRow]:
    rows: list[ScheduleRow] = []
    for sweep in SWEEPS:
        if sweep.daily_at is not None:
            rows.append(ScheduleRow(f"sweep:{sweep.stage}", sweep.func, "D", None, daily_at=sweep.daily_at))
            continue
        seconds = sweep.every_seconds or 60
        if seconds >= 60:
            rows.append(ScheduleRow(f"sweep:{sweep.stage}", sweep.func, "I", max(1, round(seconds / 60))))
            continue
        step = max(seconds, SCHEDULER_PASS_SECONDS)
        for offset in range(0, 60, step):
            rows.append(ScheduleRow(f"sweep:{sweep.stage}+{offset}s", sweep.func, "I", 1, offset_seconds=offset))
    return rows


@dataclass(frozen=True)
class Change:
    action: str  # created / updated / deleted
    name: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.action} {self.name}" + (f" ({self.detail})" if self.detail else "")


def sync_schedules(*, now: datetime, dry_run: bool = False) -> list[Change]:
    """Make django-q2's schedules equal the declared ones, matched by name. Returns the changes.

    One transaction, serialized against a concurrent sync (several machines starting at once):
    an advisory lock on PostgreSQL, the IMMEDIATE write lock on SQLite. Names are not unique in
    django-q2's table, so extra rows with a declared name are deleted too. `next_run` is set only
    for a new row or when its timing changed, so a re-sync does not shift running schedules.
    """
    from django.db import connection, transaction
    from django_q.models import Schedule

    declared = {row.name: row for row in declared_schedules()}
    changes: list[Change] = []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('optionsengine:sync_schedules'))")
        seen: set[str] = set()
        for schedule in Schedule.objects.order_by("pk"):
            row = declared.get(schedule.name or "")
            if row is None or schedule.name in seen:
                changes.append(Change("deleted", schedule.name or f"#{schedule.pk}",
                                      "duplicate name" if row is not None else "not declared"))
                if not dry_run:
                    schedule.delete()
                continue
            seen.add(schedule.name)
            drift = {k: v for k, v in row.fields().items() if getattr(schedule, k) != v}
            if drift:
                changes.append(Change("updated", row.name, ", ".join(
                    f"{k}: {getattr(schedule, k)!r} → {v!r}" for k, v in drift.items())))
                if not dry_run:
                    for key, value in drift.items():
                        setattr(schedule, key, value)
                    if {"schedule_type", "minutes"} & drift.keys():
                        schedule.next_run = row.first_run(now)
                    schedule.save()
        for name, row in declared.items():
            if name in seen:
                continue
            first = row.first_run(now)
            changes.append(Change("created", name, f"{row.func}, first run {first.isoformat(timespec='seconds')}"))
            if not dry_run:
                Schedule.objects.create(name=name, next_run=first, **row.fields())
    return changes
