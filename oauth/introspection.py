"""Token introspection (RFC 7662): the answer for one token, as seen by one caller.

Anything not fully valid is `{"active": false}`: a token without its row (revoked), expired,
of a disabled user, of an ended SSO session, or issued before the user's not-before (the
revocation store, sso.revocation, answers the last two as it does for APIs)."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import refresh_token_expire_timedelta

from sso import revocation

from . import tokens
from .models import AccessToken, RefreshToken

INACTIVE = {"active": False}


def _checksum(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _visible_to(caller, client):
    """A client sees its own tokens; a resource server (can_introspect_any) sees all."""
    return client is not None and (caller.can_introspect_any or client.pk == caller.pk)


def _user_ok(user):
    return user is None or user.is_active


def introspect(*, token, hint, caller):
    """RFC 7662 response body for `token`; `{"active": false}` for anything not fully valid."""
    order = (_refresh, _access) if hint == "refresh_token" else (_access, _refresh)
    checksum = _checksum(token)
    for lookup in order:
        found, answer = lookup(token, checksum, caller)
        if found:
            return answer
    return INACTIVE


def _access(token, checksum, caller):
    row = AccessToken.objects.select_related("user", "application").filter(token_checksum=checksum).first()
    if row is None:
        return False, INACTIVE
    if not (_visible_to(caller, row.application) and _user_ok(row.user)) or row.is_expired():
        return True, INACTIVE
    try:
        claims = tokens.verify_access_token_cached(token)
    except tokens.InvalidToken:
        return True, INACTIVE
    if not revocation.is_token_acceptable(
        jti=claims["jti"],
        sid=claims.get("sid"),
        user_id=row.user_id,
        issued_at=claims["iat"],
        token_is_live=lambda: True,  # its row was just read
    ):
        return True, INACTIVE  # its session ended, or the user's not-before passed it
    answer = {
        "active": True,
        "scope": row.scope,
        "client_id": row.application.client_id,
        "token_type": "Bearer",
        "exp": claims["exp"],
        "iat": claims["iat"],
        "nbf": claims.get("nbf", claims["iat"]),
        "sub": claims["sub"],
        "aud": claims["aud"],
        "iss": claims["iss"],
        "jti": claims["jti"],
    }
    if row.user is not None:
        answer["username"] = row.user.get_username()
    return True, answer


def _refresh_token_session_ok(row):
    """Its SSO session (if bound to one) is active and the user's not-before has not passed it."""
    if row.sid and not revocation.is_session_active(sid=row.sid, user_id=row.user_id):
        return False
    return revocation.is_issued_after_not_before(user_id=row.user_id, issued_at=row.created)


def _refresh(token, checksum, caller):
    row = (
        RefreshToken.objects.select_related("user", "application", "access_token")
        .filter(token_checksum=checksum, revoked__isnull=True)
        .first()
    )
    if row is None:
        return False, INACTIVE
    if not (_visible_to(caller, row.application) and _user_ok(row.user)) or row.access_token is None:
        return True, INACTIVE
    lifetime = refresh_token_expire_timedelta() or timedelta(days=3650)
    expires = row.access_token.expires + lifetime
    if expires <= timezone.now() or not _refresh_token_session_ok(row):
        return True, INACTIVE
    return True, {
        "active": True,
        "scope": row.access_token.scope,
        "client_id": row.application.client_id,
        "username": row.user.get_username(),
        "token_type": "refresh_token",
        "exp": int(expires.timestamp()),
        "iat": int(row.created.timestamp()),
        "nbf": int(row.created.timestamp()),
        "sub": row.user.subject,
        "aud": settings.ISSUER,
        "iss": settings.ISSUER,
        "jti": checksum[:32],
    }
