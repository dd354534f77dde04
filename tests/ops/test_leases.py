"""The sweep lease: a stage's sweep never overlaps itself (SPEC §12)."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection

from optionsengine import tasks
from optionsengine.cron import process_queue
from optionsengine.leases import sweep_lease
from optionsengine.pipeline.stage import StageResult


def _hold_lease(stage: str, held: threading.Event, release: threading.Event, got: list) -> None:
    try:
        with sweep_lease(stage) as ok:
            got.append(ok)
            held.set()
            release.wait(10)
    finally:
        connection.close()  # this thread's own connection (PostgreSQL: its session and lock)


@pytest.fixture
def lease_held_elsewhere():
    """Another thread (own DB connection / own lock file handle) holds a stage's lease."""
    threads = []

    def hold(stage: str) -> None:
        held, release, got = threading.Event(), threading.Event(), []
        thread = threading.Thread(target=_hold_lease, args=(stage, held, release, got))
        thread.start()
        assert held.wait(10) and got == [True]
        threads.append((thread, release))

    yield hold
    for thread, release in threads:
        release.set()
        thread.join(10)


@pytest.mark.django_db(transaction=True)
def test_a_second_concurrent_sweep_of_the_same_stage_skips(lease_held_elsewhere):
    lease_held_elsewhere("paper_executor")
    with mock.patch("optionsengine.pipeline.run_once.run_once") as run_once:
        summary = tasks.execute()
    run_once.assert_not_called()
    assert summary == "paper_executor: skipped=1"


@pytest.mark.django_db(transaction=True)
def test_other_stages_are_not_blocked_and_the_lease_is_free_again_after_release(lease_held_elsewhere):
    lease_held_elsewhere("paper_executor")
    with mock.patch("optionsengine.pipeline.run_once.run_once", return_value=[StageResult("exit_monitor")]) as run_once:
        assert tasks.exits() == "exit_monitor: nothing to do"
    run_once.assert_called_once()
    with sweep_lease("order_creator") as first:
        with sweep_lease("order_creator") as second:
            assert (first, second) == (True, False)
    with sweep_lease("order_creator") as again:
        assert again is True


@pytest.mark.django_db(transaction=True)
def test_the_cron_endpoint_honours_the_same_lease(lease_held_elsewhere):
    lease_held_elsewhere("orchestrator")
    outcome = process_queue()
    assert outcome["results"]["orchestrator"]["skipped"] is True
    assert outcome["results"]["order_creator"]["skipped"] is False


@pytest.mark.django_db
def test_a_targeted_run_does_not_take_the_sweep_lease():
    with sweep_lease("order_creator") as held, \
            mock.patch("optionsengine.pipeline.create_orders.create_order_for_signal", return_value="created") as create:
        assert held is True
        assert tasks.create_orders("sig-1").endswith("created")
    create.assert_called_once()
