"""Ops tests start from an empty cache, like the pipeline tests (shared Redis in CI)."""

from __future__ import annotations

import pytest

from tests.pipeline.conftest import _forget_cached_state


@pytest.fixture(autouse=True)
def _isolated_cache():
    _forget_cached_state()
    yield
    _forget_cached_state()


@pytest.fixture(autouse=True)
def _fast_path_on(settings):
    """These tests exercise the fast path (on by default); say so, whatever the test settings do."""
    settings.PIPELINE_FAST_PATH = True
