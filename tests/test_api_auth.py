"""API tokens: issued by POST /api/auth/token, accepted as `Token <key>` or `Bearer <key>`."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(client, django_user_model):
    django_user_model.objects.create_user("ops", password="pw-123456")
    response = client.post("/api/auth/token", {"username": "ops", "password": "pw-123456"})
    assert response.status_code == 200
    return response.json()["token"]


@pytest.mark.parametrize("keyword", ["Token", "Bearer"])
def test_api_accepts_the_token_under_either_keyword(client, token, keyword):
    assert client.get("/api/bias/summary", HTTP_AUTHORIZATION=f"{keyword} {token}").status_code == 200


def test_api_refuses_requests_without_a_valid_token(client, token):
    assert client.get("/api/bias/summary").status_code == 401
    assert client.get("/api/bias/summary", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
