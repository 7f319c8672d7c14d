import pytest

from accounts.checks import check_browser_middleware

SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
AUTHENTICATION = "django.contrib.auth.middleware.AuthenticationMiddleware"
MESSAGES = "django.contrib.messages.middleware.MessageMiddleware"
AXES = "axes.middleware.AxesMiddleware"
FRAMES = "django.middleware.clickjacking.XFrameOptionsMiddleware"
CSRF = "django.middleware.csrf.CsrfViewMiddleware"


def ids():
    return {problem.id for problem in check_browser_middleware(None)}


def test_the_shipped_browser_middleware_passes():
    assert ids() == set()


@pytest.mark.parametrize(
    "browser",
    [
        [SESSIONS, CSRF, AUTHENTICATION, FRAMES, AXES],  # no messages: the admin needs them
        [SESSIONS, AUTHENTICATION, MESSAGES, FRAMES, AXES],  # no CSRF protection
        [SESSIONS, CSRF, AUTHENTICATION, MESSAGES, AXES],  # no X-Frame-Options
        [AUTHENTICATION, SESSIONS, CSRF, MESSAGES, FRAMES, AXES],  # authentication reads the session
        [SESSIONS, CSRF, AUTHENTICATION, MESSAGES, AXES, FRAMES],  # axes asks to be last
    ],
)
def test_what_the_admin_and_axes_need_is_checked_in_the_browser_list(settings, browser):
    settings.BROWSER_MIDDLEWARE = browser
    assert ids() == {"accounts.E004"}
