"""Gamma exposure (GEX) from option quotes that carry gamma and open interest (pure).

Convention (the usual "naive GEX"): dealers are assumed long the calls and short the puts the
public holds, so call gamma counts positive and put gamma negative. Each contract contributes
gamma × OI × 100 × spot² × 1 % — the dollars of delta dealers must trade per 1 % move.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from optionsengine.lib import money
from optionsengine.lib.money import CONTRACT_MULTIPLIER
from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.types import DealerPosition, GexSnapshot, OptionQuote

# Net GEX within ±5 % of gross (calls + |puts|) reads as balanced dealers.
NEUTRAL_SHARE = Decimal("0.05")
_ONE_PERCENT = Decimal("0.01")


def _zero_gamma_level(by_strike: dict[Decimal, Decimal]) -> Decimal | None:
    """The strike where cumulative net GEX (low → high strikes) crosses zero, interpolated."""
    running = Decimal(0)
    previous: tuple[Decimal, Decimal] | None = None
    for strike in sorted(by_strike):
        before = running
        running += by_strike[strike]
        if previous is not None and before != 0 and (before < 0) != (running < 0):
            low_strike = previous[0]
            share = -before / (running - before)
            return money.price(low_strike + (strike - low_strike) * share)
        previous = (strike, running)
    return None


def gex_from_quotes(
    *, symbol: str, spot: Decimal, quotes: Iterable[OptionQuote], as_of: datetime, provider: str
) -> GexSnapshot:
    scale = spot * spot * _ONE_PERCENT * CONTRACT_MULTIPLIER
    call_gex = put_gex = Decimal(0)
    by_strike: dict[Decimal, Decimal] = {}
    for quote in quotes:
        if quote.greeks is None or not quote.open_interest:
            continue
        exposure = quote.greeks.gamma * quote.open_interest * scale
        if quote.contract.right is OptionRight.PUT:
            exposure = -exposure
            put_gex += exposure
        else:
            call_gex += exposure
        by_strike[quote.contract.strike] = by_strike.get(quote.contract.strike, Decimal(0)) + exposure
    net = call_gex + put_gex
    gross = call_gex - put_gex
    if gross == 0 or abs(net) <= gross * NEUTRAL_SHARE:
        position = DealerPosition.NEUTRAL
    else:
        position = DealerPosition.LONG_GAMMA if net > 0 else DealerPosition.SHORT_GAMMA
    return GexSnapshot(
        symbol=symbol,
        spot=spot,
        net_gex=money.cash(net),
        call_gex=money.cash(call_gex),
        put_gex=money.cash(put_gex),
        zero_gamma_level=_zero_gamma_level(by_strike),
        dealer_position=position,
        as_of=as_of,
        provider=provider,
    )
