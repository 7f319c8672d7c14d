from django.conf import settings
from django.core.checks import Error, Warning, register

MIDDLEWARE = "sso.middleware.SSOSessionMiddleware"
AUTHENTICATION_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


@register()
def check_sso_settings(app_configs, **kwargs):
    problems = []
    idle, absolute = settings.SSO_SESSION_IDLE_SECONDS, settings.SSO_SESSION_ABSOLUTE_SECONDS
    if idle <= 0 or absolute <= 0 or idle > absolute:
        problems.append(
            Error(
                "SSO_SESSION_IDLE_SECONDS and SSO_SESSION_ABSOLUTE_SECONDS must be positive, idle <= absolute.",
                id="sso.E001",
            )
        )
    if not 1 <= settings.SSO_REVOCATION_CACHE_SECONDS <= 3600:
        problems.append(
            Error(
                "SSO_REVOCATION_CACHE_SECONDS must be between 1 and 3600: it bounds how long a revocation "
                "that could not reach Redis may go unnoticed.",
                id="sso.E002",
            )
        )
    # The browser's own list (core.middleware.BrowserMiddleware), where there is one.
    middleware = list(getattr(settings, "BROWSER_MIDDLEWARE", settings.MIDDLEWARE))
    misplaced = MIDDLEWARE not in middleware or (
        AUTHENTICATION_MIDDLEWARE in middleware
        and middleware.index(MIDDLEWARE) < middleware.index(AUTHENTICATION_MIDDLEWARE)
    )
    if misplaced:
        problems.append(
            Error(f"{MIDDLEWARE} must be in BROWSER_MIDDLEWARE, after {AUTHENTICATION_MIDDLEWARE}.", id="sso.E003")
        )
    options = settings.CACHES.get("default", {}).get("OPTIONS", {})
    if options.get("IGNORE_EXCEPTIONS"):
        problems.append(
            Warning(
                "The default cache sets IGNORE_EXCEPTIONS: cache reads that fail look like misses. The "
                "revocation store is not affected (it uses the raw client), other callers may be.",
                id="sso.W001",
            )
        )
    return problems
