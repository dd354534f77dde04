"""Admin building blocks shared by every app: read-only pipeline tables and a JSON viewer."""

from __future__ import annotations

import json

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.html import format_html


class ReadOnlyAdmin(admin.ModelAdmin):
    """Pipeline tables are written by services only; operators act through admin actions."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EstimatedCountPaginator(Paginator):
    """Large append-only tables: skip the exact COUNT(*) on PostgreSQL (the planner's estimate will do)."""

    @cached_property
    def count(self):
        query = self.object_list.query
        if not query.where and self.object_list.db == "default":
            from django.db import connection

            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [self.object_list.model._meta.db_table])
                    row = cursor.fetchone()
                if row and row[0] > 10_000:
                    return int(row[0])
        return super().count


def pretty_json(value) -> str:
    """Render a JSON column as indented, escaped text for the change page."""
    if value is None:
        return "—"
    return format_html('<pre style="white-space: pre-wrap; max-width: 100ch">{}</pre>', json.dumps(value, indent=2, sort_keys=True, default=str))
