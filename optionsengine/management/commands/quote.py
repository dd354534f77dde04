"""manage.py quote SYMBOL [--chain [--expiry YYYY-MM-DD] [--strikes N]]

Prints what the configured provider chain answers right now (clock-aware: honours
OPTIONSENGINE_NOW) and which provider answered. Exits non-zero with the reason code
`market_data_unavailable` when no provider can answer.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from optionsengine import marketdata
from optionsengine.lib import clock, market_calendar, option_contracts
from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.service import MarketDataService
from optionsengine.marketdata.types import OptionQuote


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _side(quote: OptionQuote | None) -> list[str]:
    if quote is None:
        return ["-"] * 6
    delta = quote.greeks.delta if quote.greeks else None
    return [_cell(quote.bid), _cell(quote.ask), _cell(quote.mid), _cell(quote.iv), _cell(delta), _cell(quote.open_interest)]


class Command(BaseCommand):
    help = "Print a quote (and optionally an option chain) from the configured market data providers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("symbol", help="underlying symbol, e.g. SPY")
        parser.add_argument("--chain", action="store_true", help="also print the option chain")
        parser.add_argument(
            "--expiry", type=date.fromisoformat, help="chain expiration YYYY-MM-DD (default: nearest listed)"
        )
        parser.add_argument("--strikes", type=int, default=8, help="strikes shown each side of spot (default 8)")

    def handle(self, *args: Any, **options: Any) -> None:
        symbol = str(options["symbol"]).strip().upper()
        service = marketdata.get_service()
        now = clock.now()
        try:
            quote = service.stock_quote(symbol)
        except marketdata.MarketDataUnavailable as exc:
            raise CommandError(str(exc)) from exc
        stale = " STALE (last known)" if quote.stale else ""
        self.stdout.write(
            f"{symbol} {quote.price}  bid {_cell(quote.bid)}  ask {_cell(quote.ask)}  "
            f"as of {quote.as_of.isoformat()}  provider {quote.provider}{stale}"
        )
        self.stdout.write(f"session {market_calendar.session_at(now)} at {now.isoformat()}")
        if options["chain"]:
            expiry = options["expiry"] or self._nearest_live_expiry(now)
            self._print_chain(service, symbol, expiry, quote.price, options["strikes"])

    def _nearest_live_expiry(self, now: datetime) -> date:
        """Today's expiry until its 16:00 New York close, then the next one."""
        today = market_calendar.market_date(now)
        expiry = option_contracts.choose_expiration(today, 0)
        if option_contracts.expiry_moment(expiry) <= now:
            expiry = option_contracts.choose_expiration(today, 1)
        return expiry

    def _print_chain(self, service: MarketDataService, symbol: str, expiry: date, spot: Decimal, width: int) -> None:
        try:
            chain = service.option_chain(symbol, expiry)
        except marketdata.MarketDataUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"\nchain {symbol} {expiry.isoformat()}  {len(chain.quotes)} contracts  provider {chain.provider}"
        )
        strikes = sorted({q.contract.strike for q in chain.quotes}, key=lambda k: abs(k - spot))[: width * 2]
        by_key = {(q.contract.strike, q.contract.right): q for q in chain.quotes}
        header = ["bid", "ask", "mid", "iv", "delta", "oi"]
        self.stdout.write(" ".join(f"{h:>9}" for h in header) + f" |{'strike':>9} | " + " ".join(f"{h:>9}" for h in header))
        for strike in sorted(strikes):
            calls = _side(by_key.get((strike, OptionRight.CALL)))
            puts = _side(by_key.get((strike, OptionRight.PUT)))
            self.stdout.write(
                " ".join(f"{c:>9}" for c in calls)
                + f" |{option_contracts.format_strike(strike):>9} | "
                + " ".join(f"{p:>9}" for p in puts)
            )
