"""Provider failures, classified from HTTP status codes and exception types — never by reading
numbers out of messages (the old classifier took a 512 strike for an HTTP 512).

| class              | from                                   | retried | breaker               |
|--------------------|----------------------------------------|---------|-----------------------|
| TransientError     | 5xx, 408, timeouts, connection errors  | yes     | counts a failure      |
| RateLimitedError   | 429                                    | no      | counts a failure      |
| EntitlementError   | 401, 403                               | no      | opens for 30 minutes  |
| NoDataError        | 404 / empty answer / not supported     | no      | neutral (healthy)     |
| BadResponseError   | other 4xx, malformed bodies            | no      | counts a failure      |
| InvalidDataError   | a price failing validity/sanity bounds | no      | neutral (it answered) |
"""

from __future__ import annotations

MARKET_DATA_UNAVAILABLE = "market_data_unavailable"


class ProviderError(Exception):
    """A provider could not answer. `status` is the HTTP status when there was one."""

    retryable = False
    counts_as_failure = True

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransientError(ProviderError):
    retryable = True


class RateLimitedError(ProviderError):
    pass


class EntitlementError(ProviderError):
    pass


class NoDataError(ProviderError):
    """The provider is healthy but has nothing for this request (or never serves this kind)."""

    counts_as_failure = False


class BadResponseError(ProviderError):
    pass


class InvalidDataError(ProviderError):
    """The provider answered, but with a price we refuse (not finite, ≤ 0, outside bounds)."""

    counts_as_failure = False


def error_for_status(status: int, message: str) -> ProviderError:
    if status == 429:
        return RateLimitedError(message, status=status)
    if status in (401, 403):
        return EntitlementError(message, status=status)
    if status == 404:
        return NoDataError(message, status=status)
    if status == 408 or status >= 500:
        return TransientError(message, status=status)
    return BadResponseError(message, status=status)


def error_for_exception(exc: Exception) -> ProviderError:
    """Map an httpx transport exception (or a JSON decode error) onto a provider error."""
    import httpx  # here, not at the top: pure engines import this package's types without HTTP

    # Timeouts, refused/reset connections and protocol breaks are all TransportErrors.
    if isinstance(exc, httpx.TransportError):
        return TransientError(f"{type(exc).__name__}: {exc}")
    return BadResponseError(f"{type(exc).__name__}: {exc}")


class MarketDataUnavailable(Exception):
    """Every provider in the chain failed or had nothing: reason code `market_data_unavailable`.

    Raised by the service (never a provider); callers map it to their outcome (the
    orchestrator retries the signal, the executor leaves the order pending). `attempts` holds
    (provider, error class name, message) for logs and traces.
    """

    reason = MARKET_DATA_UNAVAILABLE

    def __init__(self, what: str, attempts: list[tuple[str, str, str]]) -> None:
        tried = "; ".join(f"{name}: {kind} ({detail})" for name, kind, detail in attempts) or "no provider"
        super().__init__(f"{MARKET_DATA_UNAVAILABLE}: {what} — {tried}")
        self.what = what
        self.attempts = attempts
