from django.conf import settings
from django.core.checks import Error, register


@register()
def check_login_lockout_settings(app_configs, **kwargs):
    problems = []
    pair, per_ip = settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_IP_FAILURE_LIMIT
    if pair < 1 or per_ip < pair or settings.LOGIN_LOCKOUT_SECONDS < 1:
        problems.append(
            Error(
                "LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_SECONDS must be at least 1, and "
                "LOGIN_IP_FAILURE_LIMIT at least LOGIN_FAILURE_LIMIT.",
                id="accounts.E001",
            )
        )
    if "ip_address" in settings.AXES_LOCKOUT_PARAMETERS and settings.AXES_RESET_ON_SUCCESS:
        problems.append(
            Error(
                'AXES_LOCKOUT_PARAMETERS lists "ip_address" alone while AXES_RESET_ON_SUCCESS is on: a '
                "successful login would delete every failure from its IP. The per-IP count is "
                "accounts.lockout.LoginAttemptHandler's (LOGIN_IP_FAILURE_LIMIT).",
                id="accounts.E002",
            )
        )
    return problems
