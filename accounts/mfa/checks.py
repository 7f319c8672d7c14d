from django.conf import settings
from django.core.checks import Error, Warning, register

from . import policy

ACCOUNT_FIELDS = ("username", "email")


@register()
def check_totp_settings(app_configs, **kwargs):
    if settings.MFA_TOTP_ACCOUNT_FIELD not in ACCOUNT_FIELDS:
        return [
            Error(
                f"MFA_TOTP_ACCOUNT_FIELD is {settings.MFA_TOTP_ACCOUNT_FIELD!r}.",
                hint=f"Use one of: {', '.join(ACCOUNT_FIELDS)}.",
                id="mfa.E001",
            )
        ]
    return []


@register(deploy=True)
def check_webauthn_relying_party(app_configs, **kwargs):
    """Passkeys need a domain as relying-party id (WebAuthn 5.1.3); ISSUER's host is used."""
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(settings.ISSUER).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return []
    return [
        Warning(
            f"ISSUER's host {host} is an IP address: browsers refuse it as a passkey relying-party id.",
            hint="Serve under a host name (http://localhost:8000 in development) to offer passkeys.",
            id="mfa.W001",
        )
    ]


@register()
def check_policy_settings(app_configs, **kwargs):
    errors = []
    if settings.MFA_REQUIRED not in policy.CHOICES:
        errors.append(
            Error(
                f"MFA_REQUIRED is {settings.MFA_REQUIRED!r}.",
                hint=f"Use one of: {', '.join(policy.CHOICES)}.",
                id="mfa.E002",
            )
        )
    if settings.MFA_TRUST_BROWSER_DAYS < 0:
        errors.append(Error("MFA_TRUST_BROWSER_DAYS is negative.", hint="0 turns it off.", id="mfa.E003"))
    if settings.MFA_IP_FAILURE_ALLOWANCE < 0 or settings.MFA_IP_MAX_DELAY_SECONDS < 1:
        errors.append(
            Error(
                "MFA_IP_FAILURE_ALLOWANCE must be 0 or more and MFA_IP_MAX_DELAY_SECONDS 1 or more.",
                id="mfa.E004",
            )
        )
    return errors
