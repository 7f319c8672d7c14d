from django.conf import settings
from django.core.checks import Error, register

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
