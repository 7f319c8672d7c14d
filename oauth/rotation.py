"""Refresh tokens: which one a request presents, whether it is still acceptable, and its
rotation (the validator hooks of `RefreshTokenRotation`, mixed into oauth.validators.Validator).

- a refresh token is rotated by exactly one request (a conditional UPDATE claims it), never
  forked; the new pair inherits its family and the time the user authenticated;
- reuse of a rotated token revokes its whole family (REFRESH_TOKEN_REUSE_PROTECTION);
- a token is acceptable only while its SSO session is active and the user's not-before has
  not passed it; introspection (oauth.introspection) and the purge (oauth.purge) use the
  same lifetime and session rules as the token endpoint (`usable_until`, `session_allows`).
"""

from datetime import timedelta

from django.db import router
from django.db.models import F, Max
from django.db.models.signals import post_delete, pre_delete
from django.utils import timezone
from oauth2_provider.exceptions import FatalClientError
from oauth2_provider.models import refresh_token_expire_timedelta
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

import audit
from audit import events
from sso import revocation

from . import context
from .models import AccessToken, Client, RefreshToken, token_checksum

# A refresh token outlives its access token by REFRESH_TOKEN_EXPIRE_SECONDS; unset, by this.
UNBOUNDED_LIFETIME = timedelta(days=3650)


def lifetime(client=None):
    """How long a refresh token of `client` stays usable after its access token expires: the
    client's own refresh_token_lifetime, else REFRESH_TOKEN_EXPIRE_SECONDS."""
    if client is not None and client.refresh_token_lifetime:
        return timedelta(seconds=client.refresh_token_lifetime)
    return refresh_token_expire_timedelta() or UNBOUNDED_LIFETIME


def longest_lifetime():
    """The longest lifetime() of any client (what the purge may assume; one query)."""
    longest = Client.objects.aggregate(longest=Max("refresh_token_lifetime"))["longest"]
    return max(lifetime(), timedelta(seconds=longest or 0))


def usable_until(rt, client=None):
    """When the unrevoked refresh token `rt` (of `client`, by default its application) stops
    being usable; None for an orphan (its access token was deleted out of band), which never is."""
    if rt.access_token is None:
        return None
    return rt.access_token.expires + lifetime(client or rt.application)


def session_allows(rt):
    """Whether `rt`'s SSO session (if it is bound to one) is active and the user's not-before
    (global logout, password change) has not passed it. Both events revoke the token too
    (oauth.receivers): this holds should that have failed."""
    if rt.sid and not revocation.is_session_active(sid=rt.sid, user_id=rt.user_id):
        return False
    return revocation.is_issued_after_not_before(user_id=rt.user_id, issued_at=rt.created)


def find(refresh_token):
    """The refresh token row for `refresh_token`, its access token and user joined. Several
    rows may share a checksum (unique with `revoked`): the live one first, then the most
    recently revoked (as DOT)."""
    return (
        RefreshToken.objects.filter(token_checksum=token_checksum(refresh_token))
        .select_related("access_token", "user")
        .order_by(F("revoked").desc(nulls_first=True))
        .first()
    )


def delete_access_token(access_token):
    """Delete one access token whose refresh token no longer points to it, in one DELETE.

    A model delete would go through Django's collector: a SELECT of the rows to delete (there
    are receivers) and the UPDATE that SET_NULL asks for, which the caller's claiming UPDATE
    has already done (the refresh token's `access_token` is the only relation to an access
    token: test_query_budget checks that). The signals the collector sends are sent here, so
    that every receiver sees the deletion: oauth.receivers tells the revocation store's fast
    path after the commit that the token is dead."""
    using = router.db_for_write(AccessToken, instance=access_token)
    pre_delete.send(sender=AccessToken, instance=access_token, using=using, origin=access_token)
    AccessToken.objects.using(using).filter(pk=access_token.pk)._raw_delete(using)
    post_delete.send(sender=AccessToken, instance=access_token, using=using, origin=access_token)


class RefreshTokenRotation:
    """The refresh-token hooks of our OAuth2Validator (mixed in before DOT's)."""

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        # DOT 3.4.1's validation, reading the token with its access token and its user in one
        # query, and comparing the client by id (DOT reads the user and the client again
        # through the foreign keys).
        rt = find(refresh_token)
        if rt is None or not self._refresh_token_usable(rt, client):
            return False
        request.user = rt.user
        # The token as presented: under hashed storage the row holds none (DOT does the same).
        request.refresh_token = refresh_token
        request.refresh_token_instance = rt
        if client is None or rt.application_id != client.pk or not rt.user.is_active:
            return False
        if not session_allows(rt):
            return False
        ctx = context.of(request)
        ctx.sid = rt.sid or None
        ctx.auth_time = rt.auth_time
        ctx.amr = rt.amr or None  # what the original grant had, through every rotation
        ctx.token_family = rt.token_family
        return True

    def _refresh_token_usable(self, rt, client):
        """DOT's rules: a revoked token only within the grace period and only if it was
        superseded (else its reuse revokes the family); a live one only with its access token
        and within REFRESH_TOKEN_EXPIRE_SECONDS of that token's expiry."""
        if rt.revoked is not None:
            grace = timedelta(seconds=oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS)
            grace_expired = rt.revoked <= timezone.now() - grace
            if grace_expired or not AccessToken.objects.filter(source_refresh_token=rt).exists():
                if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION and rt.token_family:
                    RefreshToken.revoke_family(rt.token_family)
                    audit.record(
                        event=events.REFRESH_TOKEN_REUSED,
                        actor=None,
                        subject=rt.user,
                        client_id=getattr(client, "client_id", ""),
                        outcome=events.FAILURE,
                        detail={"family": str(rt.token_family)},
                    )
                return False
            return True
        if client is None or rt.application_id != client.pk:
            return False  # validate_refresh_token refuses it too; its lifetime is the client's
        until = usable_until(rt, client)
        return until is not None and until > timezone.now()

    def _rotate(self, rt, token, request):
        """Issue a new pair for the refresh token `rt`, revoking it and its access token.

        Replaces DOT's path (which locks and re-reads the token three times) with statements
        that act on the rows validate_refresh_token loaded; same semantics: the new pair
        inherits the family, the new access token records its source refresh token.
        Four writes: claim the token, delete its access token, insert the new pair.
        """
        if "scope" not in token:
            raise FatalClientError("Failed to renew access token: missing scope")
        self._check_and_set_request_resource(request)
        # Claim the token with a conditional UPDATE: of concurrent refreshes exactly one
        # matches the live row (the others wait for its row lock, then find it revoked) and
        # rotates it; the others get invalid_grant. No forked chains. The same UPDATE clears
        # the pointer to its access token (what SET_NULL would do when that token is deleted).
        now = timezone.now()
        old_access_token = rt.access_token
        claimed = RefreshToken.objects.filter(
            pk=rt.pk, revoked__isnull=True, access_token_id=rt.access_token_id
        ).update(revoked=now, updated=now, access_token=None)
        if not claimed:
            raise errors.InvalidGrantError(description="The refresh token was already used.", request=request)
        if old_access_token is not None:
            delete_access_token(old_access_token)
        rt.access_token = None
        rt.revoked = now
        request.refresh_token_instance = None  # as DOT: the presented token is spent
        expires = now + timedelta(seconds=token.get("expires_in", oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS))
        access_token = self._create_access_token(expires, request, token, source_refresh_token=rt)
        self._create_refresh_token(request, token["refresh_token"], access_token, rt)
