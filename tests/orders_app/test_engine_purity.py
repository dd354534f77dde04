"""The fill, cooldown and P&L engines import no Django and no clock (they get `now` passed in)."""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = ("django", "optionsengine.lib.clock")


@pytest.mark.parametrize("module", ["orders_app.engines.fills", "orders_app.engines.cooldown", "positions_app.engines.pnl"])
def test_engine_is_pure(module):
    probe = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'django' or m in {FORBIDDEN!r})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"
