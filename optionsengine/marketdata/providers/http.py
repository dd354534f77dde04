"""Shared plumbing for the HTTP providers: one httpx client, JSON decoding, error mapping.

Subclasses set `default_base_url`, supply auth through `auth_headers`/`auth_params`, and may
override `error_from_body` for providers that report errors inside a 2xx body.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from optionsengine.marketdata.base import Provider
from optionsengine.marketdata.errors import BadResponseError, ProviderError, error_for_exception, error_for_status

DEFAULT_TIMEOUT_SECONDS = 5.0


class HttpProvider(Provider):
    default_base_url = ""

    def __init__(
        self,
        *,
        client: httpx.Client | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        # The timeout bounds connect, read, write and pool waits of every request.
        self._client = client or httpx.Client(timeout=timeout)
        self._base_url = (base_url or self.default_base_url).rstrip("/")

    def auth_headers(self) -> dict[str, str]:
        return {}

    def auth_params(self) -> dict[str, str]:
        return {}

    def error_message(self, body: Any) -> str:
        if isinstance(body, dict):
            for key in ("message", "error", "errmsg", "status"):
                if isinstance(body.get(key), str):
                    return body[key]
        return ""

    def error_from_body(self, status: int, body: Any) -> ProviderError | None:
        """The error a response stands for, or None when it is a usable answer."""
        if status >= 400:
            return error_for_status(status, f"{self.name} HTTP {status}: {self.error_message(body)}".strip())
        return None

    def get_json(self, path_or_url: str, params: dict[str, Any] | None = None) -> Any:
        base = path_or_url if path_or_url.startswith("http") else f"{self._base_url}{path_or_url}"
        # Merge rather than replace: pagination cursors arrive as URLs with their own query.
        url = httpx.URL(base).copy_merge_params({**(params or {}), **self.auth_params()})
        try:
            response = self._client.get(url, headers=self.auth_headers())
        except httpx.HTTPError as exc:
            raise error_for_exception(exc) from exc
        try:
            body = json.loads(response.content, parse_float=Decimal) if response.content else None
        except ValueError:
            body = None
            if response.status_code < 400:
                raise BadResponseError(f"{self.name} returned a body that is not JSON") from None
        error = self.error_from_body(response.status_code, body)
        if error is not None:
            raise error
        return body
