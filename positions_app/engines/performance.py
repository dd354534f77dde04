"""Trading results of closed positions: the equity curve and win/loss statistics (SPEC §13 P&L page).

Pure: frozen inputs in, frozen results out; no Django. Money is Decimal USD to the cent (the
positions' `realized_pnl`, already reconciled with the fills, see `engines/pnl.py`); only the
chart geometry — pixels, not money — uses floats.

Definitions (also on the page and in docs/operations.md):
- a *win* is a closed position with realized P&L > 0, a *loss* one with < 0; a break-even trade
  (exactly 0) counts as a trade but neither a win nor a loss;
- win rate = wins ÷ trades, in percent (2 dp); None when there are no trades;
- profit factor = gross profit ÷ gross loss (2 dp). No losing trade: `Decimal("Infinity")` when
  there is some profit, None when there is neither profit nor loss (nothing to compare);
- average R = mean of the trades' R multiples (realized ÷ initial risk, from trade performance),
  over the trades that have one (4 dp); None when none has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from optionsengine.lib import money

INFINITY = Decimal("Infinity")
_ZERO = Decimal("0.00")
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class ClosedTrade:
    """One closed position, as the P&L page needs it."""

    position_id: str
    symbol: str
    engine: str | None
    closed_at: datetime
    realized_pnl: Decimal
    r_multiple: Decimal | None = None


@dataclass(frozen=True)
class CurvePoint:
    """The cumulative realized P&L right after `trade` closed."""

    trade: ClosedTrade
    cumulative: Decimal


@dataclass(frozen=True)
class Stats:
    key: str
    trades: int
    wins: int
    losses: int
    breakeven: int
    win_rate: Decimal | None
    gross_profit: Decimal
    gross_loss: Decimal  # a positive magnitude
    profit_factor: Decimal | None
    total_pnl: Decimal
    average_r: Decimal | None


@dataclass(frozen=True)
class Chart:
    """Geometry of the equity-curve SVG, in pixels of a `width` × `height` view box."""

    width: int
    height: int
    points: str  # SVG polyline "x,y x,y …", starting at 0 before the first trade
    markers: tuple[tuple[float, float, CurvePoint], ...]  # one dot per trade (capped)
    zero_y: float
    top_value: Decimal
    bottom_value: Decimal
    first_at: datetime | None
    last_at: datetime | None


def _sorted(trades: Iterable[ClosedTrade]) -> list[ClosedTrade]:
    return sorted(trades, key=lambda t: (t.closed_at, t.position_id))


def equity_curve(trades: Iterable[ClosedTrade]) -> list[CurvePoint]:
    """Cumulative realized P&L in closing order (ties broken by position id, so it is stable)."""
    running = _ZERO
    curve: list[CurvePoint] = []
    for trade in _sorted(trades):
        running = money.cash(running + trade.realized_pnl)
        curve.append(CurvePoint(trade=trade, cumulative=running))
    return curve


def max_drawdown(curve: list[CurvePoint]) -> Decimal:
    """Largest fall of the cumulative P&L from a previous peak (the start, 0, counts as a peak)."""
    peak, worst = _ZERO, _ZERO
    for point in curve:
        peak = max(peak, point.cumulative)
        worst = max(worst, peak - point.cumulative)
    return money.cash(worst)


def profit_factor(gross_profit: Decimal, gross_loss: Decimal) -> Decimal | None:
    if gross_loss > 0:
        return money.quantize(gross_profit / gross_loss, 2)
    return INFINITY if gross_profit > 0 else None


def summarize(key: str, trades: Iterable[ClosedTrade]) -> Stats:
    trades = list(trades)
    pnls = [t.realized_pnl for t in trades]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    gross_profit = money.cash(sum(wins, _ZERO))
    gross_loss = money.cash(-sum(losses, _ZERO))
    rs = [t.r_multiple for t in trades if t.r_multiple is not None]
    return Stats(
        key=key,
        trades=len(trades),
        wins=len(wins),
        losses=len(losses),
        breakeven=len(trades) - len(wins) - len(losses),
        win_rate=money.quantize(Decimal(len(wins)) / len(trades) * _HUNDRED, 2) if trades else None,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        profit_factor=profit_factor(gross_profit, gross_loss),
        total_pnl=money.cash(sum(pnls, _ZERO)),
        average_r=money.quantize(sum(rs, Decimal(0)) / len(rs), 4) if rs else None,
    )


def group_stats(trades: Iterable[ClosedTrade], key: Callable[[ClosedTrade], str]) -> list[Stats]:
    """Stats per group, largest total P&L first (then by name)."""
    groups: dict[str, list[ClosedTrade]] = {}
    for trade in trades:
        groups.setdefault(key(trade), []).append(trade)
    stats = [summarize(name, members) for name, members in groups.items()]
    return sorted(stats, key=lambda s: (-s.total_pnl, s.key))


def by_engine(trades: Iterable[ClosedTrade]) -> list[Stats]:
    return group_stats(trades, lambda t: t.engine or "unknown")


def by_symbol(trades: Iterable[ClosedTrade]) -> list[Stats]:
    return group_stats(trades, lambda t: t.symbol)


def chart(curve: list[CurvePoint], *, width: int = 1000, height: int = 280, pad: int = 12,
          max_markers: int = 300) -> Chart:
    """Map the curve onto pixels: x = trade number (0 = before the first trade), y = cumulative P&L.

    The value range always includes 0 so the zero line is on the chart; a flat curve gets ±1 USD.
    """
    values = [Decimal(0)] + [p.cumulative for p in curve]
    top, bottom = max(values), min(values)
    if top == bottom:
        top, bottom = top + 1, bottom - 1
    span_x = max(len(curve), 1)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad

    def x(i: int) -> float:
        return round(pad + inner_w * i / span_x, 1)

    def y(value: Decimal) -> float:
        return round(pad + float((top - value) / (top - bottom)) * inner_h, 1)

    coords = [(x(i), y(v)) for i, v in enumerate(values)]
    markers = tuple((cx, cy, point) for (cx, cy), point in zip(coords[1:], curve, strict=True))
    if len(markers) > max_markers:
        markers = ()  # a polyline alone reads better than a carpet of dots
    return Chart(
        width=width,
        height=height,
        points=" ".join(f"{cx},{cy}" for cx, cy in coords),
        markers=markers,
        zero_y=y(Decimal(0)),
        top_value=money.cash(top),
        bottom_value=money.cash(bottom),
        first_at=curve[0].trade.closed_at if curve else None,
        last_at=curve[-1].trade.closed_at if curve else None,
    )
