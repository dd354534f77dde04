"""The NYSE calendar, computed by rule for any year (pure: no Django, no clock).

Every "is the market open?" question in the service is answered here, in America/New_York.
Holidays follow the NYSE rules (observed-day shifts included); early closes are at 13:00.
Unscheduled closures (national days of mourning, weather) cannot be derived by rule and are
not modelled.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MARKET_TZ = ZoneInfo("America/New_York")  # the one market time zone; clock.py imports it from here

PRE_OPEN = time(4, 0)
REGULAR_OPEN = time(9, 30)
REGULAR_CLOSE = time(16, 0)
EARLY_CLOSE = time(13, 0)
POST_CLOSE = time(20, 0)
# On half days the extended session ends four hours earlier as well (NYSE Arca: 17:00).
EARLY_POST_CLOSE = time(17, 0)


class Session(enum.StrEnum):
    PRE = "PRE"
    RTH = "RTH"
    POST = "POST"
    CLOSED = "CLOSED"


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm, a.k.a. Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    la = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * la) // 451
    month, day = divmod(h + la - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """Saturday holidays are observed on Friday, Sunday holidays on Monday."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def holidays(year: int) -> dict[date, str]:
    """Full-day NYSE closures observed in `year`, by rule."""
    result: dict[date, str] = {}
    new_year = date(year, 1, 1)
    # NYSE does not close on Friday Dec 31 when Jan 1 is a Saturday (end of the accounting year).
    if new_year.weekday() != 5:
        result[_observed(new_year)] = "New Year's Day"
    result[_nth_weekday(year, 1, 0, 3)] = "Martin Luther King Jr. Day"
    result[_nth_weekday(year, 2, 0, 3)] = "Washington's Birthday"
    result[easter_sunday(year) - timedelta(days=2)] = "Good Friday"
    result[_last_weekday(year, 5, 0)] = "Memorial Day"
    if year >= 2022:
        result[_observed(date(year, 6, 19))] = "Juneteenth"
    result[_observed(date(year, 7, 4))] = "Independence Day"
    result[_nth_weekday(year, 9, 0, 1)] = "Labor Day"
    result[_nth_weekday(year, 11, 3, 4)] = "Thanksgiving Day"
    result[_observed(date(year, 12, 25))] = "Christmas Day"
    return result


def is_holiday(day: date) -> bool:
    return day in holidays(day.year)


def is_trading_day(day: date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


@lru_cache(maxsize=64)
def early_closes(year: int) -> dict[date, str]:
    """13:00 closes: July 3, the day after Thanksgiving and Christmas Eve, when trading days."""
    candidates = {
        date(year, 7, 3): "Independence Day eve",
        _nth_weekday(year, 11, 3, 4) + timedelta(days=1): "Day after Thanksgiving",
        date(year, 12, 24): "Christmas Eve",
    }
    return {day: name for day, name in candidates.items() if is_trading_day(day)}


def close_time(day: date) -> time | None:
    """Regular-session close in New York, or None when the market does not open that day."""
    if not is_trading_day(day):
        return None
    return EARLY_CLOSE if day in early_closes(day.year) else REGULAR_CLOSE


def market_date(now: datetime) -> date:
    """The calendar date in New York: the trading day a moment belongs to."""
    return now.astimezone(MARKET_TZ).date()


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=MARKET_TZ).astimezone(UTC)


def regular_session(day: date) -> tuple[datetime, datetime] | None:
    """(open, close) of the regular session as aware UTC datetimes; None on closed days."""
    closes_at = close_time(day)
    if closes_at is None:
        return None
    return _at(day, REGULAR_OPEN), _at(day, closes_at)


def trading_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of the New York calendar day in UTC: what "today" means for daily caps."""
    return _at(day, time(0, 0)), _at(day + timedelta(days=1), time(0, 0))


def session_at(now: datetime) -> Session:
    local = now.astimezone(MARKET_TZ)
    closes_at = close_time(local.date())
    if closes_at is None:
        return Session.CLOSED
    moment = local.time()
    post_ends = EARLY_POST_CLOSE if closes_at == EARLY_CLOSE else POST_CLOSE
    if PRE_OPEN <= moment < REGULAR_OPEN:
        return Session.PRE
    if REGULAR_OPEN <= moment < closes_at:
        return Session.RTH
    if closes_at <= moment < post_ends:
        return Session.POST
    return Session.CLOSED


def is_regular_hours(now: datetime) -> bool:
    return session_at(now) is Session.RTH


def next_trading_day(day: date) -> date:
    """The first trading day strictly after `day`."""
    candidate = day + timedelta(days=1)
    while not is_trading_day(candidate):
        candidate += timedelta(days=1)
    return candidate


def previous_trading_day(day: date) -> date:
    """The last trading day strictly before `day`."""
    candidate = day - timedelta(days=1)
    while not is_trading_day(candidate):
        candidate -= timedelta(days=1)
    return candidate


def _next_session_edge(now: datetime, edge: int) -> datetime:
    """The first regular-session open (edge 0) or close (edge 1) at or after `now`."""
    day = market_date(now)
    session = regular_session(day)
    if session is not None and session[edge] >= now:
        return session[edge]
    following = regular_session(next_trading_day(day))
    assert following is not None
    return following[edge]


def next_open(now: datetime) -> datetime:
    """The first regular-session open at or after `now` (mid-session: tomorrow's open)."""
    return _next_session_edge(now, 0)


def next_close(now: datetime) -> datetime:
    """The first regular-session close at or after `now` (mid-session: today's close)."""
    return _next_session_edge(now, 1)
