from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from optionsengine.marketdata.types import DealerPosition, GexSnapshot
from signals_app.engines.engine_a import (
    ALL_PASSED,
    GEX_RESISTANCE,
    LOW_SIGNAL_CONFIDENCE,
    PORTFOLIO_DELTA_LIMIT,
    PORTFOLIO_THETA_LIMIT,
    REGIME_CONFLICT,
    UNFAVORABLE_TIMING,
    UNSAFE_LIQUIDITY,
    VOLATILITY_MISMATCH,
    bias_regime,
    decide_engine_a,
    liquidity_state,
    signal_confidence,
    timing_window,
)
from signals_app.engines.outcome import ENTER, HOLD, WAIT, ContractChoice
from signals_app.engines.reasons import NO_STRIKE_NEAR_MONEY
from signals_app.engines.snapshot import (
    LEAPS,
    POSITION,
    SCALP,
    SWING,
    Confluence,
    DecisionInput,
    MarketSnapshot,
    OpenPosition,
    Portfolio,
    SignalFacts,
)

NOW = datetime(2026, 3, 13, 15, 0, tzinfo=UTC)  # Fri 11:00 New York (EDT): no timing window


def contract(spread="2.00", oi=1000) -> ContractChoice:
    return ContractChoice(
        right="call", strike=Decimal("600"), expiration=date(2026, 3, 20), entry_price=Decimal("2.1000"),
        dte=7, rationale={"spread_pct": spread, "open_interest": oi, "volume": 50},
    )


def gex(net: str, dealer: DealerPosition | None = None) -> GexSnapshot:
    """Dealer position follows the sign of net GEX unless given (as the GEX module classifies it)."""
    if dealer is None:
        value = Decimal(net)
        dealer = DealerPosition.LONG_GAMMA if value > 0 else DealerPosition.SHORT_GAMMA if value < 0 else DealerPosition.NEUTRAL
    return GexSnapshot(
        symbol="SPY", spot=Decimal("600"), net_gex=Decimal(net), call_gex=Decimal(0), put_gex=Decimal(0),
        zero_gamma_level=None, dealer_position=dealer, as_of=NOW, provider="fixture",
    )


def position(quantity=1, **greeks) -> OpenPosition:
    return OpenPosition(
        symbol="QQQ", type="call", quantity=quantity, entry_price=Decimal("3"), current_price=None,
        unrealized_pnl=None, expiration=date(2026, 4, 17), entry_timestamp=NOW, greeks_at_entry=greeks or None,
    )


def make_input(
    *, direction="long", setup=SWING, payload=None, now=NOW, iv_rank=None, gex_snapshot=None,
    positions=(), bias_state=None, is_test=False,
) -> DecisionInput:
    signal = SignalFacts(
        signal_id="sig-1", symbol="SPY", direction=direction, timeframe="1h", timeframe_minutes=60,
        timestamp=now, signal_hash="h", is_test=is_test, payload={"confidence": 80} if payload is None else payload,
    )
    market = MarketSnapshot(
        price=Decimal("600"), price_stale=False, candles=(), mtf_candles={}, gex=gex_snapshot, flow=None,
        iv_rank=None if iv_rank is None else Decimal(iv_rank), chain=None,
    )
    return DecisionInput(
        signal=signal, market=market, portfolio=Portfolio(positions=tuple(positions)), bias_state=bias_state,
        setup_type=setup, confluence=Confluence(score=80, tier="full", multiplier=Decimal(1), passes=True), now=now,
    )


def rules_of(decision) -> list[str]:
    return decision.rationale["rules"]


# --- confidence ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"confidence": 82}, "82"),
        ({"confidence": "77.5"}, "77.5"),  # numeric strings count
        ({"confidence": "high", "score": 66}, "66"),  # first *numeric* key wins
        ({"signal": {"confidence": 61}}, "61"),
        ({"meta": {"confidence": "59"}}, "59"),
        ({"confidence": True, "meta": {"confidence": 64}}, "64"),  # booleans are not numbers
        ({"confidence": 0.8}, "0.8"),  # a 0–1 fraction is not rescaled
        ({"confidence": 150}, "100"),
        ({"confidence": -5}, "0"),
        ({}, "70"),
        ({"confidence": "NaN"}, "70"),
    ],
)
def test_signal_confidence_first_numeric_key_clamped(payload, expected):
    assert signal_confidence(payload) == Decimal(expected)


# --- tier 1 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "passing", "blocked"),
    [(SCALP, "65", "64.99"), (SWING, "60", "59.99"), (POSITION, "55", "54.99"), (LEAPS, "50", "49.99")],
)
def test_low_signal_confidence_minimum_per_setup_type(setup, passing, blocked):
    assert decide_engine_a(make_input(setup=setup, payload={"confidence": passing}), contract()).decision == ENTER
    decision = decide_engine_a(make_input(setup=setup, payload={"confidence": blocked}), contract())
    assert (decision.decision, decision.reason) == (HOLD, "entry_tier_block:LOW_SIGNAL_CONFIDENCE")


def test_fractional_confidence_blocks_instead_of_being_rescaled():
    decision = decide_engine_a(make_input(payload={"confidence": 0.95}), contract())
    assert rules_of(decision) == [LOW_SIGNAL_CONFIDENCE]


@pytest.mark.parametrize(
    ("state", "regime"),
    [
        ({"regimeType": "TREND", "bias": "BULLISH"}, "BULL"),
        ({"regimeType": "TREND", "bias": "BEARISH"}, "BEAR"),
        ({"regimeType": "TREND", "bias": "NEUTRAL"}, None),
        ({"regimeType": "RANGE", "bias": "BEARISH"}, None),
        (None, None),
    ],
)
def test_regime_comes_from_trending_bias_state_only(state, regime):
    assert bias_regime(state) == regime


@pytest.mark.parametrize(
    ("direction", "bias", "conflict"),
    [("long", "BEARISH", True), ("long", "BULLISH", False), ("short", "BULLISH", True), ("short", "BEARISH", False)],
)
def test_regime_conflict_against_a_trending_bias(direction, bias, conflict):
    inp = make_input(direction=direction, bias_state={"regimeType": "TREND", "bias": bias})
    assert (REGIME_CONFLICT in rules_of(decide_engine_a(inp, contract()))) is conflict


@pytest.mark.parametrize("dealer", list(DealerPosition))
def test_dealer_gamma_never_makes_a_regime_conflict(dealer):
    snapshot = dataclasses.replace(gex("0"), dealer_position=dealer)
    for direction in ("long", "short"):
        decision = decide_engine_a(make_input(direction=direction, gex_snapshot=snapshot), contract())
        assert decision.decision == ENTER


@pytest.mark.parametrize(
    ("setup", "low", "high"),
    [(SCALP, "25", "80"), (SWING, "20", "85"), (POSITION, "15", "90"), (LEAPS, "10", "95")],
)
def test_volatility_band_is_inclusive_per_setup_type(setup, low, high):
    def rules(iv):
        return rules_of(decide_engine_a(make_input(setup=setup, iv_rank=iv), contract()))

    assert VOLATILITY_MISMATCH not in rules(low)
    assert VOLATILITY_MISMATCH not in rules(high)
    assert VOLATILITY_MISMATCH in rules(str(Decimal(low) - Decimal("0.01")))
    assert VOLATILITY_MISMATCH in rules(str(Decimal(high) + Decimal("0.01")))


def test_unknown_iv_rank_skips_the_volatility_rule():
    assert decide_engine_a(make_input(setup=SCALP, iv_rank=None), contract()).decision == ENTER


@pytest.mark.parametrize(
    ("positions", "expected"),
    [
        ([position(2, delta="1.995")], []),  # 399
        ([position(2, delta="2")], [PORTFOLIO_DELTA_LIMIT]),  # 400
        ([position(4, delta="0.5"), position(4, delta="0.5")], [PORTFOLIO_DELTA_LIMIT]),  # summed
        ([position(4, delta="-1")], [PORTFOLIO_DELTA_LIMIT]),  # absolute: −400
        ([position(4, delta="1"), position(4, delta="-1")], []),  # long calls and puts net out
        ([position(1, theta="-2.49")], []),  # −249 USD/day
        ([position(1, theta="-2.5")], [PORTFOLIO_THETA_LIMIT]),  # −250
        ([position(5, delta="0.9", theta="-0.6")], [PORTFOLIO_DELTA_LIMIT, PORTFOLIO_THETA_LIMIT]),
        ([position(9)], []),  # no entry greeks: contributes nothing
    ],
)
def test_portfolio_delta_and_theta_limits(positions, expected):
    assert rules_of(decide_engine_a(make_input(positions=positions), contract())) == expected


@pytest.mark.parametrize(
    ("spread", "oi", "state"),
    [
        ("8", 200, "NORMAL"),
        ("8.01", 200, "LOW"),
        ("8", 199, "LOW"),
        ("15", 50, "LOW"),
        ("15.01", 5000, "ILLIQUID"),
        ("1", 49, "ILLIQUID"),
        (None, 1000, "NORMAL"),  # unknown spread: judged by OI alone
        ("20", None, "ILLIQUID"),
        (None, None, None),  # nothing known: not judged
    ],
)
def test_liquidity_state_thresholds(spread, oi, state):
    assert liquidity_state(None if spread is None else Decimal(spread), oi) == state


@pytest.mark.parametrize(
    ("setup", "spread", "blocked"),
    [
        (SCALP, "8", False),
        (SCALP, "8.01", True),  # LOW is not enough for a scalp
        (SWING, "15", False),  # LOW is fine for longer holds
        (SWING, "15.01", True),
        (LEAPS, "15.01", True),
    ],
)
def test_unsafe_liquidity_by_setup_type(setup, spread, blocked):
    inp = make_input(setup=setup, payload={"confidence": 90})
    assert (UNSAFE_LIQUIDITY in rules_of(decide_engine_a(inp, contract(spread=spread)))) is blocked


def test_every_triggered_block_is_reported_together():
    inp = make_input(
        setup=SCALP, payload={"confidence": 10}, iv_rank="5",
        bias_state={"regimeType": "TREND", "bias": "BEARISH"}, positions=[position(8, delta="0.5", theta="-0.4")],
    )
    decision = decide_engine_a(inp, contract(spread="30"))
    assert decision.reason == (
        "entry_tier_block:LOW_SIGNAL_CONFIDENCE,REGIME_CONFLICT,VOLATILITY_MISMATCH,"
        "PORTFOLIO_DELTA_LIMIT,PORTFOLIO_THETA_LIMIT,UNSAFE_LIQUIDITY"
    )
    assert decision.contract is None
    (vote,) = decision.votes
    assert (vote.block, vote.bias, vote.confidence, vote.metadata["tier"]) == (True, "neutral", 0, 1)
    assert vote.reasons == tuple(rules_of(decision))


def test_block_takes_precedence_over_wait_and_a_missing_contract():
    inp = make_input(payload={"confidence": 1}, gex_snapshot=gex("2e9"))
    decision = decide_engine_a(inp, NO_STRIKE_NEAR_MONEY)
    assert (decision.decision, decision.reason) == (HOLD, "entry_tier_block:LOW_SIGNAL_CONFIDENCE")


# --- tier 2 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "net", "waits"),
    [
        ("long", "1000000000", False),  # exactly +1e9 is not "high"
        ("long", "1000000000.01", True),
        ("long", "-5e9", False),
        ("short", "-1000000000", False),
        ("short", "-1000000000.01", True),
        ("short", "5e9", False),
    ],
)
def test_gex_resistance_against_the_trade(direction, net, waits):
    decision = decide_engine_a(make_input(direction=direction, gex_snapshot=gex(net)), contract())
    assert (decision.decision == WAIT) is waits
    if waits:
        assert (decision.reason, rules_of(decision)) == ("entry_wait", [GEX_RESISTANCE])


@pytest.mark.parametrize(("direction", "net"), [("long", "5e9"), ("short", "-5e9")])
def test_large_net_gex_is_no_resistance_when_dealers_are_classified_neutral(direction, net):
    """Net GEX small against gross gamma (the GEX module's neutral band) does not pin price."""
    snapshot = gex(net, DealerPosition.NEUTRAL)
    assert decide_engine_a(make_input(direction=direction, gex_snapshot=snapshot), contract()).decision != WAIT


@pytest.mark.parametrize(
    ("moment", "setup", "window"),
    [
        # EDT (UTC−4): open 13:30 UTC.
        (datetime(2026, 3, 13, 13, 30, tzinfo=UTC), SWING, "opening 15 minutes"),
        (datetime(2026, 3, 13, 13, 44, 59, tzinfo=UTC), SWING, "opening 15 minutes"),
        (datetime(2026, 3, 13, 13, 45, tzinfo=UTC), SWING, None),
        (datetime(2026, 3, 13, 19, 44, 59, tzinfo=UTC), SWING, None),
        (datetime(2026, 3, 13, 19, 45, tzinfo=UTC), SWING, "closing 15 minutes"),
        (datetime(2026, 3, 13, 19, 59, 59, tzinfo=UTC), SWING, "closing 15 minutes"),
        (datetime(2026, 3, 13, 20, 0, tzinfo=UTC), SWING, None),  # closed: not this rule's business
        # EST (UTC−5), the Friday before the DST switch: open 14:30 UTC.
        (datetime(2026, 3, 6, 13, 40, tzinfo=UTC), SWING, None),  # 08:40 New York, pre-market
        (datetime(2026, 3, 6, 14, 40, tzinfo=UTC), SWING, "opening 15 minutes"),
        (datetime(2026, 3, 6, 20, 50, tzinfo=UTC), SWING, "closing 15 minutes"),
        # Lunch 12:00–13:00 New York, SCALP only.
        (datetime(2026, 3, 13, 15, 59, 59, tzinfo=UTC), SCALP, None),
        (datetime(2026, 3, 13, 16, 0, tzinfo=UTC), SCALP, "SCALP during New York lunch"),
        (datetime(2026, 3, 13, 16, 59, 59, tzinfo=UTC), SCALP, "SCALP during New York lunch"),
        (datetime(2026, 3, 13, 17, 0, tzinfo=UTC), SCALP, None),
        (datetime(2026, 3, 13, 16, 30, tzinfo=UTC), SWING, None),
        # Day after Thanksgiving 2026-11-27 (EST) closes at 13:00: the close window is 12:45–13:00.
        (datetime(2026, 11, 27, 17, 44, 59, tzinfo=UTC), SWING, None),
        (datetime(2026, 11, 27, 17, 45, tzinfo=UTC), SWING, "closing 15 minutes"),
        (datetime(2026, 11, 27, 17, 45, tzinfo=UTC), SCALP, "closing 15 minutes"),
        (datetime(2026, 11, 27, 18, 0, tzinfo=UTC), SWING, None),  # after the early close
        (datetime(2026, 11, 27, 20, 50, tzinfo=UTC), SWING, None),  # 15:50: a normal day's window
        # Holiday: no session, no window.
        (datetime(2026, 7, 3, 13, 35, tzinfo=UTC), SWING, None),
    ],
)
def test_timing_windows_in_new_york_time(moment, setup, window):
    assert timing_window(moment, setup) == window


def test_unfavorable_timing_waits():
    inp = make_input(now=datetime(2026, 11, 27, 17, 50, tzinfo=UTC))
    decision = decide_engine_a(inp, contract())
    assert (decision.decision, decision.reason, rules_of(decision)) == (WAIT, "entry_wait", [UNFAVORABLE_TIMING])
    assert decision.votes[0].block is False
    assert decision.votes[0].metadata["tier"] == 2


def test_test_signals_skip_the_timing_rule():
    inp = make_input(now=datetime(2026, 3, 13, 13, 31, tzinfo=UTC), is_test=True)
    assert decide_engine_a(inp, contract()).decision == ENTER


# --- tier 3 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("direction", "bias"), [("long", "bullish"), ("short", "bearish")])
def test_enter_carries_the_contract_and_a_directional_vote(direction, bias):
    chosen = contract()
    decision = decide_engine_a(make_input(direction=direction, payload={"confidence": "84.5"}), chosen)
    assert (decision.engine, decision.decision, decision.reason) == ("A", ENTER, None)
    assert decision.contract is chosen
    assert decision.quantity is None  # sizing sets it
    (vote,) = decision.votes
    assert (vote.agent_name, vote.agent_type, vote.bias) == ("engine_a_entry_decision", "core", bias)
    assert (vote.confidence, vote.block, vote.reasons) == (85, False, (ALL_PASSED,))
    assert vote.metadata == {"tier": 3, "rules": [], "setup_type": SWING}


@pytest.mark.parametrize("reason", [NO_STRIKE_NEAR_MONEY, "option_quote_unavailable"])
def test_missing_contract_holds_with_its_reason(reason):
    decision = decide_engine_a(make_input(), reason)
    assert (decision.decision, decision.reason, decision.contract) == (HOLD, reason, None)
    (vote,) = decision.votes
    assert (vote.bias, vote.confidence, vote.block, vote.reasons) == ("neutral", 0, False, (ALL_PASSED, reason))


def test_unknown_setup_type_is_an_error():
    with pytest.raises(ValueError):
        decide_engine_a(make_input(setup="SCALP_GUARDED"), contract())


def test_rationale_records_what_each_rule_saw():
    inp = make_input(
        iv_rank="42.5", bias_state={"regimeType": "TREND", "bias": "BULLISH"},
        positions=[position(2, delta="0.5", theta="-0.1")],
    )
    rationale = decide_engine_a(inp, contract(spread="9")).rationale
    assert rationale == {
        "confidence": "80", "setup_type": SWING, "regime": "BULL", "iv_rank": "42.5",
        "portfolio_delta": "100.0", "portfolio_theta": "-20.0", "liquidity": "LOW", "timing": None,
        "tier": 3, "rules": [],
    }
