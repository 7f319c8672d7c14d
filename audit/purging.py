"""The audit log's purger (registered with core.purge in AuditConfig.ready)."""

from datetime import timedelta

from django.conf import settings

from core.purge import delete_in_batches

from .models import SecurityEvent


def purge_events(*, now, batch_size):
    """Security events older than AUDIT_RETENTION_DAYS (0 keeps them for ever)."""
    days = settings.AUDIT_RETENTION_DAYS
    if days <= 0:
        return 0
    old = SecurityEvent.objects.filter(created_at__lt=now - timedelta(days=days))
    # No signal, cascade or SET_NULL points at this table: one DELETE per batch will do.
    return delete_in_batches(old, batch_size=batch_size, collect=False)
