"""Pure modules stay pure: importing them loads no Django (so no ORM or settings) and no clock."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE_MODULES = [
    "optionsengine.lib.market_calendar",
    "optionsengine.lib.option_contracts",
    "optionsengine.lib.option_math",
    "optionsengine.lib.money",
    "optionsengine.lib.symbols",
    "optionsengine.marketdata.simulated.path",
    "optionsengine.marketdata.simulated.chain",
    "signals_app.engines.normalize",
    "signals_app.engines.webhook_payload",
    "bias_app.engines.validation",
    "bias_app.engines.normalize",
    "bias_app.engines.derive",
    "bias_app.engines.staleness",
    "bias_app.engines.gating",
    "bias_app.engines.config",
]
FORBIDDEN = ("django", "optionsengine.lib.clock")


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_django_and_no_clock(module):
    probe = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'django' or m in {FORBIDDEN!r})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"
