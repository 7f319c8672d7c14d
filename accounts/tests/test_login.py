import contextlib
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import get_hashers
from django.contrib.sessions.backends.base import SessionBase
from django.utils.module_loading import import_string

from conftest import PASSWORD

from .helpers import LOGIN, csrf_browser, csrf_token, login, without_csrf_tokens

LOGOUT = "/accounts/logout/"
PROFILE = "/accounts/profile/"


def session_store(key=None) -> SessionBase:
    return import_string(f"{settings.SESSION_ENGINE}.SessionStore")(key)


@pytest.fixture
def browser():
    return csrf_browser()


@pytest.mark.django_db
def test_login_page_renders_with_csrf_token(browser):
    response = browser.get(LOGIN)
    assert response.status_code == 200
    assert csrf_token(response)
    assert settings.CSRF_COOKIE_NAME in response.cookies
    assert "no-store" in response["Cache-Control"]


def test_right_password_logs_in(browser, user):
    response = login(browser, user.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert browser.session[SESSION_KEY] == str(user.pk)
    assert browser.get(PROFILE).status_code == 200


def test_login_cycles_the_session_key(browser, user):
    # An attacker plants a session cookie before the victim logs in (session fixation).
    browser.get(LOGIN)
    planted = browser.session
    planted["planted"] = True
    planted.save()
    planted_key = planted.session_key
    assert browser.cookies[settings.SESSION_COOKIE_NAME].value == planted_key

    assert login(browser, user.username, PASSWORD).status_code == 302

    new_key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key != planted_key
    assert not session_store().exists(planted_key)
    assert SESSION_KEY not in session_store(planted_key).load()


def test_wrong_password_and_unknown_user_answer_alike(browser, user):
    wrong = login(browser, user.username, "not the password")
    unknown = login(csrf_browser(), "nobody-here", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    assert SESSION_KEY not in browser.session
    normalised = [
        without_csrf_tokens(r.content.decode()).replace(name, "NAME")
        for r, name in ((wrong, user.username), (unknown, "nobody-here"))
    ]
    assert normalised[0] == normalised[1]
    assert "Please enter a correct username and password" in normalised[0]


def test_login_ignores_username_case(browser, make_user):
    make_user(username="Alice")
    response = login(browser, "aLICE", PASSWORD)
    assert response.status_code == 302
    assert browser.get(PROFILE).status_code == 200


def test_inactive_user_cannot_log_in(browser, make_user):
    make_user(username="gone", is_active=False)
    response = login(browser, "gone", PASSWORD)
    assert response.status_code == 200
    assert SESSION_KEY not in browser.session


def test_login_refuses_a_post_without_csrf_token(browser, user):
    browser.get(LOGIN)
    response = browser.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403
    assert SESSION_KEY not in browser.session


def test_login_does_not_redirect_off_site(browser, user):
    response = login(browser, user.username, PASSWORD, next="https://evil.example.net/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"


@contextlib.contextmanager
def spied_hashers():
    """Record every encode and verify of the configured password hashers (the real ones run)."""
    calls = []
    with contextlib.ExitStack() as stack:
        for hasher in get_hashers():
            for method in ("encode", "verify"):
                real = getattr(type(hasher), method)

                def spy(self, *args, _real=real, _name=f"{hasher.algorithm}.{method}", **kwargs):
                    calls.append(_name)
                    return _real(self, *args, **kwargs)

                stack.enter_context(mock.patch.object(type(hasher), method, spy))
        yield calls


def test_the_hasher_spy_sees_a_login(browser, user):
    with spied_hashers() as calls:
        assert login(browser, user.username, PASSWORD).status_code == 302
    assert calls  # the right password was verified: the spy below can see a hash


@pytest.mark.parametrize("username", ["known", "unknown"])
def test_overlong_password_is_refused_without_hashing(browser, user, username):
    with spied_hashers() as calls:
        response = login(browser, user.username if username == "known" else "nobody", "x" * 10_000)
    assert response.status_code == 200
    assert SESSION_KEY not in browser.session
    assert calls == []


def test_logout_refuses_get(browser, user):
    login(browser, user.username, PASSWORD)
    assert browser.get(LOGOUT).status_code == 405
    assert browser.get(PROFILE).status_code == 200


def test_logout_refuses_a_post_without_csrf_token(browser, user):
    login(browser, user.username, PASSWORD)
    assert browser.post(LOGOUT).status_code == 403
    assert browser.get(PROFILE).status_code == 200


def test_logout_with_csrf_token_ends_the_session(browser, user):
    login(browser, user.username, PASSWORD)
    old_key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    token = csrf_token(browser.get(PROFILE))
    response = browser.post(LOGOUT, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/logged-out/"
    assert not session_store().exists(old_key)
    profile = browser.get(PROFILE)
    assert profile.status_code == 302
    assert profile["Location"].startswith(LOGIN)


@pytest.mark.parametrize(
    "username,password",
    [("nul\x00user", "x"), ("user", "nul\x00password"), ("\u202euser", "x"), ("x" * 151, "x")],
    ids=["nul-username", "nul-password", "bidi-control", "long-username"],
)
def test_hostile_credentials_are_a_normal_failure(browser, user, username, password):
    response = login(browser, username, password)
    assert response.status_code == 200
    assert SESSION_KEY not in browser.session
