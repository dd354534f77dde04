"""The exit engines and the tuner engine stay pure: no Django, no clock."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE_MODULES = [
    "positions_app.engines.exit_reasons",
    "positions_app.engines.exit_inputs",
    "positions_app.engines.exit_rules",
    "positions_app.engines.exit_intelligence",
    "positions_app.engines.exit_policies",
    "positions_app.engines.exit_tiers",
    "positions_app.engines.exit_engine",
    "positions_app.engines.trailing",
    "bias_app.engines.tuner",
]
FORBIDDEN = ("django", "optionsengine.lib.clock")


@pytest.mark.parametrize("module", PURE_MODULES)
def test_engine_imports_no_django_and_no_clock(module):
    probe = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'django' or m in {FORBIDDEN!r})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"
