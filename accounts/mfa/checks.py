from django.conf import settings
from django.core.checks import Error, Warning, register

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
