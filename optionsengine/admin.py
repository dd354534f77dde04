"""Admin for the project's own tables."""

from django.contrib import admin

from optionsengine.lib.admin import ReadOnlyAdmin
from optionsengine.models import SecurityEvent


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "client_addr", "username", "detail")
    list_filter = ("kind",)
    search_fields = ("client_addr", "username")
    date_hierarchy = "created_at"
