from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.types import OptionChain, OptionContract, OptionQuote
from signals_app.engines.contract_selection import (
    TARGET_DTE,
    choose_contract,
    near_money_tolerance,
    spread_pct,
    target_expiration,
)
from signals_app.engines.outcome import ContractChoice
from signals_app.engines.reasons import NO_STRIKE_NEAR_MONEY, OPTION_QUOTE_UNAVAILABLE
from signals_app.engines.snapshot import LEAPS, POSITION, SCALP, SWING

EXPIRY = date(2026, 3, 20)
NOW = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)  # Fri 10:30 New York, 7 days + 5.5 h before expiry


def quote(strike: str, right: OptionRight = OptionRight.CALL, *, bid="1.00", ask="1.10", mid=None, oi=500, volume=40):
    bid_d = None if bid is None else Decimal(bid)
    ask_d = None if ask is None else Decimal(ask)
    if mid is None:
        mid = (bid_d + ask_d) / 2
    return OptionQuote(
        contract=OptionContract("SPY", EXPIRY, right, Decimal(strike)),
        bid=bid_d, ask=ask_d, mid=Decimal(mid), last=None, iv=Decimal("0.18"), greeks=None,
        open_interest=oi, volume=volume, underlying_price=None, as_of=NOW, provider="fixture",
    )


def chain(*quotes: OptionQuote) -> OptionChain:
    return OptionChain("SPY", EXPIRY, Decimal("600"), tuple(quotes), NOW, "fixture")


def both_rights(*strikes: str) -> OptionChain:
    return chain(*(quote(k, r) for k in strikes for r in (OptionRight.CALL, OptionRight.PUT)))


# --- target_expiration ---------------------------------------------------------------------------


def test_target_dte_defaults_per_setup_type():
    assert TARGET_DTE == {SCALP: 5, SWING: 21, POSITION: 90, LEAPS: 180}


@pytest.mark.parametrize(
    ("today", "setup", "expected"),
    [
        # Mon + 5 = Sat → next week's Friday.
        (date(2026, 3, 9), SCALP, date(2026, 3, 20)),
        # Target is itself a Friday expiry: on or after, so that Friday.
        (date(2026, 3, 6), SCALP, date(2026, 3, 13)),
        # Fri 2026-07-03 is the Independence Day holiday: the weekly moves to Thursday.
        (date(2026, 6, 26), SCALP, date(2026, 7, 2)),
        # Good Friday 2026-04-03 → Thursday 2026-04-02.
        (date(2026, 3, 28), SCALP, date(2026, 4, 2)),
        # +21 = Mon 03-30; that week's Friday is Good Friday → Thursday 04-02.
        (date(2026, 3, 9), SWING, date(2026, 4, 2)),
    ],
)
def test_target_expiration_first_listed_expiry_on_or_after_target(today, setup, expected):
    assert target_expiration(today, setup) == expected


@pytest.mark.parametrize(
    ("today", "setup", "expected"),
    [
        # +90 = 2026-06-07 → monthly 06-19 is Juneteenth (a Friday holiday) → Thursday 06-18.
        (date(2026, 3, 9), POSITION, date(2026, 6, 18)),
        # +180 = 2026-09-05 → monthly 09-18 (weeklies are skipped this far out).
        (date(2026, 3, 9), LEAPS, date(2026, 9, 18)),
    ],
)
def test_position_and_leaps_use_monthly_expirations(today, setup, expected):
    assert target_expiration(today, setup) == expected


def test_unknown_setup_type_is_an_error():
    with pytest.raises(ValueError):
        target_expiration(date(2026, 3, 9), "SCALP_GUARDED")


# --- strike choice -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "spot", "right", "strike"),
    [
        ("long", "600", "call", "600"),  # exactly listed: calls take it
        ("short", "600", "put", "600"),  # exactly listed: puts take it too
        ("long", "600.01", "call", "601"),  # just above a strike: next one up
        ("short", "600.99", "put", "600"),  # just below a strike: next one down
        ("long", "599.99", "call", "600"),
        ("short", "601", "put", "601"),
    ],
)
def test_strike_at_or_above_spot_for_calls_at_or_below_for_puts(direction, spot, right, strike):
    result = choose_contract(direction, Decimal(spot), both_rights("598", "599", "600", "601", "602"), NOW)
    assert isinstance(result, ContractChoice)
    assert (result.right, result.strike) == (right, Decimal(strike))


def test_contract_carries_expiration_mid_and_whole_days_to_expiry():
    result = choose_contract("long", Decimal("600"), chain(quote("600", bid="2.00", ask="2.20")), NOW)
    assert result.expiration == EXPIRY
    assert result.entry_price == Decimal("2.1000")
    assert result.dte == 7  # 7 days 5.5 hours → floor


@pytest.mark.parametrize(
    ("now", "dte"),
    [
        (datetime(2026, 3, 19, 20, 0, tzinfo=UTC), 1),  # exactly 24 h before 16:00 New York (EDT)
        (datetime(2026, 3, 19, 20, 0, 1, tzinfo=UTC), 0),  # one second less
        (datetime(2026, 3, 20, 19, 59, tzinfo=UTC), 0),  # expiry day
    ],
)
def test_dte_is_floored_to_whole_days_until_the_close_on_expiry(now, dte):
    result = choose_contract("long", Decimal("600"), chain(quote("600")), now)
    assert result.dte == dte


def test_rationale_carries_liquidity_of_the_chosen_quote():
    listing = chain(quote("600", bid="1.90", ask="2.10", oi=1234, volume=56))
    result = choose_contract("long", Decimal("600"), listing, NOW)
    assert result.rationale["spread_pct"] == "10.00"
    assert result.rationale["open_interest"] == 1234
    assert result.rationale["volume"] == 56
    assert result.rationale["option_symbol"] == "SPY-20260320-C-600"


def test_one_sided_quote_has_no_spread():
    assert spread_pct(quote("600", bid=None, ask="1.10", mid="1.10")) is None
    result = choose_contract("long", Decimal("600"), chain(quote("600", bid=None, ask="1.10", mid="1.10")), NOW)
    assert result.rationale["spread_pct"] is None


# --- no usable strike or quote -------------------------------------------------------------------


def test_chain_without_the_needed_right_has_no_strike():
    calls_only = chain(quote("600", OptionRight.CALL))
    assert choose_contract("short", Decimal("600"), calls_only, NOW) == NO_STRIKE_NEAR_MONEY


def test_chain_with_no_strikes_near_the_money():
    far = both_rights("500", "505", "510", "700", "705")
    assert choose_contract("long", Decimal("600"), far, NOW) == NO_STRIKE_NEAR_MONEY
    assert choose_contract("short", Decimal("600"), far, NOW) == NO_STRIKE_NEAR_MONEY


def outcome(result: ContractChoice | str) -> Decimal | str:
    return result.strike if isinstance(result, ContractChoice) else result


@pytest.mark.parametrize(
    ("strike", "expected"),
    [
        ("612", Decimal("612")),  # exactly 2 % of spot 600 away: still near the money
        ("612.5", NO_STRIKE_NEAR_MONEY),  # beyond 2 % (and beyond 2 × the $0.5 increment)
    ],
)
def test_near_money_boundary_at_two_percent_of_spot(strike, expected):
    listing = chain(quote(strike), quote("613"))
    assert outcome(choose_contract("long", Decimal("600"), listing, NOW)) == expected


@pytest.mark.parametrize(
    ("strike", "expected"),
    # Spot 10 with $1 steps: 2 increments ($2) is wider than 2 % of spot ($0.20).
    [("12", Decimal("12")), ("12.01", NO_STRIKE_NEAR_MONEY)],
)
def test_near_money_boundary_at_two_increments_for_cheap_underlyings(strike, expected):
    listing = chain(quote(strike), quote("13.01"), quote("14.01"))
    assert outcome(choose_contract("long", Decimal("10"), listing, NOW)) == expected


def test_tolerance_uses_the_chains_finest_spacing_or_the_default_increment():
    assert near_money_tolerance(Decimal("10"), [Decimal("9"), Decimal("10"), Decimal("15")]) == Decimal("2")
    assert near_money_tolerance(Decimal("10"), [Decimal("10")]) == Decimal("1.0")  # default $0.5 × 2
    assert near_money_tolerance(Decimal("600"), [Decimal("600"), Decimal("601")]) == Decimal("12")


def test_nothing_on_the_required_side_falls_back_to_the_nearest_strike_when_near():
    # Spot above the top listed call: the highest strike (one step in the money) is still near.
    result = choose_contract("long", Decimal("600.40"), chain(quote("599"), quote("600")), NOW)
    assert result.strike == Decimal("600")


@pytest.mark.parametrize("mid", ["0", "-0.01"])
def test_quote_without_a_positive_mid_is_unavailable(mid):
    listing = chain(quote("600", bid=None, ask=None, mid=mid))
    assert choose_contract("long", Decimal("600"), listing, NOW) == OPTION_QUOTE_UNAVAILABLE


def test_missing_chain_is_unavailable():
    assert choose_contract("long", Decimal("600"), None, NOW) == OPTION_QUOTE_UNAVAILABLE


def test_smallest_positive_mid_is_usable():
    listing = chain(quote("600", bid="0.00", ask="0.02", mid="0.01"))
    assert choose_contract("long", Decimal("600"), listing, NOW).entry_price == Decimal("0.0100")


def test_unknown_direction_is_an_error():
    with pytest.raises(ValueError):
        choose_contract("flat", Decimal("600"), chain(quote("600")), NOW)
