"""Pure modules stay pure: importing them loads no Django (so no ORM or settings), no HTTP client and no clock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Pure modules outside an engines/ package, listed by hand; every module under an app's engines/
# package is discovered below, so new engines are checked without editing this file.
PURE_LIB_MODULES = [
    "optionsengine.lib.market_calendar",
    "optionsengine.lib.option_contracts",
    "optionsengine.lib.option_math",
    "optionsengine.lib.money",
    "optionsengine.lib.symbols",
    "optionsengine.marketdata.simulated.path",
    "optionsengine.marketdata.simulated.chain",
]


def discover_engine_modules() -> list[str]:
    """Every module in an `engines` package of a first-party app (any depth, __init__ included)."""
    modules = []
    packages = [d for d in sorted(ROOT.iterdir()) if d.is_dir() and not d.name.startswith(".") and (d / "__init__.py").is_file()]
    for package in packages:
        if package.name == "tests":
            continue
        for path in sorted(package.glob("**/engines/**/*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules.append(".".join(parts))
    return modules


ENGINE_MODULES = discover_engine_modules()
PURE_MODULES = PURE_LIB_MODULES + ENGINE_MODULES


def test_engine_discovery_finds_every_app_engine_package():
    for package in ("signals_app.engines", "bias_app.engines"):
        assert package in ENGINE_MODULES
    assert "signals_app.engines.normalize" in ENGINE_MODULES and "bias_app.engines.derive" in ENGINE_MODULES


FORBIDDEN = ("django", "httpx", "optionsengine.lib.clock")


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_django_and_no_clock(module):
    probe = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'httpx') or m in {FORBIDDEN!r})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"
