from django.conf import settings
from django.core.checks import Error, register

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
