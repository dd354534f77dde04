"""Reads of the orders tables for other stages."""

from __future__ import annotations

from orders_app.models import RiskLimit


def get_active_risk_limit() -> RiskLimit | None:
    """The newest enabled risk_limits row (SPEC §2); None when every row is disabled."""
    return RiskLimit.objects.filter(enabled=True).order_by("-created_at").first()
