from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from optionsengine.lib import clock
from optionsengine.marketdata.registry import reset_service
from tests.api.builders import NOW


@pytest.fixture(autouse=True)
def _at_now():
    with clock.override(NOW):
        yield


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Bias config and market-data answers cached by an earlier test must not leak in."""
    def forget():
        if hasattr(cache, "delete_pattern"):  # django-redis: only our keys, never a shared db
            for pattern in ("*bias*", "*marketdata*"):
                cache.delete_pattern(pattern)
        else:
            cache.clear()
        reset_service()

    forget()
    yield
    forget()


@pytest.fixture
def token(db):
    user = get_user_model().objects.create_user("operator", password="pw-for-tests")
    return Token.objects.create(user=user).key


@pytest.fixture
def api(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client
