"""Writes to `bias_config`. Requires the caller's transaction; readers use `selectors.get_bias_config`."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from bias_app import cache
from bias_app.engines.config import merge_config
from bias_app.models import BiasConfig
from optionsengine.lib import clock
from optionsengine.lib.transactions import require_transaction


class InvalidBiasConfig(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def invalidate_bias_config(key: str) -> None:
    cache.delete(cache.config_key(key))


def save_bias_config(*, config: BiasConfig) -> BiasConfig:
    """Validate and save an edited row (e.g. from the admin); every process sees it within a minute.

    Refuses values the accessor would replace by defaults, so an operator's typo is reported
    instead of silently ignored. The shared cache entry is dropped on commit; processes with a
    local-memory cache pick the change up when their entry expires (≤ CONFIG_TTL_SECONDS).
    """
    require_transaction()
    _, problems = merge_config(config.config_key, config.config_json)
    if problems:
        raise InvalidBiasConfig(problems)
    config.updated_at = clock.now()
    config.save()
    transaction.on_commit(partial(invalidate_bias_config, config.config_key))
    return config


def update_bias_config(*, key: str, values: dict) -> BiasConfig:
    """Replace the stored JSON of one key (creating the row if a migration never seeded it)."""
    require_transaction()
    config = BiasConfig.objects.select_for_update().filter(config_key=key).first() or BiasConfig(config_key=key)
    config.config_json = values
    return save_bias_config(config=config)
