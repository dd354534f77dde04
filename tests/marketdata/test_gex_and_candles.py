"""GEX arithmetic and candle aggregation, on hand-made inputs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.candles import aggregate, bucket_start
from optionsengine.marketdata.gex import gex_from_quotes
from optionsengine.marketdata.types import Candle, DealerPosition, OptionContract, OptionGreeks, OptionQuote

NOW = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)


def leg(right: OptionRight, strike: str, gamma: str, oi: int | None) -> OptionQuote:
    return OptionQuote(
        contract=OptionContract("SPY", date(2026, 3, 20), right, Decimal(strike)),
        bid=None, ask=None, mid=Decimal("1"), last=None, iv=None,
        greeks=OptionGreeks(Decimal("0.5"), Decimal(gamma), Decimal("-0.1"), Decimal("0.2")),
        open_interest=oi, volume=None, underlying_price=None, as_of=NOW, provider="t",
    )


def test_gex_counts_calls_positive_and_puts_negative_per_one_percent_move():
    quotes = [
        leg(OptionRight.PUT, "590", "0.02", 3000),
        leg(OptionRight.CALL, "600", "0.03", 1000),
        leg(OptionRight.CALL, "610", "0.02", 2000),
        leg(OptionRight.CALL, "620", "0.01", None),  # no open interest: no exposure
    ]
    gex = gex_from_quotes(symbol="SPY", spot=Decimal("600"), quotes=quotes, as_of=NOW, provider="t")
    scale = Decimal(600) * 600 * Decimal("0.01") * 100  # $ per 1 % move per unit gamma·OI
    assert gex.call_gex == (Decimal("0.03") * 1000 + Decimal("0.02") * 2000) * scale
    assert gex.put_gex == -(Decimal("0.02") * 3000) * scale
    assert gex.net_gex == Decimal("3600000.00")
    assert gex.dealer_position is DealerPosition.LONG_GAMMA
    # Cumulative net GEX: −21.6 M at 590, −10.8 M at 600, +3.6 M at 610 → crosses at 607.5.
    assert gex.zero_gamma_level == Decimal("607.5000")


def test_puts_outweighing_calls_is_short_gamma_without_a_crossing():
    quotes = [leg(OptionRight.PUT, "590", "0.02", 3000), leg(OptionRight.CALL, "600", "0.03", 1000)]
    gex = gex_from_quotes(symbol="SPY", spot=Decimal("600"), quotes=quotes, as_of=NOW, provider="t")
    assert gex.dealer_position is DealerPosition.SHORT_GAMMA
    assert gex.zero_gamma_level is None


def test_balanced_gex_is_neutral():
    quotes = [leg(OptionRight.PUT, "600", "0.02", 1000), leg(OptionRight.CALL, "600", "0.02", 1010)]
    gex = gex_from_quotes(symbol="SPY", spot=Decimal("600"), quotes=quotes, as_of=NOW, provider="t")
    assert gex.dealer_position is DealerPosition.NEUTRAL


def minute(start: datetime, o: str, h: str, low: str, c: str, v: int) -> Candle:
    return Candle(start, Decimal(o), Decimal(h), Decimal(low), Decimal(c), v)


def test_aggregation_keeps_first_open_last_close_extremes_and_total_volume():
    bars = [
        minute(NOW, "10", "11", "9.5", "10.5", 100),
        minute(NOW + timedelta(minutes=1), "10.5", "12", "10", "11", 200),
        minute(NOW + timedelta(minutes=5), "11", "11.2", "8", "9", 50),
    ]
    assert aggregate(bars, "5m") == [
        Candle(NOW, Decimal("10"), Decimal("12"), Decimal("9.5"), Decimal("11"), 300),
        Candle(NOW + timedelta(minutes=5), Decimal("11"), Decimal("11.2"), Decimal("8"), Decimal("9"), 50),
    ]


@pytest.mark.parametrize(
    ("start", "timeframe", "expected"),
    [
        (datetime(2026, 3, 13, 14, 44, tzinfo=UTC), "15m", datetime(2026, 3, 13, 14, 30, tzinfo=UTC)),
        (datetime(2026, 3, 13, 15, 29, tzinfo=UTC), "1h", datetime(2026, 3, 13, 14, 30, tzinfo=UTC)),
        (datetime(2026, 3, 13, 19, 45, tzinfo=UTC), "1h", datetime(2026, 3, 13, 19, 30, tzinfo=UTC)),
        (datetime(2026, 3, 13, 17, 31, tzinfo=UTC), "4h", datetime(2026, 3, 13, 17, 30, tzinfo=UTC)),
        (datetime(2026, 3, 13, 19, 59, tzinfo=UTC), "1d", datetime(2026, 3, 13, 13, 30, tzinfo=UTC)),
    ],
)
def test_buckets_align_to_the_new_york_open(start, timeframe, expected):
    assert bucket_start(start, timeframe) == expected


def test_unknown_timeframes_are_refused():
    with pytest.raises(ValueError, match="unsupported timeframe"):
        aggregate([minute(NOW, "1", "1", "1", "1", 1)], "2h")
