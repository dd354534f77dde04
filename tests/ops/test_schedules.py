"""Schedules declared in code = schedules in django-q2, synced idempotently by name."""

from __future__ import annotations

import pydoc
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from optionsengine import schedules
from optionsengine.lib import clock
from optionsengine.schedules import declared_schedules, sync_schedules

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 13, 15, 0, tzinfo=UTC)  # Friday 11:00 New York


def stored() -> dict:
    return {s.name: (s.func, s.schedule_type, s.minutes, s.repeats) for s in Schedule.objects.all()}


def declared() -> dict:
    return {r.name: (r.func, r.schedule_type, r.minutes, -1) for r in declared_schedules()}


def test_every_declared_function_path_imports_and_is_callable():
    for row in declared_schedules():
        assert callable(pydoc.locate(row.func)), row.func  # how django-q2 resolves a func path


def test_the_seed_intervals_are_declared():
    every = {s.stage: (s.every_seconds, s.daily_at) for s in schedules.SWEEPS}
    assert every == {
        "orchestrator": (30, None), "order_creator": (30, None), "paper_executor": (10, None),
        "position_refresher": (60, None), "exit_monitor": (60, None), "adaptive_tuner": (None, schedules.TUNER_AT),
    }
    names = {r.name for r in declared_schedules()}
    # sub-minute sweeps: staggered one-minute rows, one per scheduler pass (~30 s)
    assert {"sweep:orchestrator+0s", "sweep:orchestrator+30s", "sweep:paper_executor+0s",
            "sweep:paper_executor+30s", "sweep:position_refresher", "sweep:adaptive_tuner"} <= names


def test_sync_creates_the_declared_schedules_and_a_second_sync_changes_nothing():
    first = sync_schedules(now=NOW)
    assert {c.action for c in first} == {"created"} and len(first) == len(declared_schedules())
    assert stored() == declared()
    before = {s.name: s.next_run for s in Schedule.objects.all()}

    assert sync_schedules(now=NOW.replace(hour=18)) == []
    assert stored() == declared()
    assert {s.name: s.next_run for s in Schedule.objects.all()} == before  # timing untouched


def test_sync_updates_drift_deletes_undeclared_and_duplicates():
    sync_schedules(now=NOW)
    Schedule.objects.filter(name="sweep:exit_monitor").update(minutes=5, func="somewhere.else")
    Schedule.objects.create(name="old:job", func="optionsengine.tasks.refresh", schedule_type="I", minutes=1)
    Schedule.objects.create(name="sweep:position_refresher", func="optionsengine.tasks.refresh", schedule_type="I", minutes=1)

    changes = {(c.action, c.name) for c in sync_schedules(now=NOW)}
    assert changes == {("updated", "sweep:exit_monitor"), ("deleted", "old:job"), ("deleted", "sweep:position_refresher")}
    assert stored() == declared()
    assert Schedule.objects.filter(name="sweep:position_refresher").count() == 1


def test_new_rows_start_staggered_and_the_tuner_after_the_close_in_new_york():
    sync_schedules(now=NOW)
    runs = {s.name: s.next_run for s in Schedule.objects.all()}
    assert (runs["sweep:orchestrator+30s"] - runs["sweep:orchestrator+0s"]).total_seconds() == 30
    assert runs["sweep:adaptive_tuner"] == datetime(2026, 3, 13, 20, 30, tzinfo=UTC)  # 16:30 EDT
    tuner = Schedule.objects.get(name="sweep:adaptive_tuner")
    assert tuner.schedule_type == Schedule.DAILY


def test_the_command_prints_changes_and_dry_run_writes_nothing():
    out = StringIO()
    with clock.override(NOW):
        call_command("sync_schedules", "--dry-run", stdout=out)
    assert "would be created sweep:exit_monitor" in out.getvalue()
    assert Schedule.objects.count() == 0

    out = StringIO()
    with clock.override(NOW):
        call_command("sync_schedules", stdout=out)
    assert "created sweep:paper_executor+0s" in out.getvalue()
    out = StringIO()
    call_command("sync_schedules", stdout=out)
    assert out.getvalue().strip() == f"schedules: up to date ({len(declared_schedules())} declared)"


def test_a_due_schedule_runs_its_task_through_the_django_q_scheduler(monkeypatch):
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.models import Success
    from django_q.scheduler import scheduler

    sync_schedules(now=NOW)
    Schedule.objects.exclude(name="sweep:exit_monitor").delete()
    from django.utils import timezone

    due = timezone.now() - timedelta(seconds=5)
    Schedule.objects.filter(name="sweep:exit_monitor").update(next_run=due)
    monkeypatch.setattr(Conf, "SYNC", True)
    scheduler(broker=get_broker())
    task = Success.objects.get(group="sweep:exit_monitor")
    assert task.result.startswith("exit_monitor:")
    assert Schedule.objects.get(name="sweep:exit_monitor").next_run > due  # moved on, no catch-up


def test_sync_command_sets_first_runs_from_the_wall_clock_even_with_a_frozen_service_clock(db, monkeypatch):
    """django-q2 runs schedules on wall time; a first run months in the past made its scheduler step
    through every missed interval while holding the database's write lock."""
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone
    from django_q.models import Schedule

    monkeypatch.setenv("OPTIONSENGINE_NOW", "2026-03-13T15:00:00Z")
    call_command("sync_schedules", stdout=StringIO())
    wall = timezone.now()
    assert Schedule.objects.exists()
    assert all(abs(s.next_run - wall) < timedelta(days=2) for s in Schedule.objects.all())
