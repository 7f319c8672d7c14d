from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_login_lockout_settings(app_configs, **kwargs):
    problems = []
    pair, per_ip = settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_IP_FAILURE_LIMIT
    grant_per_ip = settings.PASSWORD_GRANT_IP_FAILURE_LIMIT
    if pair < 1 or per_ip < pair or grant_per_ip < pair or settings.LOGIN_LOCKOUT_SECONDS < 1:
        problems.append(
            Error(
                "LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_SECONDS must be at least 1, and "
                "LOGIN_IP_FAILURE_LIMIT and PASSWORD_GRANT_IP_FAILURE_LIMIT at least LOGIN_FAILURE_LIMIT.",
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


# Backends with which no mail ever reaches anyone.
LOCAL_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


@register()
def check_email_settings(app_configs, **kwargs):
    problems = []
    if getattr(settings, "EMAIL_USE_TLS", False) and getattr(settings, "EMAIL_USE_SSL", False):
        problems.append(
            Error(
                "EMAIL_USE_TLS and EMAIL_USE_SSL are both set: choose one (STARTTLS, usually on port 587, "
                "or implicit TLS, usually on port 465).",
                id="accounts.E003",
            )
        )
    if not settings.DEBUG and settings.EMAIL_BACKEND in LOCAL_EMAIL_BACKENDS:
        problems.append(
            Warning(
                f"DEBUG is off but mail goes to {settings.EMAIL_BACKEND}: password reset and email "
                "verification mail never leaves this server.",
                hint="Set EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.com:587) or EMAIL_HOST.",
                id="accounts.W001",
            )
        )
    return problems


# What the admin (admin.E408-E410), django-axes (axes.W002) and the deploy checks (security.W002,
# W003) look for in MIDDLEWARE, which they cannot find since it moved to BROWSER_MIDDLEWARE
# (core.middleware.BrowserMiddleware): their checks are silenced in settings, and this one asks
# the same of the browser's list.
SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
AUTHENTICATION = "django.contrib.auth.middleware.AuthenticationMiddleware"
AXES = "axes.middleware.AxesMiddleware"
BROWSER_NEEDS = (
    SESSIONS,
    "django.middleware.csrf.CsrfViewMiddleware",
    AUTHENTICATION,
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    AXES,
)


@register()
def check_browser_middleware(app_configs, **kwargs):
    browser = list(getattr(settings, "BROWSER_MIDDLEWARE", settings.MIDDLEWARE))
    if all(name in browser for name in BROWSER_NEEDS):
        if browser.index(SESSIONS) < browser.index(AUTHENTICATION) and browser[-1] == AXES:
            return []
    return [
        Error(
            f"BROWSER_MIDDLEWARE must list {', '.join(BROWSER_NEEDS)}; sessions before authentication "
            "(it reads the session), axes last (as django-axes asks).",
            id="accounts.E004",
        )
    ]
