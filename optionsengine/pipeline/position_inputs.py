"""Inputs the position refresher and the exit monitor share: quotes, exit rules, bias states.

Quotes are fetched here, before either stage opens its transaction (network I/O never runs
inside one). Each distinct contract is fetched once per pass, however many positions hold it.
The other reads are one query each, whatever the number of positions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from bias_app.engines.staleness import with_staleness
from bias_app.models import BiasStateCurrent
from bias_app.selectors import get_bias_config, get_staleness_config
from optionsengine import marketdata
from optionsengine.lib import money
from optionsengine.lib.money import to_decimal_or_none
from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.types import OptionContract, OptionQuote
from positions_app.engines.exit_inputs import ExitRulesConfig, Greeks, PositionView, QuoteView
from positions_app.models import Position
from positions_app.selectors import get_active_exit_rule

logger = logging.getLogger(__name__)

ContractKey = tuple[str, date, str, Decimal]
CHAIN_MIN_CONTRACTS = 8  # below this, single-contract quotes are cheaper than a whole chain


def contract_key(symbol: str, expiration: date, option_type: str, strike: Decimal) -> ContractKey:
    return (symbol, expiration, option_type, money.price(strike))


def position_key(position: Position) -> ContractKey:
    return contract_key(position.symbol, position.expiration, position.type, position.strike)


def fetch_quotes(keys: Iterable[ContractKey]) -> dict[ContractKey, QuoteView]:
    """Quotes for every distinct contract; a contract no provider can price is left out.

    Where at least `CHAIN_MIN_CONTRACTS` contracts share an underlying and expiration, one option
    chain answers them all (one provider request instead of many; chains are cached 60 s);
    a contract the chain lacks, or a chain that fails, falls back to a single-contract quote
    (cached 30 s, with the last-known fallback).
    """
    service = marketdata.get_service()
    groups: dict[tuple[str, date], list[ContractKey]] = {}
    for key in dict.fromkeys(keys):
        groups.setdefault((key[0], key[1]), []).append(key)
    quotes: dict[ContractKey, QuoteView] = {}
    for (symbol, expiration), members in groups.items():
        chain = None
        if len(members) >= CHAIN_MIN_CONTRACTS:
            try:
                chain = service.option_chain(symbol, expiration)
            except marketdata.MarketDataUnavailable as exc:
                logger.info("no option chain for %s %s: %s", symbol, expiration, exc)
        for key in members:
            contract = OptionContract(symbol, expiration, OptionRight(key[2]), key[3])
            found = chain.find(contract) if chain is not None else None
            if found is None:
                try:
                    found = service.option_quote(contract)
                except marketdata.MarketDataUnavailable as exc:
                    logger.info("no option quote for %s: %s", contract.option_symbol, exc)
                    continue
            quotes[key] = quote_view(found)
    return quotes


def quote_view(quote: OptionQuote) -> QuoteView:
    greeks = quote.greeks
    return QuoteView(
        mark=money.price(quote.mid),
        as_of=quote.as_of,
        bid=quote.bid,
        ask=quote.ask,
        iv=quote.iv,
        greeks=Greeks(greeks.delta, greeks.gamma, greeks.theta, greeks.vega) if greeks else None,
        underlying_price=quote.underlying_price,
        stale=quote.stale,
    )


def exit_rules_config() -> ExitRulesConfig:
    """The newest enabled `exit_rules` row, or the seeded defaults when none is enabled (the
    original evaluated no exit at all then, not even at expiry)."""
    rule = get_active_exit_rule()
    if rule is None:
        logger.warning("no enabled exit_rules row: using the defaults")
        return ExitRulesConfig()
    return ExitRulesConfig(
        profit_target_percent=rule.profit_target_percent,
        stop_loss_percent=rule.stop_loss_percent,
        max_hold_time_hours=rule.max_hold_time_hours,
        min_dte_exit=rule.min_dte_exit,
        trailing_stop_percent=rule.trailing_stop_percent,
        trailing_stop_activation_percent=rule.trailing_stop_activation_percent,
    )


def macro_drift_threshold() -> Decimal:
    """The tuned `bias_config.adaptive.macroDriftThreshold` (cached 30 s by the accessor)."""
    value = to_decimal_or_none(get_bias_config("adaptive").get("macroDriftThreshold"))
    return Decimal("0.18") if value is None else value


def fresh_bias_states(symbols: Iterable[str], now: datetime) -> dict[str, dict]:
    """Current bias state per symbol, only where it is not stale (one query). A stale state would
    keep re-firing transitions that are no longer news."""
    wanted = sorted(set(symbols))
    if not wanted:
        return {}
    staleness = get_staleness_config()
    rows = BiasStateCurrent.objects.filter(symbol__in=wanted).values_list("symbol", "state_json")
    states: dict[str, dict] = {}
    for symbol, state in rows:
        if not state:
            continue
        fresh = with_staleness(state, now, staleness)
        if not fresh.get("isStale"):
            states[symbol] = fresh
    return states


def position_view(position: Position) -> PositionView:
    return PositionView(
        position_id=position.position_id,
        option_type=position.type,
        quantity=position.quantity,
        initial_quantity=position.initial_quantity,
        entry_price=position.entry_price,
        entry_timestamp=position.entry_timestamp,
        expiration=position.expiration,
        setup_type=position.setup_type,
        partials_taken=tuple(str(k) for k in (position.partials_taken or ())),
        trailing_stop_price=position.trailing_stop_price,
        high_water_mark=position.high_water_mark,
        underlying_entry_price=position.underlying_entry_price,
        greeks_at_entry=Greeks.from_mapping(position.greeks_at_entry),
        iv_at_entry=position.iv_at_entry,
        entry_strength_delta=position.entry_acceleration_state_strength_delta,
        entry_mode_hint=position.entry_mode_hint,
        last_mark=position.current_price,
        last_pnl_percent=position.position_pnl_percent,
        last_updated=position.last_updated,
    )
