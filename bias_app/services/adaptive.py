"""Switching adaptive tuning on and off (`bias_config['adaptive'].enabled`, SPEC §11, §13).

Requires the caller's transaction. Goes through `services.config.update_bias_config`, so the
change is validated and the cached config dropped on commit (every process sees it within a
minute); the tuner's own keys (`lastRunDate`, `lastRunSummary`, tuned values) are kept.
"""

from __future__ import annotations

from bias_app.engines.config import merge_config
from bias_app.models import BiasConfig
from bias_app.services.config import update_bias_config
from optionsengine.lib.transactions import require_transaction


def set_adaptive_enabled(*, enabled: bool | None) -> tuple[bool, bool]:
    """Set `enabled` (None flips it). Returns (previous, new)."""
    require_transaction()
    stored = (BiasConfig.objects.select_for_update().filter(config_key=BiasConfig.Key.ADAPTIVE)
              .values_list("config_json", flat=True).first())
    stored = dict(stored) if isinstance(stored, dict) else {}
    merged, _ = merge_config(BiasConfig.Key.ADAPTIVE, stored)
    previous = bool(merged.get("enabled", True))
    new = (not previous) if enabled is None else bool(enabled)
    update_bias_config(key=BiasConfig.Key.ADAPTIVE, values={**stored, "enabled": new})
    return previous, new
