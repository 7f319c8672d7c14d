"""The SSO sessions' purger (registered with core.purge in SSOConfig.ready)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q

from core.purge import delete_in_batches

from .models import SSOSession


def purge_sessions(*, now, batch_size):
    """SSO sessions that ended (revoked or expired) more than SSO_SESSION_RETENTION_SECONDS ago."""
    cutoff = now - timedelta(seconds=settings.SSO_SESSION_RETENTION_SECONDS)
    ended = Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff) | Q(idle_expires_at__lt=cutoff)
    return delete_in_batches(SSOSession.objects.filter(ended), batch_size=batch_size)
