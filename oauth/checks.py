"""System checks: a misconfigured server fails at startup, not at the first token request."""

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from . import keys


@register()
def signing_key_check(app_configs, **kwargs):
    try:
        keys.signing_key()
    except (ImproperlyConfigured, OSError, ValueError) as exc:
        return [Error(f"The token signing key cannot be loaded: {exc}", id="oauth.E001")]
    return []


@register(deploy=True)
def issuer_check(app_configs, **kwargs):
    if not settings.ISSUER.startswith("https://"):
        return [Warning("ISSUER should be an https URL in production.", id="oauth.W001")]
    return []
