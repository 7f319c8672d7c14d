"""OpenID Connect authentication-request controls (Core 3.1.2.1): `prompt` and `max_age`. Pure.

A forced (re-)login (`prompt=login`, a session older than `max_age`, or no known login time)
sends the browser to the login page with the authorization request as `next`, minus
`prompt=login` and `max_age` (else it would come back to the login page forever). So that
following `next` without logging in gains nothing, the session remembers when the login was
asked for (LOGIN_REQUESTED_KEY): until a login newer than that, every request asks again.
"""

import json

from core import querystring

from .claims import ACR_MFA

SUPPORTED = ("none", "login", "consent")
# The Django session key holding the Unix time at which a fresh login was asked for.
LOGIN_REQUESTED_KEY = "identity_login_requested_at"


def prompt_values(value):
    """The `prompt` parameter as a set of values (space-delimited, case-sensitive)."""
    return frozenset((value or "").split())


def max_age(value):
    """`max_age` in seconds, or None when absent. ValueError when not a non-negative integer."""
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        raise ValueError("max_age must be a non-negative integer number of seconds.")
    return int(value)


def needs_login(*, prompt, max_age, auth_time, login_requested_at, now):
    """Whether the user must authenticate (again) before this request is answered."""
    if auth_time is None or "login" in prompt:
        return True
    if login_requested_at is not None and auth_time < login_requested_at:
        return True
    if max_age == 0:
        # Core 3.1.2.1 (errata set 2): max_age=0 is prompt=login. Login times are whole
        # seconds: a login in this very second is "0 seconds ago" and would satisfy it.
        return True
    return max_age is not None and now - auth_time > max_age


def after_login(path):
    """The authorization request to come back to after logging in: without `prompt=login`
    (other prompt values stay) and without `max_age` (the login just done satisfies it)."""
    return querystring.rewrite_parameters(path, _after_login_value)


def _after_login_value(name, value):
    if name == "max_age":
        return None
    if name == "prompt":
        return " ".join(v for v in value.split() if v != "login") or None
    return value


def requested_acr(acr_values, claims):
    """The authentication contexts a request accepts (Core 3.1.2.1 `acr_values`, and the ID
    token's `acr` claim in the `claims` parameter, 5.5.1.1: its `value` or `values`); empty
    when it names none. A malformed `claims` is refused elsewhere (oauth.claims)."""
    accepted = set((acr_values or "").split())
    try:
        spec = json.loads(claims)["id_token"]["acr"] if claims else None
    except (ValueError, KeyError, TypeError):
        spec = None
    if isinstance(spec, dict):
        values = spec.get("values") if isinstance(spec.get("values"), list) else [spec.get("value")]
        accepted |= {value for value in values if isinstance(value, str)}
    return frozenset(accepted)


def needs_second_factor(*, accepted, acr):
    """Whether a session whose login has the context `acr` must step up (add a second factor)
    for a request accepting `accepted`: it asks for two factors and not for what it has."""
    return ACR_MFA in accepted and acr not in accepted
