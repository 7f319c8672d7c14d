"""Trust this browser for N days (MFA_TRUST_BROWSER_DAYS): a signed cookie bound to the user,
its password and its devices; a trusted login is the password alone (amr ["pwd"], RFC 8176),
so a request for two factors still gets the code step."""

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.http import HttpResponse
from django.test import Client

from accounts.mfa import flows, trust
from conftest import PASSWORD
from oauth.claims import ACR_MFA
from sso.models import SSOSession
from tests.e2e.oidc import authorize

from .conftest import code_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def trust_on(settings):
    settings.MFA_TRUST_BROWSER_DAYS = 30


def log_in(browser, user):
    return browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})


def code_step(browser, device, *, trusted, offset_steps=1):
    data = {"code": code_for(device, offset_steps=offset_steps)}
    if trusted:
        data["trust"] = "on"
    response = browser.post("/accounts/login/code/", data)
    assert response.status_code == 302, response.content
    return response


def trusted_browser(user, device):
    browser = Client()
    log_in(browser, user)
    response = code_step(browser, device, trusted=True)
    assert trust.COOKIE_NAME in response.cookies
    browser.post("/accounts/logout/")
    return browser


def test_off_by_default_the_code_step_offers_no_trust(user, enrolled):
    browser = Client()
    log_in(browser, user)
    page = browser.get("/accounts/login/code/")
    assert b'name="trust"' not in page.content
    response = browser.post("/accounts/login/code/", {"code": code_for(enrolled[0], offset_steps=1), "trust": "on"})
    assert trust.COOKIE_NAME not in response.cookies


def test_the_cookie_is_signed_httponly_lax_bound_to_the_login_path(trust_on, user, enrolled):
    browser = Client()
    log_in(browser, user)
    page = browser.get("/accounts/login/code/")
    assert b'name="trust"' in page.content and b"30 days" in page.content
    cookie = code_step(browser, enrolled[0], trusted=True).cookies[trust.COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/accounts/login/" and int(cookie["max-age"]) == 30 * 24 * 3600
    assert not cookie["secure"]  # DEBUG: no HTTPS; production's session cookie is Secure, and so is this
    assert SSOSession.objects.get(user=user).amr == ["otp", "pwd"]  # that login had its code


def test_the_cookie_is_secure_where_the_session_cookie_is(trust_on, settings, user, enrolled):
    settings.SESSION_COOKIE_SECURE = True
    browser = Client()
    log_in(browser, user)
    assert code_step(browser, enrolled[0], trusted=True).cookies[trust.COOKIE_NAME]["secure"]


def test_a_trusted_browser_skips_the_code_step_and_says_only_the_password_was_used(trust_on, user, enrolled):
    browser = trusted_browser(user, enrolled[0])
    response = log_in(browser, user)
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    assert browser.session[SESSION_KEY] == str(user.pk)
    session = SSOSession.objects.filter(user=user, revoked_at__isnull=True).get()
    assert session.amr == ["pwd"]  # RFC 8176: nothing but the password was used at this login


def test_without_ticking_the_box_nothing_is_remembered(trust_on, user, enrolled):
    browser = Client()
    log_in(browser, user)
    assert trust.COOKIE_NAME not in code_step(browser, enrolled[0], trusted=False).cookies


def test_a_request_for_two_factors_still_gets_the_code_step(trust_on, user, enrolled, confidential):
    browser = trusted_browser(user, enrolled[0])
    log_in(browser, user)
    response, _, _ = authorize(browser, confidential[0], acr_values=ACR_MFA)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/code/"


def test_a_password_change_ends_the_trust(trust_on, user, enrolled):
    browser = trusted_browser(user, enrolled[0])
    user.set_password("another long passphrase 42")
    user.save()
    response = browser.post("/accounts/login/", {"username": user.username, "password": "another long passphrase 42"})
    assert response["Location"] == "/accounts/login/code/"


def test_removing_the_devices_ends_the_trust_also_after_enrolling_again(trust_on, user, enrolled, make_user):
    browser = trusted_browser(user, enrolled[0])
    flows.disable(user=user, by=make_user(username="operator", is_staff=True), reason="lost phone")
    device = flows.start_totp(user=user)
    flows.confirm_totp(user=user, code=code_for(device))
    assert log_in(browser, user)["Location"] == "/accounts/login/code/"


def test_the_cookie_works_for_its_user_only(trust_on, user, enrolled, make_user):
    browser = trusted_browser(user, enrolled[0])
    other = make_user(username="other")
    device = flows.start_totp(user=other)
    flows.confirm_totp(user=other, code=code_for(device))
    assert log_in(browser, other)["Location"] == "/accounts/login/code/"


@pytest.mark.parametrize("value", ["garbage", "eyJ1IjoiMSJ9:1abc:forged"])
def test_a_tampered_cookie_is_ignored(trust_on, user, enrolled, value):
    browser = Client()
    browser.cookies[trust.COOKIE_NAME] = value
    assert log_in(browser, user)["Location"] == "/accounts/login/code/"


def test_turning_trust_off_ignores_earlier_cookies(trust_on, settings, user, enrolled):
    browser = trusted_browser(user, enrolled[0])
    settings.MFA_TRUST_BROWSER_DAYS = 0
    assert log_in(browser, user)["Location"] == "/accounts/login/code/"


def test_an_expired_cookie_is_ignored(trust_on, user, enrolled, monkeypatch):
    real_time = time.time
    with monkeypatch.context() as patched:  # a cookie made 31 days ago
        patched.setattr(time, "time", lambda: real_time() - 31 * 24 * 3600)
        cookie = trust.remember(HttpResponse(), user=user).cookies[trust.COOKIE_NAME]
    browser = Client()
    browser.cookies[trust.COOKIE_NAME] = cookie.value
    assert log_in(browser, user)["Location"] == "/accounts/login/code/"
    browser = Client()
    browser.cookies[trust.COOKIE_NAME] = trust.remember(HttpResponse(), user=user).cookies[trust.COOKIE_NAME].value
    assert log_in(browser, user)["Location"] == "/accounts/profile/"  # the same made now works


def test_a_trusted_staff_browser_still_gives_the_code_for_the_admin(trust_on, operator):
    browser = trusted_browser(operator, operator.totp_device)
    assert log_in(browser, operator)["Location"] == "/accounts/profile/"  # the code step skipped
    response = browser.get("/admin/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/code/"
