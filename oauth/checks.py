"""System checks: a misconfigured server fails at startup, not at the first token request."""

from django.conf import settings
from django.contrib.auth.hashers import get_hasher, get_hashers
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured
from oauth2_provider.settings import oauth2_settings

from . import keys
from .hashers import ClientSecretHasher


@register()
def signing_key_check(app_configs, **kwargs):
    try:
        keys.signing_key()
    except (ImproperlyConfigured, OSError, ValueError) as exc:
        return [Error(f"The token signing key cannot be loaded: {exc}", id="oauth.E001")]
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
