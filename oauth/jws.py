"""The one module that knows JOSE: compact JWS signing with `cryptography`, verification
with jwcrypto (RFC 7515), for access tokens (RFC 9068), ID tokens and logout tokens.

Signing builds the compact JWS itself with the `cryptography` key object the key store holds
(`sign`); verification goes through jwcrypto (the key store, oauth.keys, builds the JWKs and
the JWKS with it).

Verification pins everything (RFC 8725): compact serialization, `alg` RS256 only, `typ`
at+jwt, a known `kid`, no `crit`, exact `iss`, our `aud`, `exp`/`nbf`/`iat` within leeway
(oauth.claims.check_claims). Header members that point elsewhere (`jku`, `x5u`, `jwk`, `x5c`)
are never used. ID tokens carry `typ: JWT`, so neither kind of token passes for the other.
"""

import base64
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from jwcrypto import jws
from jwcrypto.common import JWException

from . import keys
from .claims import InvalidToken, check_claims, id_token_audiences

ACCESS_TOKEN_TYPE = "at+jwt"
ID_TOKEN_TYPE = "JWT"
MAX_TOKEN_LENGTH = 8192


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
    re-parses the header and claims (see bench/README.md): the signing input is
    base64url(header) "." base64url(claims), signed with the private key object the key store
    parsed once (keys.signer). PKCS #1 v1.5 signatures are deterministic, so the token is byte
    for byte the one jwcrypto would make (tests compare them). Verification stays with jwcrypto."""
    kid, private_key = keys.signer()
    signing_input = _json_segment({"alg": keys.ALGORITHM, "typ": typ, "kid": kid}) + b"." + _json_segment(claims)
    signature = private_key.sign(signing_input, _RS256_PADDING, _RS256_HASH)
    return (signing_input + b"." + _b64url(signature)).decode("ascii")


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
