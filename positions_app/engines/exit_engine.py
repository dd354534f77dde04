"""One exit verdict per position per cycle: the four layers combined (SPEC §10). Pure.

Order: forced closes → exit intelligence → tiered exit decision engine → `exit_rules` limits.
- Forced closes are evaluated at any hour; everything else only while the option market is open
  and a quote is available.
- Intelligence and tiers wait out `min_hold_minutes` after entry (marks right after a fill are
  noise); forced closes and the `exit_rules` limits never wait.
- Stop adjustments of intelligence and tiers are applied before the rules layer checks the
  trailing stop, so a tightened stop can exit in the same cycle.
- Any full-exit request wins; its first code (in layer order) is the primary `exit_reason`.
  Otherwise the first partial request (intelligence before tiers) fires; the other waits for the
  next cycle. A partial that would leave no contract open is a full exit.
- `codes` lists the primary code first, then every other code triggered this cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from positions_app.engines.exit_inputs import (
    FULL,
    HOLD,
    PARTIAL,
    ExitDecision,
    ExitRulesConfig,
    ExitSettings,
    LayerResult,
    PositionView,
    QuoteView,
    minutes_between,
)
from positions_app.engines.exit_intelligence import evaluate_intelligence
from positions_app.engines.exit_rules import forced_exits, rule_exits
from positions_app.engines.exit_tiers import evaluate_tiers
from positions_app.engines.pnl import pnl_percent
from positions_app.engines.trailing import adjust_stop


def partial_quantity(open_quantity: int, fraction: Decimal) -> int:
    """Contracts a partial closes: fraction of the open contracts, half up, at least 1."""
    wanted = int((open_quantity * fraction).to_integral_value(rounding=ROUND_HALF_UP))
    return min(open_quantity, max(1, wanted))


def _unique(codes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(codes))


def evaluate_exit(
    position: PositionView,
    quote: QuoteView | None,
    bias: Mapping | None,
    *,
    rules: ExitRulesConfig,
    settings: ExitSettings,
    now: datetime,
    market_open: bool,
) -> ExitDecision:
    """The verdict for one open position. `bias` is the symbol's state, None when missing or stale."""
    layers: list[LayerResult] = [forced_exits(position, quote, settings, now, market_open=market_open)]
    stop = position.trailing_stop_price
    if market_open and quote is not None:
        pnl = pnl_percent(position.entry_price, quote.mark)
        if minutes_between(position.entry_timestamp, now) >= settings.min_hold_minutes:
            for layer in (
                evaluate_intelligence(position, bias, pnl_pct=pnl, settings=settings),
                evaluate_tiers(position, quote, bias, pnl_pct=pnl, now=now),
            ):
                layers.append(layer)
                stop = adjust_stop(mark=quote.mark, stop=stop, change=layer.stop, rules=rules)
        layers.append(rule_exits(position, mark=quote.mark, stale=quote.stale, stop=stop, rules=rules, now=now))

    details = tuple(d for layer in layers for d in layer.details)
    full = [code for layer in layers for code in layer.full]
    partials = [layer.partial for layer in layers if layer.partial is not None]
    others = [p.code for p in partials] + [code for layer in layers for code in layer.noted]
    if full:
        return ExitDecision(
            action=FULL, quantity=position.quantity, reason=full[0], codes=_unique(full + others),
            trailing_stop_price=stop, details=details,
        )
    if partials:
        chosen = partials[0]
        quantity = partial_quantity(position.quantity, chosen.fraction)
        return ExitDecision(
            action=FULL if quantity >= position.quantity else PARTIAL,
            quantity=quantity, reason=chosen.code, codes=_unique([chosen.code, *others]),
            partial_keys=chosen.keys, trailing_stop_price=stop, details=details,
        )
    return ExitDecision(action=HOLD, trailing_stop_price=stop, details=details)
