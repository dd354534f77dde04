"""Frozen inputs and outputs of the exit engines (pure: no Django, no clock).

Units: prices are USD per share of the option (Decimal, 4 dp); percentages are 0–100 of the
option's entry price; time is aware UTC; days to expiry count down to 16:00 New York on the
expiration date. Every position is a long option (calls for long signals, puts for short ones), so
a position gains when its option price rises and a protective stop always sits below the mark.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from optionsengine.lib.money import MoneyParseError, to_decimal
from optionsengine.lib.option_contracts import expiry_moment

SECONDS_PER_DAY = Decimal(86400)

# Action of an exit decision.
HOLD = "hold"
FULL = "full"
PARTIAL = "partial"


@dataclass(frozen=True)
class Greeks:
    delta: Decimal
    gamma: Decimal
    theta: Decimal  # USD per share per calendar day
    vega: Decimal  # USD per share per volatility point

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> Greeks | None:
        """Greeks stored as JSON (`greeks_at_entry`); None when any of the four is missing or bad."""
        if not isinstance(values, Mapping):
            return None
        try:
            return cls(*(to_decimal(values[name]) for name in ("delta", "gamma", "theta", "vega")))
        except (KeyError, MoneyParseError):
            return None


@dataclass(frozen=True)
class ExitRulesConfig:
    """The newest enabled `exit_rules` row; a zero limit disables that rule."""

    profit_target_percent: Decimal = Decimal("50")
    stop_loss_percent: Decimal = Decimal("50")
    max_hold_time_hours: int = 120
    min_dte_exit: int = 1
    trailing_stop_percent: Decimal = Decimal("15")
    trailing_stop_activation_percent: Decimal = Decimal("20")


@dataclass(frozen=True)
class ExitSettings:
    """Operator settings and tuned values the monitor hands to the engines."""

    emergency_risk_off: bool = False
    macro_drift_threshold: Decimal = Decimal("0.18")  # bias_config adaptive.macroDriftThreshold
    min_hold_minutes: int = 5  # grace period for intelligence and tiers (not for forced or rules)
    expiry_close_lead_minutes: int = 30  # expiry-day close starts this long before the session close
    stale_force_close_seconds: int = 180
    stale_force_close_loss_percent: Decimal = Decimal("-10")


@dataclass(frozen=True)
class PositionView:
    position_id: Any
    option_type: str  # "call" | "put"
    quantity: int  # open contracts
    initial_quantity: int
    entry_price: Decimal
    entry_timestamp: datetime
    expiration: date
    setup_type: str | None = None  # SCALP | SWING | POSITION | LEAPS
    partials_taken: tuple[str, ...] = ()
    trailing_stop_price: Decimal | None = None
    high_water_mark: Decimal | None = None
    underlying_entry_price: Decimal | None = None
    greeks_at_entry: Greeks | None = None
    iv_at_entry: Decimal | None = None
    entry_strength_delta: Decimal | None = None  # bias acceleration.stateStrengthDelta at entry
    entry_mode_hint: str | None = None  # BREAKOUT | PULLBACK | MEAN_REVERT
    last_mark: Decimal | None = None  # current_price written by the refresher
    last_pnl_percent: Decimal | None = None
    last_updated: datetime | None = None

    @property
    def direction(self) -> str:
        return "long" if self.option_type == "call" else "short"


@dataclass(frozen=True)
class QuoteView:
    """The option quote the monitor fetched (outside any transaction)."""

    mark: Decimal  # mid
    as_of: datetime
    bid: Decimal | None = None
    ask: Decimal | None = None
    iv: Decimal | None = None  # annual fraction
    greeks: Greeks | None = None
    underlying_price: Decimal | None = None
    stale: bool = False  # a last-known value served after every provider failed

    @property
    def spread_percent(self) -> Decimal | None:
        if self.bid is None or self.ask is None or self.bid + self.ask <= 0:
            return None
        return (self.ask - self.bid) / ((self.ask + self.bid) / 2) * 100


@dataclass(frozen=True)
class StopChange:
    """A stop adjustment: tighten/widen multiply the distance from the mark to the stop; `convert`
    starts trailing now even below the activation threshold."""

    tighten: Decimal | None = None  # factor < 1
    widen: Decimal | None = None  # factor > 1
    convert: bool = False
    absolute: Decimal | None = None  # raise the stop to at least this price (tier-4 tighten)

    @property
    def empty(self) -> bool:
        return self.tighten is None and self.widen is None and not self.convert and self.absolute is None


@dataclass(frozen=True)
class PartialRequest:
    """Close `fraction` of the open contracts (rounded half up, at least 1) for `code`, once:
    `keys` are the rung / check ids appended to `partials_taken` when it fires."""

    code: str
    fraction: Decimal
    keys: tuple[str, ...]


@dataclass(frozen=True)
class LayerResult:
    """What one layer (forced, intelligence, tiers, rules) asks for."""

    full: tuple[str, ...] = ()  # codes asking for a full exit
    partial: PartialRequest | None = None
    noted: tuple[str, ...] = ()  # codes that adjusted the stop or were noted without exiting
    stop: StopChange = field(default_factory=StopChange)
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExitDecision:
    action: str  # HOLD | FULL | PARTIAL
    quantity: int = 0
    reason: str | None = None  # the primary code
    codes: tuple[str, ...] = ()  # every triggered code, primary first
    partial_keys: tuple[str, ...] = ()  # rung / check ids to append to partials_taken
    trailing_stop_price: Decimal | None = None  # the stop after this cycle's adjustments
    details: tuple[str, ...] = ()

    @property
    def exits(self) -> bool:
        return self.action != HOLD


def days_to_expiry(now: datetime, expiration: date) -> Decimal:
    """Calendar days until 16:00 New York on the expiration date (negative once it has passed)."""
    seconds = Decimal(int((expiry_moment(expiration) - now).total_seconds()))
    return seconds / SECONDS_PER_DAY


def minutes_between(start: datetime, end: datetime) -> Decimal:
    return Decimal(int((end - start).total_seconds())) / 60
