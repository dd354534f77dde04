"""Per-setup exit policies of the tiered exit decision engine (reference §5.4 table). Pure.

Setup types come from the position's `setup_type` (the signal timeframe: ≤ 15m SCALP, ≤ 4h SWING,
≤ 1w POSITION, else LEAPS), never from DTE (the original made every position a 90-minute scalp).
Partial fractions are of the contracts still open when the rung fires. The policy's own maximum
hold is enforced for SCALP only (tier 1), as in the original; longer setups rely on the time stops
and the `exit_rules` max hold.

`thesis_adverse_move_percent` is ours: the original's thesis check never had an input (its
underlying entry price was the current price). A position's thesis is invalid once the underlying
has moved this far against it from the price stored at entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

DAY = 1440  # minutes


@dataclass(frozen=True)
class ProgressCheck:
    after_minutes: int
    min_pnl_percent: Decimal

    @property
    def label(self) -> str:
        return _label(self.after_minutes)


@dataclass(frozen=True)
class ProfitRung:
    at_pnl_percent: Decimal
    exit_fraction: Decimal

    @property
    def label(self) -> str:
        return f"{self.at_pnl_percent.normalize():f}"


@dataclass(frozen=True)
class SetupPolicy:
    name: str
    max_hold_minutes: int
    progress_checks: tuple[ProgressCheck, ...]
    theta_burn_limit_percent: Decimal
    profit_rungs: tuple[ProfitRung, ...]  # ascending
    time_stops_minutes: tuple[int, ...]  # ascending
    delta_decay_percent: Decimal
    gamma_stall_applies: bool
    thesis_adverse_move_percent: Decimal


def _label(minutes: int) -> str:
    if minutes % DAY == 0:
        return f"{minutes // DAY}d"
    return f"{minutes}m"


def time_stop_label(minutes: int) -> str:
    return _label(minutes)


def _d(value: str) -> Decimal:
    return Decimal(value)


POLICIES: dict[str, SetupPolicy] = {
    "SCALP": SetupPolicy(
        name="SCALP", max_hold_minutes=90,
        progress_checks=(ProgressCheck(15, _d("5")), ProgressCheck(30, _d("10"))),
        theta_burn_limit_percent=_d("20"),
        profit_rungs=(ProfitRung(_d("15"), _d("0.50")), ProfitRung(_d("30"), _d("0.75"))),
        time_stops_minutes=(), delta_decay_percent=_d("20"), gamma_stall_applies=True,
        thesis_adverse_move_percent=_d("0.5"),
    ),
    "SWING": SetupPolicy(
        name="SWING", max_hold_minutes=14 * DAY,
        progress_checks=(ProgressCheck(3 * DAY, _d("10")), ProgressCheck(7 * DAY, _d("15"))),
        theta_burn_limit_percent=_d("30"),
        profit_rungs=(
            ProfitRung(_d("25"), _d("0.33")), ProfitRung(_d("50"), _d("0.50")), ProfitRung(_d("80"), _d("0.75")),
        ),
        time_stops_minutes=(7 * DAY, 14 * DAY), delta_decay_percent=_d("30"), gamma_stall_applies=True,
        thesis_adverse_move_percent=_d("2"),
    ),
    "POSITION": SetupPolicy(
        name="POSITION", max_hold_minutes=60 * DAY,
        progress_checks=(ProgressCheck(14 * DAY, _d("15")), ProgressCheck(30 * DAY, _d("20"))),
        theta_burn_limit_percent=_d("40"),
        profit_rungs=(
            ProfitRung(_d("30"), _d("0.33")), ProfitRung(_d("60"), _d("0.50")), ProfitRung(_d("100"), _d("0.75")),
        ),
        time_stops_minutes=(30 * DAY, 45 * DAY), delta_decay_percent=_d("40"), gamma_stall_applies=False,
        thesis_adverse_move_percent=_d("5"),
    ),
    "LEAPS": SetupPolicy(
        name="LEAPS", max_hold_minutes=365 * DAY,
        progress_checks=(ProgressCheck(60 * DAY, _d("20")), ProgressCheck(120 * DAY, _d("30"))),
        theta_burn_limit_percent=_d("50"),
        profit_rungs=(
            ProfitRung(_d("40"), _d("0.25")), ProfitRung(_d("80"), _d("0.50")), ProfitRung(_d("150"), _d("0.75")),
        ),
        time_stops_minutes=(90 * DAY, 180 * DAY), delta_decay_percent=_d("50"), gamma_stall_applies=False,
        thesis_adverse_move_percent=_d("10"),
    ),
}
DEFAULT_SETUP = "SWING"  # a position opened without a setup type (older rows) gets the middle policy


def policy_for(setup_type: str | None) -> SetupPolicy:
    return POLICIES.get((setup_type or "").upper(), POLICIES[DEFAULT_SETUP])
