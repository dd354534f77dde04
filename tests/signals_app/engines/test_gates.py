"""The pre-engine gates (SPEC §6): each rule at its boundary, exact reason codes, first block wins."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bias_app.engines.config import StalenessConfig
from bias_app.engines.gating import EntryGateConfig
from optionsengine.lib.option_contracts import expiry_moment
from signals_app.engines.gates import GateConfig, run_gates
from signals_app.engines.snapshot import (
    Confluence,
    DecisionInput,
    MarketSnapshot,
    OpenPosition,
    Portfolio,
    SignalFacts,
)

NOW = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)  # Fri 10:30 New York: regular hours, 10-minute staleness
NOW_MS = int(NOW.timestamp()) * 1000
EXPIRY = date(2026, 3, 20)
DROP = object()


def entry(behavior: str = "block", *, require_bias: bool = True) -> EntryGateConfig:
    staleness = StalenessConfig.from_mapping(
        {"behavior": behavior, "riskMultiplier": 0.7, "rthThresholdMinutes": 10, "dailyThresholdMinutes": 60}
    )
    return EntryGateConfig(require_bias=require_bias, staleness=staleness)


CONFIG = GateConfig(entry=entry())

# Fresh, unsuppressed, and passing every guard and setup rule in both directions.
CLEAN = {
    "updatedAtMs": NOW_MS - 60_000,
    "effective": {"suppressLong": False, "suppressShort": False, "tradeSuppressed": False, "notes": []},
    "macroClass": "MACRO_RANGE", "regimeType": "TREND", "chopScore": 30, "atrState15m": "NORMAL",
    "intentType": "PULLBACK", "trigger": {"triggered": True},
    "space": {"roomToResistance": "HIGH", "roomToSupport": "HIGH"},
    "liquidity": {"sweepHigh": False, "sweepLow": False, "reclaim": False},
    "riskContext": {"entryModeHint": "PULLBACK"},
    "transitions": {"macroFlip": False}, "acceleration": {"macroDriftScore": 0.05},
}


def state(**changes) -> dict:
    """CLEAN with dotted-path overrides written with `__` (space__roomToSupport="LOW"); DROP deletes."""
    result = copy.deepcopy(CLEAN)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = result
        for part in parents:
            node = node[part]
        if value is DROP:
            del node[leaf]
        else:
            node[leaf] = value
    return result


def pos(symbol="SPY", type="call", quantity=1, entry_price="2.00", pnl=None, greeks=None, expiration=EXPIRY, opened=NOW):
    return OpenPosition(
        symbol=symbol, type=type, quantity=quantity, entry_price=Decimal(entry_price), current_price=None,
        unrealized_pnl=None if pnl is None else Decimal(pnl), expiration=expiration, entry_timestamp=opened,
        greeks_at_entry=greeks,
    )


def others(count: int, type: str = "call") -> tuple[OpenPosition, ...]:
    """`count` positions in distinct symbols other than SPY."""
    return tuple(pos(symbol=f"X{n}", type=type) for n in range(count))


def decide(bias_state=CLEAN, *, direction="long", positions=(), frozen_until=None, now=NOW, config=CONFIG):
    signal = SignalFacts(
        signal_id="sig-1", symbol="SPY", direction=direction, timeframe="5m", timeframe_minutes=5,
        timestamp=now, signal_hash="h", is_test=False, payload={},
    )
    market = MarketSnapshot(
        price=Decimal("600"), price_stale=False, candles=(), mtf_candles={}, gex=None, flow=None, iv_rank=None, chain=None,
    )
    inp = DecisionInput(
        signal=signal, market=market, portfolio=Portfolio(positions=tuple(positions), breaker_frozen_until=frozen_until),
        bias_state=bias_state, setup_type="SCALP", confluence=Confluence(None, "unknown", Decimal("0.5"), True), now=now,
    )
    return run_gates(inp, config)


def gate(verdict, name):
    return next(c for c in verdict.checks if c.name == name)


ALL_GATES = ["bias", "portfolio_guard", "setup_validator", "drawdown_breaker", "greek_exposure"]


# --- bias -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("bias_state", "direction", "config", "reason", "multiplier"),
    [
        (None, "long", CONFIG, "mtf_bias_missing", "1"),
        (None, "long", GateConfig(entry=entry(require_bias=False)), None, "1"),
        (state(effective__suppressLong=True), "long", CONFIG, "trade_suppressed_by_bias", "1"),
        (state(effective__suppressLong=True), "short", CONFIG, None, "1"),
        (state(effective__suppressShort=True), "short", CONFIG, "trade_suppressed_by_bias", "1"),
        (state(updatedAtMs=NOW_MS - 600_000), "long", CONFIG, None, "1"),  # exactly 10 min: fresh
        (state(updatedAtMs=NOW_MS - 600_001), "long", CONFIG, "bias_state_stale", "1"),
        (state(updatedAtMs=NOW_MS - 600_001), "long", GateConfig(entry=entry("reduce_risk")), None, "0.7"),
    ],
)
def test_bias_gate_reason_and_staleness_multiplier(bias_state, direction, config, reason, multiplier):
    verdict = decide(bias_state, direction=direction, config=config)
    assert (verdict.reason, verdict.risk_multiplier) == (reason, Decimal(multiplier))


def test_no_bias_state_with_require_bias_off_skips_guard_and_validator_but_runs_portfolio_gates():
    verdict = decide(None, config=GateConfig(entry=entry(require_bias=False)), positions=[pos(pnl="-30", entry_price="10")])
    assert [c.name for c in verdict.checks] == ["bias", "portfolio_guard", "setup_validator", "drawdown_breaker"]
    assert gate(verdict, "portfolio_guard").detail == gate(verdict, "setup_validator").detail == "skipped: no bias state"
    assert verdict.reason == "drawdown_circuit_breaker"


@pytest.mark.parametrize(
    ("config", "reason", "multiplier"),
    [(CONFIG, "bias_state_stale", "1"), (GateConfig(entry=entry("reduce_risk")), None, "0.7")],
)
def test_a_state_without_updated_at_is_treated_as_of_unknown_age(config, reason, multiplier):
    verdict = decide(state(updatedAtMs=DROP), config=config)
    assert (verdict.reason, verdict.risk_multiplier) == (reason, Decimal(multiplier))
    assert gate(verdict, "bias").detail.endswith("(no updatedAtMs: age unknown)")


# --- portfolio guard --------------------------------------------------------------------------------

GUARD = "portfolio_guard_block"
BEARISH, BULLISH = "MACRO_TREND_DOWN", "MACRO_TREND_UP"


def range_breakout(**changes) -> dict:
    return state(regimeType="RANGE", riskContext__entryModeHint="BREAKOUT", **changes)


def range_mean_revert(**changes) -> dict:
    return state(regimeType="RANGE", riskContext__entryModeHint="MEAN_REVERT", **changes)


@pytest.mark.parametrize(
    ("bias_state", "direction", "positions", "reason"),
    [
        (CLEAN, "long", [pos()], None),
        (CLEAN, "long", [pos(), pos()], f"{GUARD}:MAX_SAME_DIRECTION_PER_SYMBOL_CLUSTER"),
        (CLEAN, "short", [pos(), pos()], f"{GUARD}:MAX_POSITIONS_PER_SYMBOL"),
        (CLEAN, "long", [pos(), pos(type="put")], f"{GUARD}:MAX_POSITIONS_PER_SYMBOL"),
        # macro cluster: positions on the side the macro argues against, any symbol
        (state(macroClass=BEARISH), "long", others(2), None),
        (state(macroClass=BEARISH), "long", others(3), f"{GUARD}:MACRO_BIAS_CLUSTER"),
        (state(macroClass="MACRO_BREAKDOWN_CONFIRMED"), "long", others(3), f"{GUARD}:MACRO_BIAS_CLUSTER"),
        (state(macroClass=BEARISH), "short", others(3), None),  # a short does not add to the long cluster
        (state(macroClass=BULLISH), "short", others(3, "put"), f"{GUARD}:MACRO_BIAS_CLUSTER"),
        (state(macroClass=BULLISH), "long", others(3), None),
        # a breakout in a choppy range
        (range_breakout(chopScore=70), "long", [], "setup_invalid:RANGE_SUPPRESSION_NON_MEAN_REVERT"),  # guard passes
        (range_breakout(chopScore=70.01), "long", [], f"{GUARD}:RANGE_BREAKOUT_BLOCKED"),
        (state(regimeType="TREND", chopScore=90, riskContext__entryModeHint="BREAKOUT"), "long", [], None),
        # open-trade cap counts every open position
        (CLEAN, "long", others(7), None),
        (CLEAN, "long", others(8), f"{GUARD}:MAX_OPEN_TRADES"),
    ],
)
def test_portfolio_guard_rules_at_their_boundaries(bias_state, direction, positions, reason):
    assert decide(bias_state, direction=direction, positions=positions).reason == reason


def test_open_trade_and_per_symbol_caps_are_configurable():
    config = replace(CONFIG, max_open_trades=3, max_positions_per_symbol=1)
    assert decide(positions=others(3), config=config).reason == f"{GUARD}:MAX_OPEN_TRADES"
    assert decide(positions=[pos(type="put")], config=config).reason == f"{GUARD}:MAX_POSITIONS_PER_SYMBOL"


@pytest.mark.parametrize(
    ("bias_state", "positions", "notes"),
    [
        (state(acceleration__macroDriftScore=0.15), [], ()),
        (state(acceleration__macroDriftScore=0.1501), [], ("MACRO_DRIFT_GUARD",)),
        (state(transitions__macroFlip=True), [], ("MACRO_DRIFT_GUARD",)),
        (range_mean_revert(chopScore=71), others(1), ()),
        (range_mean_revert(chopScore=71), others(2), ("RANGE_REGIME_DIRECTIONAL_CAP",)),
        (range_mean_revert(chopScore=71), others(2, "put"), ()),
        (state(atrState15m="EXPANDING", macroClass="MACRO_REVERSAL_RISK"), [], ("VOLATILITY_EXPANSION_GUARD",)),
        (state(atrState15m="EXPANDING", macroClass="MACRO_RANGE"), [], ("VOLATILITY_EXPANSION_GUARD",)),
        (state(atrState15m="EXPANDING", macroClass=BULLISH), [], ()),
        (state(atrState15m="NORMAL", macroClass="MACRO_REVERSAL_RISK"), [], ()),
    ],
)
def test_guard_notes_downgrade_without_blocking(bias_state, positions, notes):
    verdict = decide(bias_state, positions=positions)
    assert verdict.passed
    assert gate(verdict, "portfolio_guard").notes == notes


def test_notes_found_before_a_guard_block_stay_on_the_blocking_check():
    blocked = range_breakout(chopScore=80, transitions__macroFlip=True)
    check = gate(decide(blocked), "portfolio_guard")
    assert (check.passed, check.reason, check.notes) == (False, f"{GUARD}:RANGE_BREAKOUT_BLOCKED", ("MACRO_DRIFT_GUARD",))


def test_disabled_guard_is_skipped():
    verdict = decide(positions=others(8), config=replace(CONFIG, portfolio_guard_enabled=False))
    assert verdict.passed
    assert gate(verdict, "portfolio_guard").detail == "skipped: portfolio guard disabled"


# --- setup validator --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("changes", "direction", "reason"),
    [
        ({"intentType": "BREAKOUT", "space__roomToResistance": "LOW"}, "long", "BREAKOUT_WITHOUT_SPACE"),
        ({"intentType": "BREAKOUT", "space__roomToResistance": "MEDIUM"}, "long", None),
        ({"intentType": "BREAKOUT", "space__roomToSupport": "LOW"}, "long", None),
        ({"intentType": "BREAKOUT", "space__roomToSupport": "LOW"}, "short", "BREAKOUT_WITHOUT_SPACE"),
        ({"intentType": "BREAKOUT", "space__roomToResistance": "LOW"}, "short", None),  # the reference blocked this
        ({"intentType": "PULLBACK", "space__roomToResistance": "LOW"}, "long", None),
        ({"trigger__triggered": False}, "long", "NO_TRIGGER_CONFIRMATION"),
        ({"trigger__triggered": False}, "short", "NO_TRIGGER_CONFIRMATION"),
        ({"liquidity__sweepHigh": True}, "long", "LIQUIDITY_TRAP_CONTINUATION"),
        ({"liquidity__sweepHigh": True, "liquidity__reclaim": True}, "long", None),
        ({"liquidity__sweepHigh": True}, "short", None),
        ({"liquidity__sweepLow": True}, "short", "LIQUIDITY_TRAP_CONTINUATION"),
        ({"liquidity__sweepLow": True, "liquidity__reclaim": True}, "short", None),
        ({"liquidity__sweepLow": True}, "long", None),
        ({"regimeType": "RANGE", "riskContext__entryModeHint": "PULLBACK"}, "long", "RANGE_SUPPRESSION_NON_MEAN_REVERT"),
        ({"regimeType": "RANGE", "riskContext__entryModeHint": "NO_TRADE"}, "short", "RANGE_SUPPRESSION_NON_MEAN_REVERT"),
        ({"regimeType": "RANGE", "riskContext__entryModeHint": "MEAN_REVERT"}, "long", None),
    ],
)
def test_each_setup_rule_by_direction(changes, direction, reason):
    expected = None if reason is None else f"setup_invalid:{reason}"
    assert decide(state(**changes), direction=direction).reason == expected


def test_setup_reasons_are_all_collected_in_a_fixed_order():
    bad = state(
        regimeType="RANGE", intentType="BREAKOUT", space__roomToResistance="LOW", trigger__triggered=False,
        liquidity__sweepHigh=True,
    )
    assert decide(bad).reason == (
        "setup_invalid:BREAKOUT_WITHOUT_SPACE,NO_TRIGGER_CONFIRMATION,"
        "LIQUIDITY_TRAP_CONTINUATION,RANGE_SUPPRESSION_NON_MEAN_REVERT"
    )


MINIMAL = {"updatedAtMs": NOW_MS}


@pytest.mark.parametrize(
    "partial",
    [
        {},
        {"effective": {}},
        {"intentType": "BREAKOUT"},  # no space: cannot judge room
        {"intentType": "BREAKOUT", "space": None},
        {"intentType": "BREAKOUT", "space": "LOW"},
        {"trigger": {}},
        {"trigger": {"triggered": None}},
        {"liquidity": {"sweepHigh": True}},  # reclaim unknown
        {"liquidity": {"sweepHigh": True, "reclaim": None}},
        {"regimeType": "RANGE"},  # no entry-mode hint: strategy unknown
        {"regimeType": "RANGE", "chopScore": "high", "riskContext": {}},
        {"macroClass": ["MACRO_TREND_DOWN"]},
        {"macroClass": BULLISH, "acceleration": None, "transitions": "flip"},
        {"atrState15m": "EXPANDING"},
        {"chopScore": True, "regimeType": "RANGE", "riskContext": {"entryModeHint": "MEAN_REVERT"}},
    ],
)
def test_a_bias_state_with_missing_fields_never_raises_and_missing_rules_cannot_fire(partial):
    verdict = decide({**MINIMAL, **partial}, positions=others(3))
    assert verdict.passed
    assert [c.name for c in verdict.checks] == ALL_GATES


# --- drawdown breaker -------------------------------------------------------------------------------

TRIP = "drawdown_circuit_breaker"

@pytest.mark.parametrize(
    ("frozen_until", "reason"),
    [
        (NOW + timedelta(seconds=1), "drawdown_circuit_breaker"),
        (NOW, None),
        (NOW - timedelta(seconds=1), None),
    ],
)
def test_an_active_freeze_blocks_until_it_ends(frozen_until, reason):
    verdict = decide(frozen_until=frozen_until)
    assert (verdict.reason, verdict.breaker_trip) == (reason, None)


@pytest.mark.parametrize(
    ("positions", "reason"),
    [
        ([pos(entry_price="1.00", quantity=10, pnl="-29.99")], None),  # cost 1000.00 → 2.999 %
        ([pos(entry_price="1.00", quantity=10, pnl="-30.00")], TRIP),  # exactly 3 %
        # a winner does not offset a loser: 30 / 1000 = 3 %
        ([pos(quantity=5, entry_price="1.00", pnl="-30"), pos("QQQ", quantity=5, entry_price="1.00", pnl="50")], TRIP),
        # a position without a mark is left out of the cost basis too
        ([pos(quantity=10, entry_price="1.00", pnl="-30"), pos("QQQ", quantity=10, entry_price="1.00")], TRIP),
        ([pos(entry_price="1.00", quantity=10, pnl="-30"), pos("QQQ", entry_price="1.00", quantity=10, pnl="0")], None),
        ([], None),
    ],
)
def test_drawdown_is_unrealized_losses_over_open_cost_and_trips_at_3_percent(positions, reason):
    assert decide(positions=positions).reason == reason


def test_a_trip_returns_the_freeze_for_the_service_to_persist():
    verdict = decide(positions=[pos(entry_price="2.50", quantity=4, pnl="-40.00")])  # 40 / 1000 = 4 %
    assert verdict.breaker_trip == {"freeze_until": NOW + timedelta(minutes=30), "drawdown_pct": Decimal("4")}
    assert gate(verdict, "drawdown_breaker").detail == "drawdown 4.00 % of open cost (limit 3 %)"


# --- greek exposure ---------------------------------------------------------------------------------

def greeks(delta="0", gamma="0", vega="0") -> dict:
    return {"delta": delta, "gamma": gamma, "theta": "-0.1", "vega": vega}


@pytest.mark.parametrize(
    ("positions", "reason"),
    [
        ([pos(quantity=10, greeks=greeks(delta="0.5"))], None),  # net delta exactly 500
        ([pos(quantity=10, greeks=greeks(delta="0.501"))], "gamma_exposure_limit"),
        ([pos(type="put", quantity=10, greeks=greeks(delta="-0.501"))], "gamma_exposure_limit"),
        ([pos(quantity=10, greeks=greeks(delta="0.6")), pos("QQQ", type="put", quantity=10, greeks=greeks(delta="-0.6"))], None),
        ([pos(quantity=10, greeks=greeks(gamma="0.2"))], None),
        ([pos(quantity=10, greeks=greeks(gamma="0.201"))], "gamma_exposure_limit"),
        ([pos(quantity=10, greeks=greeks(vega="1.0"))], None),
        ([pos(quantity=10, greeks=greeks(vega="1.001"))], "gamma_exposure_limit"),
        ([pos(quantity=10, greeks={"delta": 0.501, "gamma": 0.0, "vega": 0.0})], "gamma_exposure_limit"),  # JSON floats
    ],
)
def test_net_greeks_block_strictly_above_their_limits(positions, reason):
    assert decide(positions=positions).reason == reason


@pytest.mark.parametrize(
    ("minutes_before_expiry", "reason"),
    [
        (24 * 60, None),  # exactly one day left: factor (1/1)^0.3 = 1 → net delta 400
        (24 * 60 - 1, "gamma_exposure_limit"),  # inside the last day: factor 1.5 → 600
    ],
)
def test_positions_inside_their_last_day_weigh_one_and_a_half(minutes_before_expiry, reason):
    now = expiry_moment(EXPIRY) - timedelta(minutes=minutes_before_expiry)
    position = pos(quantity=10, greeks=greeks(delta="0.4"), opened=now)
    assert decide(state(updatedAtMs=int(now.timestamp()) * 1000), positions=[position], now=now).reason == reason


def test_exposure_decays_with_the_share_of_time_to_expiry_left():
    # 7.2292 days left now, 14.4583 at entry: half the time left → factor 0.5 ^ 0.3 ≈ 0.8123.
    opened = NOW - (expiry_moment(EXPIRY) - NOW)
    position = pos(quantity=10, greeks=greeks(delta="0.6"), opened=opened)  # undecayed 600, decayed ≈ 487.4
    verdict = decide(positions=[position])
    assert verdict.passed
    assert gate(verdict, "greek_exposure").detail.startswith("net delta 487.35 (limit ±500)")


@pytest.mark.parametrize("entry_greeks", [None, {}, {"delta": "0.9", "gamma": "0.1"}, greeks(delta="n/a"), "0.9"])
def test_positions_without_usable_greeks_are_skipped_and_noted(entry_greeks):
    verdict = decide(positions=[pos(quantity=10, greeks=entry_greeks), pos("QQQ", quantity=1, greeks=greeks(delta="0.5"))])
    check = gate(verdict, "greek_exposure")
    assert (check.passed, check.notes) == (True, ("POSITIONS_WITHOUT_GREEKS",))
    assert check.detail == (
        "net delta 50.00 (limit ±500), net gamma 0.00 (limit ±200), net vega 0.00 (limit ±1000); "
        "1 position(s) without entry greeks skipped"
    )


# --- order ------------------------------------------------------------------------------------------

FROZEN = NOW + timedelta(minutes=5)
OVER_DELTA = pos("QQQ", quantity=20, greeks=greeks(delta="0.9"))


@pytest.mark.parametrize(
    ("bias_state", "positions", "frozen_until", "reason", "checked"),
    [
        (state(effective__suppressLong=True, updatedAtMs=0), [pos(), pos()], FROZEN, "trade_suppressed_by_bias", 1),
        (state(updatedAtMs=0, trigger__triggered=False), [pos(), pos()], FROZEN, "bias_state_stale", 1),
        (state(trigger__triggered=False), [pos(), pos()], FROZEN, f"{GUARD}:MAX_SAME_DIRECTION_PER_SYMBOL_CLUSTER", 2),
        (state(trigger__triggered=False), [OVER_DELTA], FROZEN, "setup_invalid:NO_TRIGGER_CONFIRMATION", 3),
        (CLEAN, [OVER_DELTA], FROZEN, "drawdown_circuit_breaker", 4),
        (CLEAN, [OVER_DELTA], None, "gamma_exposure_limit", 5),
        (CLEAN, [], None, None, 5),
    ],
)
def test_gates_run_in_spec_order_and_the_first_block_wins(bias_state, positions, frozen_until, reason, checked):
    verdict = decide(bias_state, positions=positions, frozen_until=frozen_until)
    assert verdict.reason == reason
    assert [c.name for c in verdict.checks] == ALL_GATES[:checked]
    assert [c.passed for c in verdict.checks] == [True] * (checked - 1) + [reason is None]


def test_staleness_multiplier_survives_a_pass_through_every_gate():
    verdict = decide(state(updatedAtMs=0), config=GateConfig(entry=entry("reduce_risk")))
    assert (verdict.passed, verdict.risk_multiplier, verdict.breaker_trip) == (True, Decimal("0.7"), None)
