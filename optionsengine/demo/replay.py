"""Replays a session of alerts through the real webhook and the whole pipeline on a simulated clock
(SPEC §14). The database it writes to is the caller's: `manage.py demo` points it at its own file.

For each tick (every `step_minutes` of regular hours, from the first alert to the close of the last
alert's day): the alerts due are POSTed in-process through `django.test.Client` with the clock set
to each alert's arrival, so the real view, authentication, normalization, dedup, bias ingestion and
audit all run; then the clock moves to the tick and `run_once` runs every stage. After the session,
trading days follow (every `close_out_step_minutes` of regular hours, at most `close_out_days`)
until nothing is open, so positions close by their own exit rules. A stage that fails is recorded
(time, stage, error, traceback) and the replay goes on, as the workers would.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.test import Client, override_settings

from optionsengine.demo.alerts import ReplayAlert, Session
from optionsengine.lib import clock, market_calendar
from optionsengine.pipeline.run_once import STAGES, run_once

# The demo's own webhook secret, set for the run only: every alert is authenticated the way
# TradingView does it (a `secret` field in the body), so the 401 path is exercised too, and the
# figures do not depend on the WEBHOOK_SECRET of whoever runs it.
DEMO_SECRET = "optionsengine-demo-secret"
DEFAULT_MARKET_SEED = 7
MAX_CAPTURED_ERRORS = 25


@dataclass(frozen=True)
class Delivery:
    alert: ReplayAlert
    http_status: int
    outcome: str  # the audit row's status: accepted, duplicate, out_of_order, invalid_*, error
    detail: str  # the error for a refusal, else ""
    signal_id: str | None


@dataclass(frozen=True)
class StageFailure:
    at: datetime
    stage: str
    error: str


@dataclass
class ReplayLog:
    session: Session
    deliveries: list[Delivery] = field(default_factory=list)
    stage_counts: Counter = field(default_factory=Counter)  # (stage, outcome) → n over the run
    failures: list[StageFailure] = field(default_factory=list)
    logged_errors: list[str] = field(default_factory=list)  # ERROR log records with tracebacks
    warnings: int = 0
    seconds: Counter = field(default_factory=Counter)  # wall-clock per stage (and "webhook"): not a figure
    ticks: int = 0
    close_out_days: int = 0
    started_at: datetime | None = None  # simulated
    ended_at: datetime | None = None

    @property
    def surprises(self) -> list[Delivery]:
        """Deliveries that ended differently from what the file said to expect."""
        return [d for d in self.deliveries if d.alert.expect is not None and d.alert.expect != d.outcome]


@dataclass(frozen=True)
class ReplayOptions:
    step_minutes: int = 1
    close_out_step_minutes: int = 15
    close_out_days: int = 10


class _Progress:
    """The subset of a tqdm bar the replay uses; a no-op when no bar is wanted."""

    total = 0

    def update(self, n: int = 1) -> None: ...
    def refresh(self) -> None: ...
    def set_description_str(self, text: str) -> None: ...


def replay(session: Session, *, options: ReplayOptions = ReplayOptions(),
           progress: Callable[[int], object] | None = None) -> ReplayLog:
    """Run the session; `progress(total)` returns a tqdm-like bar (or None for none)."""
    log = ReplayLog(session=session)
    overrides = {
        **session.settings,
        "MARKET_DATA_PROVIDERS": ["simulated"],
        "SIMULATED_MARKET_SEED": session.market_seed if session.market_seed is not None else DEFAULT_MARKET_SEED,
        "WEBHOOK_SECRET": DEMO_SECRET,
        # The replay is the worker: every stage runs as a sweep on each tick. On-commit fast-path
        # tasks would otherwise pile up unconsumed in the ORM queue (or, with a sync queue as in
        # tests, run stages between ticks and make a test run differ from `manage.py demo`).
        "PIPELINE_FAST_PATH": False,
        # A replayed session's trades are not live results: they must never feed the tuner.
        "TRADE_PERFORMANCE_SOURCE": "replay",
    }
    ticks = session_ticks(session, options.step_minutes)
    bar = (progress(len(ticks)) if progress else None) or _Progress()
    client = Client(raise_request_exception=False)  # a crashing view shows up as its 500
    pending = list(session.alerts)
    try:
        with override_settings(**overrides), _captured_logging(log), seeded_ids(overrides["SIMULATED_MARKET_SEED"]):
            bar.set_description_str(f"replaying {session.name}")
            for tick in ticks:
                while pending and pending[0].at <= tick:
                    log.deliveries.append(_deliver(client, pending.pop(0), log))
                _run_stages(tick, log)
                bar.update(1)
                if not pending and tick >= session.alerts[-1].at and not work_left():
                    break  # flat after the last alert: nothing can happen before the close
            for tick in _close_out_ticks(log, options, bar):
                _run_stages(tick, log)
                bar.update(1)
            bar.total = log.ticks  # stopped early once flat: show the bar complete
            bar.refresh()
    finally:
        clock.set_now(None)
    return log


def session_ticks(session: Session, step_minutes: int) -> list[datetime]:
    """Every `step_minutes` of regular hours from the first alert to the end (default: the close
    of the last alert's trading day), plus one tick after each alert that arrives outside them."""
    step = timedelta(minutes=step_minutes)
    first = session.alerts[0].at.replace(second=0, microsecond=0)
    last = session.alerts[-1].at
    end = session.end or _close_of(market_calendar.market_date(last))
    if end is None or end < last:
        end = last.replace(second=0, microsecond=0) + step
    ticks: list[datetime] = []
    tick = first
    off_hours = iter([a.at for a in session.alerts if not _in_regular_session(a.at)])
    next_off = next(off_hours, None)
    while tick <= end:
        due_off_hours = next_off is not None and next_off <= tick
        if _in_regular_session(tick) or due_off_hours:
            ticks.append(tick)
        while next_off is not None and next_off <= tick:
            next_off = next(off_hours, None)
        tick += step
    return ticks


def work_left() -> bool:
    """Anything the stages could still act on: open or closing positions, live orders, undecided signals."""
    from orders_app.models import Order
    from positions_app.models import Position
    from signals_app.models import Signal

    return (
        Position.objects.exclude(status="closed").exists()
        or Order.objects.filter(status="pending_execution").exists()
        or Signal.objects.filter(processed=False).exists()
        or Signal.objects.filter(status="approved", orders__isnull=True).exists()
    )


def _close_out_ticks(log: ReplayLog, options: ReplayOptions, bar) -> Iterator[datetime]:
    """Regular hours of the following trading days, until nothing is left or the day limit."""
    if not log.ticks or not work_left():
        return
    day = market_calendar.market_date(log.ended_at)
    step = timedelta(minutes=options.close_out_step_minutes)
    for _ in range(options.close_out_days):
        day = market_calendar.next_trading_day(day)
        session = market_calendar.regular_session(day)
        if session is None:
            continue
        opens, closes = session
        day_ticks = []
        tick = opens
        while tick <= closes:
            day_ticks.append(tick)
            tick += step
        log.close_out_days += 1
        bar.total += len(day_ticks)
        bar.set_description_str(f"closing out {day.isoformat()}")
        bar.refresh()
        for tick in day_ticks:
            yield tick
            if not work_left():
                return


def _run_stages(tick: datetime, log: ReplayLog) -> None:
    """`run_once` for every stage in pipeline order, one stage at a time so each is timed."""
    clock.set_now(tick)
    for name, _ in STAGES:
        started = time.perf_counter()
        for result in run_once(now=tick, only={name}):
            for outcome, n in result.counts.items():
                log.stage_counts[(result.stage, outcome)] += n
            for error in result.errors:
                log.failures.append(StageFailure(at=tick, stage=result.stage, error=error))
        log.seconds[name] += time.perf_counter() - started
    log.ticks += 1
    log.started_at = log.started_at or tick
    log.ended_at = tick


def _deliver(client: Client, alert: ReplayAlert, log: ReplayLog) -> Delivery:
    from signals_app.models import WebhookEvent

    clock.set_now(alert.at)
    body, content_type = alert.body(DEMO_SECRET)
    started = time.perf_counter()
    response = client.post(alert.path, data=body, content_type=content_type)
    log.seconds["webhook"] += time.perf_counter() - started
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    event_id = answer.get("webhook_event_id")
    audit = WebhookEvent.objects.filter(pk=event_id).values("status", "error_message").first() if event_id else None
    outcome = audit["status"] if audit else "error"
    detail = ""
    if outcome not in ("accepted", "duplicate", "out_of_order"):
        detail = (audit or {}).get("error_message") or answer.get("error") or f"HTTP {response.status_code}"
        if answer.get("details"):
            detail += ": " + "; ".join(
                f"{d.get('field', d.get('path', '?'))} {d.get('message', '')}".strip() if isinstance(d, dict) else str(d)
                for d in answer["details"][:3]
            )
    return Delivery(alert=alert, http_status=response.status_code, outcome=outcome, detail=detail,
                    signal_id=answer.get("signal_id"))


def _close_of(day) -> datetime | None:
    session = market_calendar.regular_session(day)
    return session[1] if session else None


def _in_regular_session(moment: datetime) -> bool:
    session = market_calendar.regular_session(market_calendar.market_date(moment))
    return session is not None and session[0] <= moment <= session[1]


@contextmanager
def seeded_ids(seed: int) -> Iterator[None]:
    """`uuid.uuid4()` draws from a seeded generator for the run, so signal ids — and with them the
    A/B variant, a hash of the id (SPEC §6) — are the same every run. In-process and only while
    the replay runs; ids written by model defaults keep their own (random) generator."""
    rng = random.Random(f"optionsengine-demo:{seed}")
    real = uuid.uuid4

    def uuid4() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    uuid.uuid4 = uuid4
    try:
        yield
    finally:
        uuid.uuid4 = real


class _Collector(logging.Handler):
    def __init__(self, log: ReplayLog) -> None:
        super().__init__(logging.WARNING)
        self._log = log
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            if len(self._log.logged_errors) < MAX_CAPTURED_ERRORS:
                moment = clock.now().isoformat()
                self._log.logged_errors.append(f"[simulated {moment}] {self.format(record)}")
        else:
            self._log.warnings += 1


@contextmanager
def _captured_logging(log: ReplayLog) -> Iterator[None]:
    """Stage logs go to the report, not the terminal (they would tear the progress bar); INFO
    lines (one per position per minute) are not even formatted."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers = [_Collector(log)]
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
