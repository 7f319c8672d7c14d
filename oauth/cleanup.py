"""Purgers for `manage.py purge_expired` (registered with sso.purge in OAuthConfig.ready)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from oauth2_provider.models import refresh_token_expire_timedelta

from sso.purge import delete_in_batches

from .models import AccessToken, BackchannelLogout, Grant, IDToken, RefreshToken


def purge_grants(*, now, batch_size):
    """Authorization codes, once a session started when they were issued must have ended:
    a redeemed code records which client logged in under which session (back-channel
    logout) and lets a replay be recognised, so it outlives its 60 seconds."""
    cutoff = now - timedelta(seconds=settings.SSO_SESSION_ABSOLUTE_SECONDS)
    return delete_in_batches(Grant.objects.filter(expires__lt=cutoff), batch_size=batch_size)


def purge_tokens(*, now, batch_size):
    """Refresh tokens past their lifetime (revoked ones too, once a replay could no longer be
    told from an unknown token), then expired access and ID tokens nothing points to."""
    lifetime = refresh_token_expire_timedelta() or timedelta(days=3650)
    stale = now - lifetime
    refresh = RefreshToken.objects.filter(Q(revoked__lt=stale) | Q(access_token__expires__lt=stale))
    deleted = delete_in_batches(refresh, batch_size=batch_size)
    # An expired access token still anchors its live refresh token (DOT refuses an orphan).
    access = AccessToken.objects.filter(expires__lt=now, refresh_token__isnull=True)
    deleted += delete_in_batches(access, batch_size=batch_size)
    id_tokens = IDToken.objects.filter(expires__lt=now, access_token__isnull=True)
    return deleted + delete_in_batches(id_tokens, batch_size=batch_size)


def purge_backchannel_logouts(*, now, batch_size):
    """Outbox rows delivered, or given up, longer than BACKCHANNEL_LOGOUT_RETENTION_SECONDS ago."""
    cutoff = now - timedelta(seconds=settings.BACKCHANNEL_LOGOUT_RETENTION_SECONDS)
    done = Q(delivered_at__lt=cutoff) | Q(
        delivered_at__isnull=True, next_attempt_at__isnull=True, created_at__lt=cutoff
    )
    return delete_in_batches(BackchannelLogout.objects.filter(done), batch_size=batch_size)
