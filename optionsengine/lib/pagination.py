"""Limit/offset pagination for list endpoints: `?limit=` (1–500, default PAGE_SIZE) and `?offset=`;
responses are `{count, next, previous, results}`."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response


class ApiPagination(LimitOffsetPagination):
    max_limit = 500


def paginated_response(*, serializer_class, queryset, request, view) -> Response:
    paginator = getattr(view, "pagination_class", None) or ApiPagination
    paginator = paginator()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
