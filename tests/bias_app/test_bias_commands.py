"""manage.py seed_bias and create_api_token."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from bias_app.engines.gating import entry_gate
from bias_app.models import BiasStateCurrent, BiasStateHistory
from bias_app.selectors import get_bias_state, get_entry_gate_config
from tests.bias_app.builders import NOW, NOW_MS, ingest, v3_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("now")]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


@pytest.mark.parametrize(("bias", "score"), [("BULLISH", 60), ("bearish", -60), ("NEUTRAL", 0)])
def test_seed_bias_writes_a_fresh_state_that_gates_neither_direction(bias, score):
    output = run("seed_bias", "spy", bias)
    assert output.startswith(f"SPY: {bias.upper()} score {score}")
    state = get_bias_state("SPY", now=NOW)
    assert (state["bias"], state["biasScore"], state["updatedAtMs"], state["isStale"]) == (bias.upper(), score, NOW_MS, False)
    assert state["session"] == "RTH"
    config = get_entry_gate_config()
    assert entry_gate(state, "long", NOW, config).allowed and entry_gate(state, "short", NOW, config).allowed


def test_seed_bias_always_supersedes_the_stored_state():
    ingest(v3_payload(ts_ms=NOW_MS + 60_000))  # a producer clock slightly ahead of ours
    run("seed_bias", "SPY", "BEARISH")
    assert BiasStateCurrent.objects.get(symbol="SPY").updated_at_ms == NOW_MS + 60_001
    assert BiasStateHistory.objects.filter(status="accepted").count() == 2


def test_seed_bias_refuses_an_unknown_bias_or_symbol():
    with pytest.raises(CommandError):
        call_command("seed_bias", "SPY", "SIDEWAYS")
    with pytest.raises(CommandError, match="not a valid symbol"):
        call_command("seed_bias", "NOT A SYMBOL", "BULLISH")


def test_create_api_token_needs_an_existing_user_unless_asked_to_create_one():
    with pytest.raises(CommandError, match="--create-user"):
        call_command("create_api_token", "ops")
    token = run("create_api_token", "ops", "--create-user")
    assert token == Token.objects.get(user__username="ops").key
    assert not get_user_model().objects.get(username="ops").has_usable_password()


def test_create_api_token_is_idempotent():
    get_user_model().objects.create_user("ops")
    assert run("create_api_token", "ops") == run("create_api_token", "ops", "--create-user")
    assert Token.objects.count() == 1
