"""Purgers for `manage.py purge_expired` (registered with core.purge in OAuthConfig.ready)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from core.purge import delete_in_batches

from . import rotation
from .models import AccessToken, BackchannelLogout, Grant, IDToken, InitialAccessToken, RefreshToken


def purge_grants(*, now, batch_size):
    """Authorization codes, once a session started when they were issued must have ended:
    a redeemed code records which client logged in under which session (back-channel
    logout) and lets a replay be recognised, so it outlives its 60 seconds."""
    cutoff = now - timedelta(seconds=settings.SSO_SESSION_ABSOLUTE_SECONDS)
    return delete_in_batches(Grant.objects.filter(expires__lt=cutoff), batch_size=batch_size)


def purge_tokens(*, now, batch_size):
    """Refresh tokens past their lifetime (revoked ones too, once a replay could no longer be
    told from an unknown token), then expired access and ID tokens nothing points to."""
    stale = now - rotation.longest_lifetime()  # a live token is usable that long past its access token
    refresh = RefreshToken.objects.filter(Q(revoked__lt=stale) | Q(access_token__expires__lt=stale))
    deleted = delete_in_batches(refresh, batch_size=batch_size)
    # Without the collector (signals, SET_NULL, instances): see expired_access_tokens.
    deleted += delete_in_batches(expired_access_tokens(now), batch_size=batch_size, collect=False)
    has_access_token = AccessToken.objects.filter(id_token=OuterRef("pk"))
    id_tokens = IDToken.objects.filter(~Exists(has_access_token), expires__lt=now)
    return deleted + delete_in_batches(id_tokens, batch_size=batch_size)


def expired_access_tokens(now):
    """Access tokens expired before `now` (at most the current time) that no refresh token
    points to: an expired access token still anchors its live refresh token (DOT refuses to
    refresh an orphan), so those stay until their refresh token goes.

    These rows may be deleted without Django's collector (`collect=False`), which would load
    each row as a model instance, send `post_delete` for each and UPDATE the refresh tokens:
    - the one `post_delete` receiver, `receivers.forget_deleted_access_token`, does nothing for
      a row past its `expires`, so skipping it skips nothing. It marks a *revoked* token dead
      in the revocation store's Redis fast path; an expired token is not revoked, is refused on
      its `exp` (`claims.check_claims`; `resource._rows` reads unexpired rows only), and its
      allow-list key expires on its own (every TTL is capped at SSO_REVOCATION_CACHE_SECONDS);
    - the one relation to the table, `RefreshToken.access_token` (SET_NULL), is empty for these
      rows by the filter below. Were a refresh token made to point at one while its batch runs
      (no code does that: a refresh token is issued with a new, live access token), the foreign
      key would fail one of the two transactions rather than leave it dangling; the collector's
      UPDATE would not have seen that uncommitted refresh token either.
    `oauth/tests/test_purge.py` pins that list of receivers and relations: a new one must be
    looked at here before that test is changed.

    NOT EXISTS, not `refresh_token__isnull=True`: PostgreSQL plans the LEFT JOIN ... IS NULL
    that the latter writes as a hash join of both whole tables plus a sort, at every batch.
    """
    anchored = RefreshToken.objects.filter(access_token=OuterRef("pk"))
    return AccessToken.objects.filter(~Exists(anchored), expires__lt=now)


def purge_backchannel_logouts(*, now, batch_size):
    """Outbox rows delivered, or given up, longer than BACKCHANNEL_LOGOUT_RETENTION_SECONDS ago."""
    cutoff = now - timedelta(seconds=settings.BACKCHANNEL_LOGOUT_RETENTION_SECONDS)
    done = Q(delivered_at__lt=cutoff) | Q(
        delivered_at__isnull=True, next_attempt_at__isnull=True, created_at__lt=cutoff
    )
    return delete_in_batches(BackchannelLogout.objects.filter(done), batch_size=batch_size)


def purge_initial_access_tokens(*, now, batch_size):
    """Initial access tokens (client registration) that expired or were spent: no request can
    use them any more (their issue and every use are in the audit log)."""
    done = Q(expires_at__lt=now) | Q(uses_left=0)
    return delete_in_batches(InitialAccessToken.objects.filter(done), batch_size=batch_size)
