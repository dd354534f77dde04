"""Reads of the bias tables. Other apps and stages read bias only through here.

States come back as camelCase `UnifiedBiasState` dicts with `isStale` / `stalenessMinutes`
recomputed for `now` (SPEC §4: staleness is computed on read).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings

from bias_app import cache
from bias_app.engines.config import GatingConfig, StalenessConfig, merge_config
from bias_app.engines.gating import EntryGateConfig
from bias_app.engines.staleness import with_staleness
from bias_app.models import BiasConfig, BiasStateCurrent, BiasStateHistory
from optionsengine.lib import clock
from optionsengine.lib.symbols import normalize_symbol

logger = logging.getLogger(__name__)

HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 100


def get_bias_config(key: str) -> dict:
    """The one accessor for `bias_config` (gating, staleness, risk, adaptive).

    Defaults from `bias_app.defaults` merged under the stored row, cached for
    `cache.CONFIG_TTL_SECONDS` and invalidated when the admin saves a row, so an edit is seen by
    every process within a minute. Wrong-typed values fall back to their default (logged).
    """
    cache_key = cache.config_key(key)
    cached = cache.get(cache_key)
    if isinstance(cached, dict):
        return cached
    stored = BiasConfig.objects.filter(config_key=key).values_list("config_json", flat=True).first()
    merged, problems = merge_config(key, stored)
    for problem in problems:
        logger.warning("bias_config: %s; using the default", problem)
    cache.set(cache_key, merged, cache.CONFIG_TTL_SECONDS)
    return merged


def get_gating_config() -> GatingConfig:
    return GatingConfig.from_mapping(get_bias_config("gating"))


def get_staleness_config() -> StalenessConfig:
    return StalenessConfig.from_mapping(get_bias_config("staleness"))


def get_entry_gate_config() -> EntryGateConfig:
    """Inputs of `bias_app.engines.gating.entry_gate` as configured now."""
    return EntryGateConfig(
        require_bias=settings.REQUIRE_MTF_BIAS_FOR_ENTRY,
        staleness=get_staleness_config(),
    )


def _stored_state(symbol: str) -> dict | None:
    use_cache = cache.state_cache_enabled()
    if use_cache:
        cached = cache.get(cache.state_key(symbol))
        if isinstance(cached, dict) and "updatedAtMs" in cached:
            return cached
    state = BiasStateCurrent.objects.filter(symbol=symbol).values_list("state_json", flat=True).first()
    if not state:  # no row, or a row created by a transaction that has not finished its first event
        return None
    if use_cache:
        # add, not set: a writer's newer on-commit value must win over this possibly older read.
        cache.add(cache.state_key(symbol), state, cache.STATE_TTL_SECONDS)
    return state


def get_bias_state(symbol: str, *, now: datetime | None = None) -> dict | None:
    """The current unified state for `symbol` (any spelling: `nasdaq:spy` → SPY), or None."""
    normalized = normalize_symbol(symbol)
    if normalized is None:
        return None
    state = _stored_state(normalized)
    if state is None:
        return None
    return with_staleness(state, now or clock.now(), get_staleness_config())


def list_bias_history(symbol: str, *, limit: int = HISTORY_DEFAULT_LIMIT) -> list[dict]:
    """Applied states for `symbol`, newest event first (out-of-order events are not states)."""
    normalized = normalize_symbol(symbol)
    if normalized is None:
        return []
    limit = min(max(limit, 1), HISTORY_MAX_LIMIT)
    rows = (
        BiasStateHistory.objects.filter(symbol=normalized, status=BiasStateHistory.Status.ACCEPTED)
        .order_by("-event_ts_ms")
        .values_list("state_json", flat=True)[:limit]
    )
    return list(rows)


def _summary_row(state: dict) -> dict:
    effective = state.get("effective") or {}
    acceleration = state.get("acceleration")
    return {
        "symbol": state["symbol"],
        "updatedAtMs": state["updatedAtMs"],
        "source": state.get("source"),
        "bias": state.get("bias"),
        "biasScore": state.get("biasScore"),
        "effectiveBiasScore": effective.get("effectiveBiasScore"),
        "confidence": state.get("confidence"),
        "effectiveConfidence": effective.get("effectiveConfidence"),
        "regimeType": state.get("regimeType"),
        "macroClass": state.get("macroClass"),
        "intentType": state.get("intentType"),
        "tradeSuppressed": effective.get("tradeSuppressed", False),
        "suppressLong": effective.get("suppressLong", effective.get("tradeSuppressed", False)),
        "suppressShort": effective.get("suppressShort", effective.get("tradeSuppressed", False)),
        "isStale": state["isStale"],
        "stalenessMinutes": state["stalenessMinutes"],
        "macroDriftScore": (acceleration or {}).get("macroDriftScore"),
        "acceleration": acceleration,
        "lastSuppressionReason": "; ".join(effective.get("notes") or []) or None,
    }


def list_bias_summaries(*, now: datetime | None = None) -> list[dict]:
    """One summary row per symbol, most recently updated first (reads the table, not the cache)."""
    moment = now or clock.now()
    staleness = get_staleness_config()
    states = BiasStateCurrent.objects.order_by("-updated_at_ms").values_list("state_json", flat=True)
    return [_summary_row(with_staleness(state, moment, staleness)) for state in states if state]
