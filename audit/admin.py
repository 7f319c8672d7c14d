from django.contrib import admin

from core.admin import ReadOnlyAdminMixin, labelled

from .models import SecurityEvent

CLIENT_ID = labelled("client_id", "client ID")


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit log, read-only: events are written by audit.record only, and removed only by
    the purge (AUDIT_RETENTION_DAYS)."""

    list_display = ("created_at", "event", "outcome", "actor_username", "subject_username", CLIENT_ID, "ip_address")
    list_filter = ("event", "outcome", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=actor_username", "=subject_username", "=client_id")
    # No date_hierarchy: its drill-down aggregates the dates of the whole table on every page.
    list_per_page = 50
    show_full_result_count = False  # no COUNT(*) over the whole log on every page
    fields = (
        "created_at",
        "event",
        "outcome",
        ("actor_username", labelled("actor_id", "actor's user ID")),
        ("subject_username", labelled("subject_id", "subject's user ID")),
        CLIENT_ID,
        "ip_address",
        "user_agent",
        "detail",
    )
    readonly_fields = tuple(name for row in fields for name in (row if isinstance(row, tuple) else (row,)))
