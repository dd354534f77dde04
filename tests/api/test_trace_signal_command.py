"""`manage.py trace_signal <signal_id>`: text trace, --json, exit status 1 for an unknown id."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, ManagementUtility, call_command

from tests.api.builders import lifecycle, rejected

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("trace_signal", *args, stdout=out)
    return out.getvalue()


def test_a_rejected_signal_says_where_and_why():
    signal = rejected("entry_tier_block:VOLATILITY_MISMATCH", "IV rank 92 outside 20–80")
    text = run(str(signal.signal_id))
    assert "stopped at: orchestrator (rejected)" in text
    assert "why: rejected by the orchestrator: entry_tier_block:VOLATILITY_MISMATCH — IV rank 92 outside 20–80" in text


def test_a_closed_signal_ends_with_its_realized_pnl():
    rows = lifecycle(upto="closed")
    text = run(str(rows.signal.signal_id))
    assert "why: closed: +150.00 (profit_target)" in text
    assert "trade performance: realized +150.00" in text
    data = json.loads(run(str(rows.signal.signal_id), "--json"))
    assert (data["stage"], data["realized_pnl"]) == ("closed", "150.00")


@pytest.mark.parametrize("signal_id", ["00000000-0000-0000-0000-000000000000", "nope"])
def test_an_unknown_id_is_an_error(signal_id):
    with pytest.raises(CommandError, match="no signal with id"):
        run(signal_id)


def test_the_command_exits_1_for_an_unknown_id(capsys):
    """As run from a shell (run_from_argv): CommandError → message on stderr, exit status 1."""
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "trace_signal", "00000000-0000-0000-0000-000000000000"]).execute()
    assert exited.value.code == 1
    assert "no signal with id" in capsys.readouterr().err


def test_the_command_exits_0_for_a_known_id(capsys):
    signal = rejected("mtf_bias_missing", "no bias state for SPY")
    ManagementUtility(["manage.py", "trace_signal", str(signal.signal_id)]).execute()  # no SystemExit
    assert "rejected by the orchestrator: mtf_bias_missing — no bias state for SPY" in capsys.readouterr().out
