"""Per-address throttles (DRF): token logins, and webhook requests that fail authentication.

Not in optionsengine.lib.auth: DRF imports the authentication classes while loading its settings,
and the token view imports DRF settings, so one module holding both would import itself.
"""

import logging

from django.conf import settings
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import SimpleRateThrottle

security_log = logging.getLogger("optionsengine.security")


class LiveRateThrottle(SimpleRateThrottle):
    """Rates read from settings at each request (DRF binds them at import), keyed by client address."""

    def get_rate(self):
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][self.scope]

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginRateThrottle(LiveRateThrottle):
    scope = "login"


class ThrottledObtainAuthToken(ObtainAuthToken):
    """POST /api/auth/token with a per-address rate: a login flood answers 429, not CPU-bound hashing."""

    throttle_classes = [LoginRateThrottle]

    def throttled(self, request, wait):
        addr = request.META.get("REMOTE_ADDR") or "unknown"
        security_log.warning("token login throttled for %s (retry after %s s)", addr, wait)
        _audit_login_throttled(addr, _attempted_username(request), wait)
        super().throttled(request, wait)


def _attempted_username(request) -> str:
    try:
        value = request.data.get("username", "")
    except Exception:  # an unparsable body: the 429 stands, there is just no name to record
        return ""
    return value[:150] if isinstance(value, str) else ""


def _audit_login_throttled(addr: str, username: str, wait) -> None:
    """One `security_events` row per address per throttle window (a flood of refused logins must
    not become a flood of INSERTs; every refusal is still logged). Never turns the 429 into a 500."""
    from django.core.cache import cache

    from optionsengine.lib import clock
    from optionsengine.models import SecurityEvent

    seconds = max(1, int(wait or 1))
    try:
        if not cache.add(f"security:login_throttled:{addr}", 1, timeout=seconds):
            return  # already recorded in this window
        SecurityEvent.objects.create(
            kind=SecurityEvent.Kind.LOGIN_THROTTLED, client_addr=addr[:64], username=username,
            detail=f"token login throttled; retry after {seconds} s (later refusals in that window are logged only)",
            created_at=clock.now(),
        )
    except Exception:
        security_log.exception("could not record the throttled login from %s", addr)


obtain_auth_token = ThrottledObtainAuthToken.as_view()
