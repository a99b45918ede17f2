from django.contrib import admin

from audit.models import AuditLog
from core.admin import ReadOnlyModelAdmin


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyModelAdmin):
    """Read-only: staff can search and read the log, never add, change or delete."""

    list_display = ["at", "actor_username", "action", "target_type", "target_id", "ip"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_username", "target_id", "request_id"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditLog._meta.fields]
