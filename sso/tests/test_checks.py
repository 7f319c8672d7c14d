import pytest

from sso.checks import check_sso_settings


def ids():
    return {problem.id for problem in check_sso_settings(None)}


def test_the_shipped_settings_pass():
    assert ids() == set()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SSO_SESSION_IDLE_SECONDS", 0, "sso.E001"),
        ("SSO_SESSION_IDLE_SECONDS", 10**9, "sso.E001"),
        ("SSO_REVOCATION_CACHE_SECONDS", 0, "sso.E002"),
        ("SSO_REVOCATION_CACHE_SECONDS", 86400, "sso.E002"),
    ],
)
def test_bad_settings_are_errors(settings, name, value, expected):
    setattr(settings, name, value)
    assert expected in ids()


def test_the_middleware_must_follow_authentication(settings):
    browser = [m for m in settings.BROWSER_MIDDLEWARE if m != "sso.middleware.SSOSessionMiddleware"]
    settings.BROWSER_MIDDLEWARE = browser
    assert "sso.E003" in ids()
    settings.BROWSER_MIDDLEWARE = ["sso.middleware.SSOSessionMiddleware", *browser]
    assert "sso.E003" in ids()


def test_ignore_exceptions_is_flagged(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"IGNORE_EXCEPTIONS": True}}
    }
    assert "sso.W001" in ids()
