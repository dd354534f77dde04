"""What a person sees: the P&L page rendered by headless Chromium (skipped when none is installed).

`.ci/run` installs Debian's `chromium`. The browser logs in through the test URLconf's login
helper (a real session cookie, then a redirect to the page), like an operator after the admin login.
"""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

from tests.pnl.conftest import make_closed

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: `apt-get install -y chromium` (CI installs it)"),
    pytest.mark.urls("tests.pnl.urls"),
]

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1200,900",
]


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=180, check=False,
    )


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])  # IHDR width, height


@pytest.fixture
def page_url(live_server, transactional_db, django_user_model):
    django_user_model.objects.create_user(username="ops", password="pw-ops-123", is_staff=True)
    make_closed("250.00", minutes=0, symbol="SPY", engine="A", r="1.2500")
    make_closed("-100.00", minutes=1, symbol="QQQ", engine="B", r="-0.5000")
    make_closed("50.00", minutes=2, symbol="SPY", engine="A")
    make_closed("-75.00", minutes=3, symbol="SPY", engine="B", r="-0.3750")
    make_closed("180.00", minutes=4, symbol="IWM", engine="A", r="0.9000")
    return f"{live_server.url}/__test__/login/ops?next=/ops/pnl"


def test_rendered_dom_has_the_curve_and_the_tables(tmp_path, page_url):
    result = _chromium(tmp_path, "--dump-dom", page_url)
    dom = result.stdout
    assert "<svg" in dom, f"no page rendered; chromium said: {result.stderr[-2000:]}"
    assert 'id="equity-curve"' in dom and "<polyline" in dom and dom.count("<circle") == 5
    assert 'id="by-engine"' in dom and 'id="by-symbol"' in dom
    assert "$305.00" in dom  # 250 − 100 + 50 − 75 + 180
    assert 'name="password"' not in dom  # logged in: the page, not the login form


def test_screenshot_is_not_blank(tmp_path, page_url):
    shot, blank = tmp_path / "pnl.png", tmp_path / "blank.png"
    result = _chromium(tmp_path, f"--screenshot={shot}", page_url)
    assert shot.is_file(), f"no screenshot; chromium said: {result.stderr[-2000:]}"
    _chromium(tmp_path, f"--screenshot={blank}", "data:text/html,<html><body></body></html>")
    assert _png_size(shot) == (1200, 900)
    # A white page compresses to almost nothing; the curve, cards and tables do not.
    assert blank.is_file() and shot.stat().st_size > 5 * blank.stat().st_size
    assert shot.stat().st_size > 20_000
    print(f"screenshot: {shot}")
