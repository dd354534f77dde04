"""The SPEC §2 contract holds in the database itself: names, seeds, CHECKs and unique keys."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from bias_app.models import BiasConfig
from orders_app.models import Order, RiskLimit, Trade
from positions_app.models import ExitRule, Position
from signals_app.models import Experiment, Signal

pytestmark = pytest.mark.django_db

SPEC_TABLES = {
    "signals_app": {"webhook_events", "signals", "refactored_signals", "market_contexts", "experiments",
                    "execution_policies", "agent_decisions", "decision_recommendations"},
    "bias_app": {"bias_state_current", "bias_state_history", "bias_config", "bias_adaptive_config_history",
                 "bias_trade_performance"},
    "orders_app": {"orders", "trades", "risk_limits"},
    "positions_app": {"refactored_positions", "exit_rules", "circuit_breaker_state"},
}


@pytest.mark.parametrize("app_label", sorted(SPEC_TABLES))
def test_each_app_owns_exactly_the_spec_tables(app_label):
    tables = {model._meta.db_table for model in apps.get_app_config(app_label).get_models()}
    assert tables == SPEC_TABLES[app_label]


def test_migrations_seed_the_default_exit_rule_risk_limits_and_bias_config():
    rule = ExitRule.objects.get(enabled=True)
    assert (rule.rule_name, rule.profit_target_percent, rule.stop_loss_percent, rule.max_hold_time_hours,
            rule.min_dte_exit, rule.trailing_stop_percent, rule.trailing_stop_activation_percent) == (
        "default", Decimal("50"), Decimal("50"), 120, 1, Decimal("15"), Decimal("20"))
    limits = RiskLimit.objects.get(enabled=True)
    assert (limits.max_position_size, limits.max_positions_per_symbol, limits.max_open_positions,
            limits.max_daily_loss, limits.max_exposure_percent, limits.max_daily_trades) == (
        10, 3, 5, Decimal("1000"), Decimal("20"), 0)
    configs = {c.config_key: c.config_json for c in BiasConfig.objects.all()}
    assert set(configs) == {"gating", "staleness", "risk", "adaptive"}
    assert configs["staleness"] == {"behavior": "block", "riskMultiplier": 0.7, "rthThresholdMinutes": 10, "dailyThresholdMinutes": 60}


def make_signal(**overrides) -> Signal:
    now = timezone.now()
    values = {"symbol": "SPY", "direction": "long", "timeframe": "5m", "timestamp": now, "signal_hash": "x" * 64, "created_at": now}
    return Signal.objects.create(**{**values, **overrides})


def make_order(signal: Signal | None, **overrides) -> Order:
    now = timezone.now()
    values = {"signal": signal, "side": "entry", "symbol": "SPY", "option_symbol": "SPY-20260320-C-600",
              "occ_symbol": "SPY260320C00600000", "strike": Decimal("600"), "expiration": date(2026, 3, 20),
              "type": "call", "quantity": 1, "created_at": now, "updated_at": now}
    return Order.objects.create(**{**values, **overrides})


@pytest.mark.parametrize(
    ("model_factory", "field", "bad"),
    [
        (lambda: make_signal(), "status", "approvedish"),
        (lambda: make_signal(), "direction", "sideways"),
        (lambda: make_order(make_signal()), "status", "submitted"),
        (lambda: make_order(make_signal()), "side", "hedge"),
    ],
)
def test_status_columns_reject_values_the_code_never_writes(model_factory, field, bad):
    row = model_factory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(row).objects.filter(pk=row.pk).update(**{field: bad})


def test_one_entry_order_per_signal_is_a_unique_constraint():
    signal = make_signal()
    make_order(signal)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_order(signal)


def test_one_trade_per_order_and_one_experiment_per_signal():
    signal = make_signal()
    order = make_order(signal)
    now = timezone.now()
    Trade.objects.create(order=order, fill_price=Decimal("1.25"), fill_quantity=1, fill_timestamp=now, created_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        Trade.objects.create(order=order, fill_price=Decimal("1.30"), fill_quantity=1, fill_timestamp=now, created_at=now)
    Experiment.objects.create(signal=signal, variant="A", assignment_hash="h", split_percentage=Decimal("0"), created_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        Experiment.objects.create(signal=signal, variant="B", assignment_hash="h", split_percentage=Decimal("0"), created_at=now)


def test_at_most_one_open_exit_order_per_position():
    signal = make_signal()
    entry = make_order(signal)
    now = timezone.now()
    position = Position.objects.create(
        entry_order=entry, symbol="SPY", option_symbol=entry.option_symbol, occ_symbol=entry.occ_symbol,
        strike=entry.strike, expiration=entry.expiration, type="call", quantity=2, initial_quantity=2,
        entry_price=Decimal("2.5"), entry_timestamp=now, last_updated=now, created_at=now,
    )
    make_order(None, side="exit", position=position)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_order(None, side="exit", position=position)
    Order.objects.filter(position=position).update(status="filled")
    make_order(None, side="exit", position=position)  # a filled exit frees the slot for the next partial


def test_experiment_split_percentage_is_a_percentage():
    signal = make_signal()
    with pytest.raises(IntegrityError), transaction.atomic():
        Experiment.objects.create(signal=signal, variant="A", assignment_hash="h", split_percentage=Decimal("100.5"),
                                  created_at=timezone.now(), experiment_id=uuid.uuid4())


def test_seeded_bias_config_equals_the_code_defaults():
    from bias_app.defaults import BIAS_CONFIG_DEFAULTS

    assert {c.config_key: c.config_json for c in BiasConfig.objects.all()} == BIAS_CONFIG_DEFAULTS
