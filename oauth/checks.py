"""System checks: a misconfigured server fails at startup, not at the first token request."""

from django.conf import settings
from django.contrib.auth.hashers import get_hasher, get_hashers
from django.core.checks import Error, Warning, register
from django.db import DatabaseError
from oauth2_provider.settings import oauth2_settings

from . import kek, keys
from .hashers import ClientSecretHasher
from .models import Client


@register()
def signing_key_check(app_configs, **kwargs):
    # Judges the active key in the table, or (none yet, or no table before `migrate`) the
    # key the first start would import; never generates or writes anything.
    problem = keys.problem()
    if problem:
        return [Error(f"The token signing key cannot be loaded: {problem}", id="oauth.E001")]
    return []


@register()
def key_encryption_key_check(app_configs, **kwargs):
    problem = kek.problem()
    if problem:
        return [Error(problem, id="oauth.E004")]
    return []


@register()
def signing_key_rotation_check(app_configs, **kwargs):
    # A JWKS cached by a client (max-age), fetched just before another process picked up the
    # new next key (cache window), must still list the key once it signs.
    needed = keys.JWKS_MAX_AGE + settings.SIGNING_KEY_CACHE_SECONDS
    errors = []
    if settings.SIGNING_KEY_PREPUBLISH_SECONDS <= needed:
        errors.append(
            Error(
                f"SIGNING_KEY_PREPUBLISH_SECONDS ({settings.SIGNING_KEY_PREPUBLISH_SECONDS}) must exceed the JWKS "
                f"max-age plus SIGNING_KEY_CACHE_SECONDS ({needed} s), or clients see a key only after it signs.",
                id="oauth.E005",
            )
        )
    if settings.SIGNING_KEY_ROTATION_DAYS < 1 or settings.SIGNING_KEY_CACHE_SECONDS < 1:
        errors.append(
            Error("SIGNING_KEY_ROTATION_DAYS and SIGNING_KEY_CACHE_SECONDS must be at least 1.", id="oauth.E006")
        )
    return errors


@register()
def client_cache_check(app_configs, **kwargs):
    # The TTL is the worst-case delay before a changed client is refused by another process
    # (oauth.client_cache): keep it short. Asking Redis less often than that would be pointless.
    ttl, check = settings.OAUTH_CLIENT_CACHE_SECONDS, settings.OAUTH_CLIENT_CACHE_CHECK_SECONDS
    if not 0 <= ttl <= 300 or check < 0 or (ttl and check > ttl):
        return [
            Error(
                "OAUTH_CLIENT_CACHE_SECONDS must be between 0 and 300, and OAUTH_CLIENT_CACHE_CHECK_SECONDS "
                "between 0 and OAUTH_CLIENT_CACHE_SECONDS (when the cache is on): they bound how long a "
                "changed or deleted client may still be accepted.",
                id="oauth.E007",
            )
        ]
    return []


@register()
def client_secret_hasher_check(app_configs, **kwargs):
    # The client-secret hash is fast by design: as the first PASSWORD_HASHERS entry it would
    # hash every user's password, which must stay slow (Argon2).
    if get_hashers()[0].algorithm == ClientSecretHasher.algorithm:
        return [
            Error("oauth.hashers.ClientSecretHasher must not be the first PASSWORD_HASHERS entry.", id="oauth.E002")
        ]
    try:
        get_hasher(oauth2_settings.CLIENT_SECRET_HASHER)
    except ValueError:
        return [
            Error(
                f"OAUTH2_PROVIDER['CLIENT_SECRET_HASHER'] ({oauth2_settings.CLIENT_SECRET_HASHER!r}) "
                "is not in PASSWORD_HASHERS.",
                id="oauth.E003",
            )
        ]
    return []


@register(deploy=True)
def issuer_check(app_configs, **kwargs):
    if not settings.ISSUER.startswith("https://"):
        return [Warning("ISSUER should be an https URL in production.", id="oauth.W001")]
    return []


@register()
def approval_prompt_check(app_configs, **kwargs):
    # With "auto", DOT approves an authorization request by itself whenever the user holds a
    # live access token for the client with the scopes (from any grant): consent must come from
    # the stored consent only (oauth.consents), which AuthorizationView consults.
    if oauth2_settings.REQUEST_APPROVAL_PROMPT != "force":
        return [
            Error(
                "OAUTH2_PROVIDER['REQUEST_APPROVAL_PROMPT'] must be \"force\": remembered consent is "
                "decided by oauth.consents, not by the user's live tokens.",
                id="oauth.E020",
            )
        ]
    return []


@register()
def password_grant_check(app_configs, **kwargs):
    # RFC 9700 2.4: the password grant MUST NOT be used. It stays for an operator who needs it,
    # but never silently: while any client lists it, every check says so (whether the grant is
    # on or not: off, those clients are refused it). Before `migrate` there is no table.
    try:
        holders = sorted(
            Client.objects.filter(grant_types__regex=r"(^| )password( |$)").values_list("client_id", flat=True)
        )
    except DatabaseError:
        return []
    if not holders:
        return []
    shown = ", ".join(holders[:5]) + (f" and {len(holders) - 5} more" if len(holders) > 5 else "")
    state = (
        "and OAUTH_PASSWORD_GRANT_ENABLED is on"
        if settings.OAUTH_PASSWORD_GRANT_ENABLED
        else "(refused while OAUTH_PASSWORD_GRANT_ENABLED is off)"
    )
    return [
        Warning(
            f"{len(holders)} client(s) have the deprecated password grant {state}: {shown}.",
            hint="RFC 9700 2.4 says it MUST NOT be used: move them to the authorization code flow "
            "(or client credentials) and remove `password` from their grant types (docs/password-grant.md).",
            id="oauth.W002",
        )
    ]


CLIENT_REGISTRATION_MODES = ("closed", "token", "open")


@register()
def client_registration_check(app_configs, **kwargs):
    """CLIENT_REGISTRATION is a known mode, and CLIENT_REGISTRATION_SCOPES names known scopes,
    none of them explicit (an explicit scope is an operator's decision per client)."""
    errors = []
    if settings.CLIENT_REGISTRATION not in CLIENT_REGISTRATION_MODES:
        errors.append(
            Error(
                f"CLIENT_REGISTRATION must be one of {', '.join(CLIENT_REGISTRATION_MODES)} "
                f"(not {settings.CLIENT_REGISTRATION!r}).",
                id="oauth.E030",
            )
        )
    scopes = set(settings.CLIENT_REGISTRATION_SCOPES)
    if unknown := scopes - set(settings.OAUTH_SCOPES):
        errors.append(
            Error(f"CLIENT_REGISTRATION_SCOPES names unknown scopes: {' '.join(sorted(unknown))}.", id="oauth.E031")
        )
    if explicit := scopes & set(settings.OAUTH_EXPLICIT_SCOPES):
        errors.append(
            Error(
                f"CLIENT_REGISTRATION_SCOPES must not name explicit scopes ({' '.join(sorted(explicit))}): "
                "grant them to a client in the admin.",
                id="oauth.E032",
            )
        )
    if not scopes:
        errors.append(Error("CLIENT_REGISTRATION_SCOPES is empty: name at least one scope.", id="oauth.E033"))
    return errors
