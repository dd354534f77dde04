"""Engine B specialists: gamma + flow, opening-range breakout, The Strat, TTM squeeze."""

from __future__ import annotations

import pytest

from signals_app.engines.agents.specialists import gamma_flow_agent, orb_specialist, strat_specialist, ttm_specialist
from signals_app.engines.outcome import BEARISH, BULLISH, NEUTRAL
from signals_app.engines.snapshot import LONG, SHORT, Indicators
from tests.signals_app.engines.agent_builders import bars, decision_input, flow, gex, ny

# --- gamma + flow ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gex_net", "calls", "puts", "bias", "confidence"),
    [
        ("1000", 300, 100, BULLISH, 85),
        ("-1000", 100, 300, BEARISH, 85),
        ("1000", 100, 300, NEUTRAL, 45),  # the two readings cancel
        ("1000", 0, 0, BULLISH, 65),  # no flow entries: GEX alone
        (None, 200, 200, NEUTRAL, 45),
        (None, 0, 50, BEARISH, 65),
        ("0", 0, 0, NEUTRAL, 45),
    ],
)
def test_gamma_flow_adds_gex_sign_and_call_put_volume(gex_net, calls, puts, bias, confidence):
    inp = decision_input(gex=None if gex_net is None else gex(net=gex_net), flow=flow(calls, puts))
    vote = gamma_flow_agent(inp)
    assert (vote.bias, vote.confidence, vote.agent_type) == (bias, confidence, "specialist")


def test_gamma_flow_is_omitted_without_gex_or_flow_entries():
    assert gamma_flow_agent(decision_input(flow=flow(0, 0))) is None


# --- opening-range breakout --------------------------------------------------------------------

WINTER = (2026, 1, 15)  # EST: the open is 14:30 UTC
SUMMER = (2026, 7, 15)  # EDT: the open is 13:30 UTC
DST_MONDAY = (2026, 3, 9)  # first session after the spring-forward weekend


def session_5m(day: tuple, ranges: list[tuple], first=(9, 30)) -> tuple:
    return bars(*ranges, start=ny(*day, *first))


# 09:25 pre-market spike (ignored), the 09:30/09:35/09:40 range 101–99, then later bars.
OPENING = [(110, 100), (100.5, 99), (101, 99.5), (100.8, 99.2), (102, 100), (103, 101)]


@pytest.mark.parametrize("day", [WINTER, SUMMER, DST_MONDAY])
@pytest.mark.parametrize(
    ("price", "bias", "confidence"),
    [("101.01", BULLISH, 80), ("98.99", BEARISH, 80), ("101", NEUTRAL, 40), ("99", NEUTRAL, 40)],
)
def test_orb_compares_price_with_todays_new_york_opening_range(day, price, bias, confidence):
    candles = session_5m(day, OPENING, first=(9, 25))
    vote = orb_specialist(decision_input(now=ny(*day, 10, 0), price=price, mtf_candles={"5m": candles}))
    assert (vote.bias, vote.confidence) == (bias, confidence)
    assert (vote.metadata["orb_high"], vote.metadata["orb_low"]) == ("101", "99")


@pytest.mark.parametrize(
    ("hour", "minute", "second", "active"),
    [(9, 44, 59, False), (9, 45, 0, True), (11, 29, 59, True), (11, 30, 0, False)],
)
@pytest.mark.parametrize("day", [WINTER, SUMMER])
def test_orb_is_active_from_range_completion_until_11_30_new_york(day, hour, minute, second, active):
    candles = session_5m(day, OPENING, first=(9, 25))
    inp = decision_input(now=ny(*day, hour, minute, second), price="105", mtf_candles={"5m": candles})
    assert (orb_specialist(inp) is not None) is active


@pytest.mark.parametrize(
    ("day", "utc_hour", "utc_minute", "active"),
    [
        (SUMMER, 13, 35, False),  # 09:35 EDT: the range is still forming
        (SUMMER, 13, 50, True),
        (WINTER, 13, 50, False),  # 08:50 EST: pre-market, inside the reference's fixed UTC window
        (WINTER, 14, 50, True),  # 09:50 EST: after the reference's fixed UTC window
    ],
)
def test_orb_window_follows_new_york_time_not_utc(day, utc_hour, utc_minute, active):
    moment = ny(*day, 0, 0).replace(hour=utc_hour, minute=utc_minute)
    candles = session_5m(day, OPENING, first=(9, 25))
    assert (orb_specialist(decision_input(now=moment, price="105", mtf_candles={"5m": candles})) is not None) is active


def test_orb_ignores_yesterdays_range():
    yesterday = session_5m((2026, 1, 14), OPENING)
    inp = decision_input(now=ny(*WINTER, 10, 0), price="105", mtf_candles={"5m": yesterday})
    assert orb_specialist(inp) is None


def test_orb_needs_all_three_opening_bars():
    candles = session_5m(WINTER, OPENING[1:])
    gap = tuple(c for c in candles if c.start != ny(*WINTER, 9, 35))
    assert orb_specialist(decision_input(now=ny(*WINTER, 10, 0), price="105", mtf_candles={"5m": gap})) is None


def test_orb_is_inactive_on_a_market_holiday():
    closed = ny(2026, 1, 19, 10, 0)  # Martin Luther King Jr. Day
    candles = session_5m((2026, 1, 19), OPENING[1:])
    assert orb_specialist(decision_input(now=closed, price="105", mtf_candles={"5m": candles})) is None


# --- The Strat ---------------------------------------------------------------------------------

BASE = (100, 90)
# Each sequence: a base bar, then the bars that make the pattern; the last bar is the trigger.
STRAT_CASES = {
    "2-1-2 up": ([BASE, (102, 95), (101, 96), (103, 97)], "2-1-2", BULLISH),
    "2-1-2 down": ([BASE, (98, 88), (97, 89), (96, 87)], "2-1-2", BEARISH),
    "3-1-2 up": ([BASE, (105, 85), (104, 86), (106, 90)], "3-1-2", BULLISH),
    "3-1-2 down": ([BASE, (105, 85), (104, 86), (100, 84)], "3-1-2", BEARISH),
    "3-2-2 up": ([BASE, (105, 85), (104, 80), (106, 82)], "3-2-2", BULLISH),  # 3, 2d, 2u reversal
    "3-2-2 down": ([BASE, (105, 85), (108, 86), (107, 84)], "3-2-2", BEARISH),
    "2-2 up": ([BASE, (99, 85), (101, 88)], "2-2", BULLISH),  # 2d broken upward
    "2-2 down": ([BASE, (105, 91), (104, 89)], "2-2", BEARISH),
}


@pytest.mark.parametrize(("ranges", "pattern", "direction"), STRAT_CASES.values(), ids=STRAT_CASES.keys())
@pytest.mark.parametrize("signal", [LONG, SHORT])
def test_strat_patterns_trigger_on_the_last_bar_in_both_directions(ranges, pattern, direction, signal):
    vote = strat_specialist(decision_input(direction=signal, candles=bars(*ranges)))
    aligned = (direction == BULLISH) == (signal == LONG)
    expected = {"2-1-2": (75, 25), "3-1-2": (70, 30), "3-2-2": (65, 35), "2-2": (60, 40)}[pattern][0 if aligned else 1]
    assert (vote.bias, vote.confidence, vote.metadata["pattern"]) == (direction, expected, pattern)


@pytest.mark.parametrize(
    ("ranges", "confidence", "reason"),
    [
        ([BASE, (102, 95), (101, 96)], 30, "setup_2-1_awaiting_trigger"),  # ends in an inside bar
        ([BASE, (105, 85), (104, 86)], 30, "setup_3-1_awaiting_trigger"),
        ([BASE, (102, 95), (101, 96), (100.5, 96.5)], 30, "setup_2-1-2_without_trigger"),
        ([BASE, (102, 95), (101, 96), (102, 95, 98)], 30, "setup_2-1-2_without_trigger"),  # outside, closed inside
        ([BASE, (102, 91), (103, 92), (104, 93)], 25, "no_pattern"),  # 2u-2u continuation
        ([BASE, (99, 91), (98, 92)], 25, "no_pattern"),  # two inside bars
    ],
)
def test_strat_without_a_trigger_is_neutral(ranges, confidence, reason):
    vote = strat_specialist(decision_input(candles=bars(*ranges)))
    assert (vote.bias, vote.confidence, vote.reasons) == (NEUTRAL, confidence, (reason,))


def test_strat_outside_trigger_bar_counts_where_it_closed():
    vote = strat_specialist(decision_input(candles=bars(BASE, (102, 95), (101, 96), (102, 95, 101.5))))
    assert (vote.bias, vote.metadata["pattern"]) == (BULLISH, "2-1-2")


def test_strat_needs_three_candles():
    assert strat_specialist(decision_input(candles=bars(BASE, (102, 95)))) is None


# --- TTM squeeze -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fired", "momentum", "direction", "bias"),
    [
        (True, 0.4, LONG, BULLISH),
        (True, -0.4, SHORT, BEARISH),
        (True, -0.4, LONG, None),  # momentum against the signal
        (True, 0.0, LONG, None),
        (False, 0.4, LONG, None),  # squeeze still on, or never was
        (None, 0.4, LONG, None),
        (True, None, LONG, None),
    ],
)
def test_ttm_votes_only_when_the_squeeze_fired_with_the_signal(fired, momentum, direction, bias):
    inp = decision_input(direction=direction, indicators=Indicators(ttm_fired=fired, ttm_momentum=momentum))
    vote = ttm_specialist(inp)
    assert (vote and (vote.bias, vote.confidence)) == (bias and (bias, 70))
