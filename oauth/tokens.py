"""Our django-oauth-toolkit token generators (ACCESS_TOKEN_GENERATOR: an RS256 JWT access
token, RFC 9068; REFRESH_TOKEN_GENERATOR: an opaque random string), and the verified access
tokens this process remembers.

Claims are built in oauth.claims, signed and verified in oauth.jws.
"""

import hashlib
import secrets

from django.conf import settings

from core.lru import LRU
from rbac import claims as rbac_claims
from rbac import flows as rbac_flows

from . import context, keys
from .claims import InvalidToken, access_token_claims, authentication_context, check_claims, numeric_date
from .jws import ACCESS_TOKEN_TYPE, MAX_TOKEN_LENGTH, _verify_access_token, looks_like_jwt, sign, verify_access_token

# Access tokens whose verified claims this process remembers (an LRU: bounded memory).
VERIFIED_CACHE_SIZE = 10_000


def signed_access_token(request, refresh_token=False):
    """DOT's ACCESS_TOKEN_GENERATOR: called with the oauthlib request."""
    client = request.client
    ctx = context.of(request)
    user = None if request.grant_type == "client_credentials" else request.user
    # The same answer as the validator's authentication_context gives the ID token.
    amr, acr = authentication_context(ctx.amr) if user else (None, None)
    claims = access_token_claims(
        issuer=settings.ISSUER,
        audience=client.access_token_audience,
        client_id=client.client_id,
        # A client's subject is its client_id; a user's is a UUID, so they cannot collide.
        subject=user.subject if user else client.client_id,
        scope=" ".join(request.scopes or []),
        lifetime=int(request.expires_in),
        auth_time=numeric_date(ctx.auth_time) if user else None,
        amr=amr,
        acr=acr,
        # Set from the Grant or refresh token; none for the password grant (no browser session).
        sid=ctx.sid if user else None,
    )
    if user is not None and ctx.amr:  # the password grant authenticated the user here
        claims["amr"] = list(ctx.amr)
    claims.update(rbac_claims_of(request, user))
    ctx.access_token_jti = claims["jti"]
    return sign(claims, typ=ACCESS_TOKEN_TYPE)


def rbac_claims_of(request, user):
    """The `roles` / `permissions` claims (rbac.claims) of a token for `request.scopes` and
    `user`: what the user holds now, read once per request (one query) and only when one of
    those scopes was granted. None for a token without a user (client credentials)."""
    if user is None or not rbac_claims.wanted(request.scopes):
        return {}
    ctx = context.of(request)
    if ctx.holdings is None:
        ctx.holdings = rbac_flows.held(user=user)
    roles, permissions = ctx.holdings
    return rbac_claims.rbac_claims(scopes=request.scopes, roles=roles, permissions=permissions)


def opaque_refresh_token(request):
    """DOT's REFRESH_TOKEN_GENERATOR: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


# --- verified access tokens, remembered per process ------------------------------------------
#
# Parsing a JWS and checking its RSA signature is the one costly step of an API call that a
# repeated token does not need to redo: its signature cannot change. So this process remembers
# the claims of tokens it has verified, keyed by the SHA-256 of the token (never the token
# itself), and a repeated token skips only the parsing and the signature. Everything that can
# change is checked again on every call: that its `kid` is still a published key (a deleted
# key's tokens are refused at once; an in-memory lookup), and all of check_claims (`exp`,
# `nbf`, `iat`, `iss`, `aud`) against the current time and settings. Failures are never
# remembered. This is not a revocation answer: callers still ask sso.revocation every time.

_verified = LRU(VERIFIED_CACHE_SIZE)  # sha256(token) -> (kid, claims); the claims are never handed out


def verify_access_token_cached(token, *, audience=None):
    """verify_access_token(token) for `audience` (by default our API audience; ANY_AUDIENCE
    for introspection), remembering a success (see above).

    Returns a fresh copy of the claims on every call; raises InvalidToken exactly when
    verify_access_token would.
    """
    if not looks_like_jwt(token) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return verify_access_token(token, audience=audience)  # malformed: raises, and nothing is remembered
    digest = hashlib.sha256(token.encode("ascii")).digest()
    entry = _verified.get(digest)
    if entry is not None:
        kid, claims = entry
        if keys.verification_key(kid) is not None:
            try:
                check_claims(claims, audience=audience or settings.ACCESS_TOKEN_AUDIENCE)
            except InvalidToken:
                pass  # expired since (say): forget it; the full check below gives the answer
            else:
                return dict(claims)
        _verified.discard(digest)
    kid, claims = _verify_access_token(token, audience=audience)
    _verified.put(digest, (kid, claims))
    return dict(claims)


def forget_verified_tokens():
    """Forget every remembered token (tests)."""
    _verified.clear()
