"""Ops tests exercise the fast path (cache isolation is global: tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast_path_on(settings):
    """These tests exercise the fast path (on by default); say so, whatever the test settings do."""
    settings.PIPELINE_FAST_PATH = True
