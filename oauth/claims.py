"""The claims of our tokens: access tokens (RFC 9068) and ID tokens (OpenID Connect Core),
built and checked. No I/O and no JOSE (oauth.jws signs and verifies); `check_claims` reads
the issuer from the settings.
"""

import json
import secrets
import time
import uuid
from datetime import datetime

from django.conf import settings

# How the user authenticated (OpenID Connect Core 2: `amr`, RFC 8176 values; `acr`). Our own
# URNs name the two contexts, because the ISO/IEC 29115 levels ("0", "1", …) say nothing a
# client can act on: one factor (the password), or two (the password and a second factor).
AMR_PASSWORD = ("pwd",)
ACR_PASSWORD = "urn:identity:pwd"
ACR_MFA = "urn:identity:mfa"
ACR_VALUES = (ACR_PASSWORD, ACR_MFA)
# RFC 8176 methods that are a second factor beside the password: a one-time code (TOTP or a
# recovery code), a hardware- or software-bound key (a passkey).
SECOND_FACTOR_METHODS = frozenset({"otp", "hwk", "swk"})
AMR_PASSWORD_OTP = ("pwd", "otp")  # the password grant with its otp parameter
LEEWAY_SECONDS = 60


def authentication_context(amr):
    """(amr, acr) for the methods `amr` a login used (None or empty: the password only). Pure."""
    amr = sorted(set(amr or AMR_PASSWORD))
    return amr, ACR_MFA if SECOND_FACTOR_METHODS & set(amr) else ACR_PASSWORD


# check_claims' `audience` for a caller that answers for every API (introspection, RFC 7662:
# the resource server that asks checks `aud` in the answer).
ANY_AUDIENCE = object()


class InvalidToken(Exception):
    """The token is not a valid access token of ours; the message is safe to show."""


def access_token_claims(
    *, issuer, audience, client_id, subject, scope, lifetime, auth_time=None, amr=None, acr=None, sid=None, now=None
):
    """The claims of an access token (RFC 9068 section 2.2; `auth_time`, `amr` and `acr` of
    the user's login, 2.2.1; `sid`: the SSO session). Pure."""
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
    if amr:
        claims["amr"] = list(amr)
    if acr:
        claims["acr"] = acr
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


# The members of the `claims` request parameter (OpenID Connect Core 5.5).
CLAIMS_MEMBERS = ("id_token", "userinfo")


def claims_request_problem(raw):
    """Why a `claims` parameter is malformed (Core 5.5), or None: a JSON object whose members
    `id_token` and `userinfo` are objects of claim names, each null or an object (with
    `essential`, `value`, `values`). Pure."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        return "The claims parameter is not JSON."
    if not isinstance(parsed, dict):
        return "The claims parameter must be a JSON object."
    for member, asked in parsed.items():
        if member not in CLAIMS_MEMBERS:
            continue  # other members are ignored (Core 5.5: extensions)
        if not isinstance(asked, dict):
            return f"claims.{member} must be a JSON object."
        for name, spec in asked.items():
            if spec is not None and not isinstance(spec, dict):
                return f"claims.{member}.{name} must be null or a JSON object."
            if isinstance(spec, dict) and "essential" in spec and not isinstance(spec["essential"], bool):
                return f"claims.{member}.{name}.essential must be true or false."
    return None


def requested_claims(claims_request, member):
    """The claim names a (parsed) `claims` parameter asks for in `member`, in order. Pure."""
    if not isinstance(claims_request, dict) or not isinstance(claims_request.get(member), dict):
        return []
    return list(claims_request[member])


def numeric_date(value):
    if value is None:
        return None
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


def check_claims(claims, *, audience, now=None):
    """Registered-claim checks for an access token. Pure."""
    now = time.time() if now is None else now
    if not isinstance(claims, dict):
        raise InvalidToken("The access token is malformed.")
    if claims.get("iss") != settings.ISSUER:
        raise InvalidToken("The access token was issued by someone else.")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if not audiences or not all(isinstance(a, str) and a for a in audiences):
        raise InvalidToken("The access token has no valid aud.")
    if audience is not ANY_AUDIENCE and audience not in audiences:
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


def id_token_audiences(claims):
    """The `aud` claim as a list (it may be one string or a list, RFC 7519 4.1.3)."""
    aud = claims.get("aud")
    return aud if isinstance(aud, list) else [aud]
