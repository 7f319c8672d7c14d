"""RFC 9068 JWT access tokens and OpenID Connect ID tokens: claim building, signing (the DOT
generator) and verification.

Signing builds the compact JWS itself with the `cryptography` key object the key store holds
(`sign`); verification, JWKS and everything else JOSE goes through jwcrypto.

Verification pins everything (RFC 8725): compact serialization, `alg` RS256 only, `typ`
at+jwt, a known `kid`, no `crit`, exact `iss`, our `aud`, `exp`/`nbf`/`iat` within leeway.
Header members that point elsewhere (`jku`, `x5u`, `jwk`, `x5c`) are never used.
ID tokens carry `typ: JWT`, so neither kind of token passes for the other.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from jwcrypto import jws
from jwcrypto.common import JWException

from . import context, keys

ACCESS_TOKEN_TYPE = "at+jwt"
ID_TOKEN_TYPE = "JWT"
# How the user authenticated (OpenID Connect Core 2: `amr`, RFC 8176 values; `acr`). Password
# login is the only method so far; our own URN names that context, because the ISO/IEC 29115
# levels ("0", "1", …) say nothing a client can act on. A second factor will add its own.
AMR_PASSWORD = ("pwd",)
ACR_PASSWORD = "urn:identity:pwd"
LEEWAY_SECONDS = 60
MAX_TOKEN_LENGTH = 8192
# Access tokens whose verified claims this process remembers (an LRU: bounded memory).
VERIFIED_CACHE_SIZE = 10_000


class InvalidToken(Exception):
    """The token is not a valid access token of ours; the message is safe to show."""


def access_token_claims(*, issuer, audience, client_id, subject, scope, lifetime, auth_time=None, sid=None, now=None):
    """The claims of an access token (RFC 9068 section 2.2; `sid`: the SSO session). Pure."""
    now = int(time.time()) if now is None else now
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "client_id": client_id,
        "scope": scope,
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + lifetime,
    }
    if auth_time is not None:
        claims["auth_time"] = auth_time
    if sid:
        claims["sid"] = sid
    return claims


def id_token_claims(
    *, issuer, client_id, subject, lifetime, auth_time, amr, acr, nonce=None, at_hash=None, sid=None, now=None
):
    """The claims of an ID token (OpenID Connect Core 2, 3.1.3.6). Pure.

    `auth_time` is present whenever known (always, for logins through the authorization
    endpoint; not only when `max_age` was asked), `azp` names the client (the sole audience),
    and `jti` is a UUID (the IDToken row's key).
    """
    now = int(time.time()) if now is None else now
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": client_id,
        "azp": client_id,
        "iat": now,
        "exp": now + lifetime,
        "amr": list(amr),
        "acr": acr,
        "jti": str(uuid.uuid4()),
    }
    optional = {"auth_time": auth_time, "nonce": nonce, "at_hash": at_hash, "sid": sid}
    claims.update({name: value for name, value in optional.items() if value is not None and value != ""})
    return claims


# RSASSA-PKCS1-v1_5 with SHA-256: what RS256 (keys.ALGORITHM) names (RFC 7518 3.3). Stateless.
_RS256_PADDING = padding.PKCS1v15()
_RS256_HASH = hashes.SHA256()


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _json_segment(value):
    """base64url of the JSON of `value`, encoded as jwcrypto encodes (compact separators, sorted
    keys, ASCII only): the same claims give the same bytes, whichever library signed them."""
    return _b64url(json.dumps(value, separators=(",", ":"), sort_keys=True).encode("ascii"))


def sign(claims, *, typ):
    """`claims` as a compact JWS (RFC 7515 7.1) signed RS256 by the active key; header `alg`,
    `typ` and `kid`. Access tokens, ID tokens and logout tokens are all signed here.

    Built directly rather than through jwcrypto's JWT, which deep-copies, re-serialises and
    re-parses the header and claims (a fifth to a third on top of the RSA signature itself,
    measured): the signing input is base64url(header) "." base64url(claims), signed with the
    private key object the key store parsed once (keys.signer). PKCS #1 v1.5 signatures are deterministic, so the
    token is byte for byte the one jwcrypto would make (tests compare them). Verification
    stays with jwcrypto."""
    kid, private_key = keys.signer()
    signing_input = _json_segment({"alg": keys.ALGORITHM, "typ": typ, "kid": kid}) + b"." + _json_segment(claims)
    signature = private_key.sign(signing_input, _RS256_PADDING, _RS256_HASH)
    return (signing_input + b"." + _b64url(signature)).decode("ascii")


def numeric_date(value):
    if value is None:
        return None
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


def signed_access_token(request, refresh_token=False):
    """DOT's ACCESS_TOKEN_GENERATOR: called with the oauthlib request."""
    client = request.client
    ctx = context.of(request)
    user = None if request.grant_type == "client_credentials" else request.user
    claims = access_token_claims(
        issuer=settings.ISSUER,
        audience=settings.ACCESS_TOKEN_AUDIENCE,
        client_id=client.client_id,
        # A client's subject is its client_id; a user's is a UUID, so they cannot collide.
        subject=user.subject if user else client.client_id,
        scope=" ".join(request.scopes or []),
        lifetime=int(request.expires_in),
        auth_time=numeric_date(ctx.auth_time) if user else None,
        # Set from the Grant or refresh token; none for the password grant (no browser session).
        sid=ctx.sid if user else None,
    )
    ctx.access_token_jti = claims["jti"]
    return sign(claims, typ=ACCESS_TOKEN_TYPE)


def opaque_refresh_token(request):
    """DOT's REFRESH_TOKEN_GENERATOR: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def looks_like_jwt(token):
    return isinstance(token, str) and token.count(".") == 2


def _header(token, what="access token"):
    if not looks_like_jwt(token) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidToken(f"The {what} is malformed.")
    parsed = jws.JWS()
    try:
        parsed.deserialize(token)
        # jose_header raises too (an unknown `crit` member): inside the try, else a 500.
        header = parsed.jose_header
    except (JWException, ValueError, TypeError) as exc:
        raise InvalidToken(f"The {what} is malformed.") from exc
    if not isinstance(header, dict):
        raise InvalidToken(f"The {what} is malformed.")
    return parsed, header


def _verified_claims(parsed, header, what):
    """The payload of a parsed JWS after the signature check with our key for its `kid`."""
    key = keys.verification_key(header.get("kid"))
    if key is None:
        raise InvalidToken(f"The {what} was signed by an unknown key.")
    try:
        parsed.verify(key, alg=keys.ALGORITHM)
        claims = json.loads(parsed.payload)
    except (JWException, ValueError, TypeError) as exc:
        raise InvalidToken(f"The {what} signature is invalid.") from exc
    if not isinstance(claims, dict):
        raise InvalidToken(f"The {what} is malformed.")
    return claims


def verify_access_token(token, *, audience=None, now=None):
    """Verify a JWT access token of ours and return its claims, or raise InvalidToken."""
    return _verify_access_token(token, audience=audience, now=now)[1]


def _verify_access_token(token, *, audience=None, now=None):
    """(kid, claims) of a valid access token; raises InvalidToken."""
    parsed, header = _header(token)
    if header.get("alg") != keys.ALGORITHM:
        raise InvalidToken("The access token is not signed with an accepted algorithm.")
    if str(header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYPE, "application/" + ACCESS_TOKEN_TYPE):
        raise InvalidToken("The token is not an access token.")
    if "crit" in header:
        raise InvalidToken("The access token has unsupported critical header parameters.")
    claims = _verified_claims(parsed, header, "access token")
    check_claims(claims, audience=audience or settings.ACCESS_TOKEN_AUDIENCE, now=now)
    return header["kid"], claims


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

_verified = OrderedDict()  # sha256(token) -> (kid, claims); the claims are never handed out
_verified_lock = threading.Lock()


def verify_access_token_cached(token):
    """verify_access_token(token) for our API audience, remembering a success (see above).

    Returns a fresh copy of the claims on every call; raises InvalidToken exactly when
    verify_access_token would.
    """
    if not looks_like_jwt(token) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return verify_access_token(token)  # malformed: raises, and nothing is remembered
    digest = hashlib.sha256(token.encode("ascii")).digest()
    with _verified_lock:
        entry = _verified.get(digest)
        if entry is not None:
            _verified.move_to_end(digest)
    if entry is not None:
        kid, claims = entry
        if keys.verification_key(kid) is not None:
            try:
                check_claims(claims, audience=settings.ACCESS_TOKEN_AUDIENCE)
            except InvalidToken:
                pass  # expired since (say): forget it; the full check below gives the answer
            else:
                return dict(claims)
        with _verified_lock:
            _verified.pop(digest, None)
    kid, claims = _verify_access_token(token)
    with _verified_lock:
        _verified[digest] = (kid, claims)
        _verified.move_to_end(digest)
        while len(_verified) > VERIFIED_CACHE_SIZE:
            _verified.popitem(last=False)
    return dict(claims)


def forget_verified_tokens():
    """Forget every remembered token (tests)."""
    with _verified_lock:
        _verified.clear()


def check_claims(claims, *, audience, now=None):
    """Registered-claim checks for an access token. Pure."""
    now = time.time() if now is None else now
    if not isinstance(claims, dict):
        raise InvalidToken("The access token is malformed.")
    if claims.get("iss") != settings.ISSUER:
        raise InvalidToken("The access token was issued by someone else.")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if audience not in audiences:
        raise InvalidToken("The access token is not meant for this API.")
    for name in ("exp", "iat"):
        if not isinstance(claims.get(name), int) or isinstance(claims.get(name), bool):
            raise InvalidToken(f"The access token has no valid {name}.")
    if claims["exp"] <= now - LEEWAY_SECONDS:
        raise InvalidToken("The access token has expired.")
    if claims["iat"] > now + LEEWAY_SECONDS:
        raise InvalidToken("The access token was issued in the future.")
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, int) or nbf > now + LEEWAY_SECONDS):
        raise InvalidToken("The access token is not valid yet.")
    for name in ("sub", "client_id", "jti"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise InvalidToken(f"The access token has no valid {name}.")
    return claims


def verify_id_token_hint(token):
    """Verify an ID token we issued, presented back as `id_token_hint`; return its claims.

    Signature (RS256, our key for its `kid`) and `iss` must verify; an expired token is
    accepted (OpenID Connect RP-Initiated Logout 1.0, section 2). An access token or a logout
    token is not an ID token: any `typ` but JWT (ours always carry it) is refused. Raises InvalidToken.
    """
    what = "ID token"
    parsed, header = _header(token, what)
    if header.get("alg") != keys.ALGORITHM:
        raise InvalidToken("The ID token is not signed with an accepted algorithm.")
    if header.get("typ") != ID_TOKEN_TYPE:
        raise InvalidToken("The token is not an ID token.")
    if "crit" in header:
        raise InvalidToken("The ID token has unsupported critical header parameters.")
    claims = _verified_claims(parsed, header, what)
    if claims.get("iss") != settings.ISSUER:
        raise InvalidToken("The ID token was issued by someone else.")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidToken("The ID token has no valid sub.")
    audiences = id_token_audiences(claims)
    if not audiences or not all(isinstance(a, str) and a for a in audiences):
        raise InvalidToken("The ID token has no valid aud.")
    return claims


def id_token_audiences(claims):
    """The `aud` claim as a list (it may be one string or a list, RFC 7519 4.1.3)."""
    aud = claims.get("aud")
    return aud if isinstance(aud, list) else [aud]
