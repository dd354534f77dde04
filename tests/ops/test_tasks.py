"""Tasks: each calls its stage (targeted at one row, or a leased sweep) and is idempotent."""

from __future__ import annotations

from unittest import mock

import pytest

from optionsengine import tasks
from optionsengine.lib import clock
from optionsengine.pipeline.stage import StageResult
from signals_app.models import Signal
from tests.pipeline.builders import NOW, make_signal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def at_now():
    with clock.override(NOW):
        yield


@pytest.mark.parametrize(
    ("task", "stage"),
    [
        (tasks.orchestrate, "orchestrator"),
        (tasks.create_orders, "order_creator"),
        (tasks.execute, "paper_executor"),
        (tasks.refresh, "position_refresher"),
        (tasks.exits, "exit_monitor"),
    ],
)
def test_a_sweep_task_runs_its_stage_once_through_run_once(task, stage):
    done = StageResult(stage)
    done.count("claimed", 2)
    with mock.patch("optionsengine.pipeline.run_once.run_once", return_value=[done]) as run_once:
        summary = task()
    run_once.assert_called_once_with(now=NOW, only={stage})
    assert summary == f"{stage}: claimed=2"


def test_the_tuner_task_calls_the_tuner_service_without_forcing():
    run = mock.Mock(status="no_changes", changes=[])
    with mock.patch("optionsengine.pipeline.tune.run_adaptive_tuner", return_value=run) as service:
        assert tasks.adaptive_tuner() == "adaptive_tuner: changes=0, no_changes=1"
    service.assert_called_once_with(now=NOW, dry_run=False, force=False)


def test_targeted_tasks_call_the_stage_for_that_row():
    with mock.patch("optionsengine.pipeline.create_orders.create_order_for_signal", return_value="created") as create:
        assert tasks.create_orders("sig-1") == "order_creator sig-1: created"
    create.assert_called_once_with("sig-1", NOW)
    with mock.patch("optionsengine.pipeline.execute.execute_order", return_value="filled") as execute:
        assert tasks.execute("ord-1") == "paper_executor ord-1: filled"
    execute.assert_called_once_with("ord-1", NOW)
    with mock.patch("optionsengine.pipeline.orchestrate.sweep", return_value=StageResult("orchestrator")) as sweep:
        tasks.orchestrate("sig-2")
    sweep.assert_called_once_with(now=NOW, signal_ids=["sig-2"])


def test_the_orchestrator_task_decides_a_signal_once_and_a_rerun_is_a_no_op():
    signal = make_signal(is_test=True)  # no bias state: rejected by the first gate, whatever the market
    first = tasks.orchestrate(str(signal.pk))
    signal.refresh_from_db()
    assert "claimed=1" in first and signal.processed is True
    decided = (signal.status, signal.rejection_reason, signal.processing_attempts)

    second = tasks.orchestrate(str(signal.pk))
    signal.refresh_from_db()
    assert "claimed=0" in second
    assert (signal.status, signal.rejection_reason, signal.processing_attempts) == decided


def test_targeted_create_and_execute_tasks_are_no_ops_for_rows_that_moved_on():
    signal = make_signal(status=Signal.Status.REJECTED, processed=True, rejection_reason="x")
    assert tasks.create_orders(str(signal.pk)).endswith("not_due")
    assert tasks.create_orders(str(signal.pk)).endswith("not_due")
    missing = "00000000-0000-0000-0000-000000000000"
    assert tasks.execute(missing).endswith("not_pending")


def test_a_stage_that_raises_is_reported_in_the_summary_not_raised():
    with mock.patch("optionsengine.pipeline.refresh.sweep", side_effect=RuntimeError("db gone")):
        summary = tasks.refresh()
    assert "1 error(s)" in summary and "db gone" in summary
