"""Token introspection (RFC 7662): the answer for one token, as seen by one caller.

Anything not fully valid is `{"active": false}`: a token without its row (revoked), expired,
of a disabled user, of an ended SSO session, or issued before the user's not-before (the
revocation store, sso.revocation, answers the last two as it does for APIs)."""

from django.conf import settings
from django.utils import timezone

from sso import revocation

from . import rotation, tokens
from .claims import ANY_AUDIENCE, InvalidToken, authentication_context, id_token_audiences
from .models import AccessToken, RefreshToken, token_checksum

INACTIVE = {"active": False}


def _visible_to(caller, client):
    """A client sees its own tokens; a resource server (can_introspect_any) sees all."""
    return client is not None and (caller.can_introspect_any or client.pk == caller.pk)


def _audience_known(claims, client):
    """The token is for this server's APIs or for an audience its client is configured with
    (Client.audience); the resource server asking checks that `aud` names it (RFC 7662 4)."""
    accepted = {settings.ACCESS_TOKEN_AUDIENCE, *client.audience.split()}
    return bool(accepted & set(id_token_audiences(claims)))


def _user_ok(user):
    return user is None or user.is_active


def introspect(*, token, hint, caller):
    """RFC 7662 response body for `token`; `{"active": false}` for anything not fully valid."""
    order = (_refresh, _access) if hint == "refresh_token" else (_access, _refresh)
    checksum = token_checksum(token)
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
        claims = tokens.verify_access_token_cached(token, audience=ANY_AUDIENCE)
    except InvalidToken:
        return True, INACTIVE
    if not _audience_known(claims, row.application):
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
    # What the token itself carries (its scopes released them when it was issued), and how
    # its user had authenticated.
    carried = ("roles", "permissions", "auth_time", "amr", "acr")
    answer.update({name: claims[name] for name in carried if name in claims})
    if row.user is not None:
        answer["username"] = row.user.get_username()
    return True, answer


def _refresh(token, checksum, caller):
    row = (
        RefreshToken.objects.select_related("user", "application", "access_token")
        .filter(token_checksum=checksum, revoked__isnull=True)
        .first()
    )
    if row is None:
        return False, INACTIVE
    # The token endpoint's rules (oauth.rotation): an orphan or an expired token is inactive,
    # and so is one whose session ended or that the user's not-before passed.
    expires = rotation.usable_until(row, row.application)
    if not (_visible_to(caller, row.application) and _user_ok(row.user)) or expires is None:
        return True, INACTIVE
    if expires <= timezone.now() or not rotation.session_allows(row):
        return True, INACTIVE
    amr, acr = authentication_context(row.amr)
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
        "amr": amr,
        "acr": acr,
        **({"auth_time": int(row.auth_time.timestamp())} if row.auth_time else {}),
    }
