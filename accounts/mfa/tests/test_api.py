"""/api/me/totp/: enrolment, confirmation and removal with an access token (scope `mfa`) or the
browser's session; registration with `"totp": true`."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client as BrowserClient
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.mfa import flows
from conftest import PASSWORD, Flow, bearer

from .conftest import code_for

TOTP = "/api/me/totp/"
VERIFY = "/api/me/totp/verify"


@pytest.fixture
def api(user, make_client):
    """A test client and the headers of an access token with the `mfa` scope for `user`."""
    client, secret = make_client(scopes="openid profile mfa")
    token = Flow(user, client, secret).tokens(scope="openid mfa")["access_token"]
    return BrowserClient(), bearer(token)


def send(browser, method, url, headers, body=None):
    data = json.dumps(body) if body is not None else ""
    return getattr(browser, method)(url, data, content_type="application/json", **headers)


def enrol(api):
    browser, headers = api
    response = send(browser, "post", TOTP, headers)
    assert response.status_code == 201, response.content
    return response


def test_enrolment_answers_the_uri_secret_and_qr_code_of_an_unconfirmed_device(api, user):
    body = enrol(api).json()
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg")
    assert not flows.is_enabled(user)
    assert TOTPDevice.objects.get(user=user).confirmed is False


def test_enrolment_answers_are_not_stored(api):
    assert enrol(api)["Cache-Control"] == "no-store"


def test_a_current_code_confirms_the_device_and_answers_recovery_codes_once(api, user):
    browser, headers = api
    enrol(api)
    device = TOTPDevice.objects.get(user=user)
    response = send(browser, "post", VERIFY, headers, {"code": code_for(device)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["enabled"] is True
    assert len(body["recovery_codes"]) == 10
    assert response["Cache-Control"] == "no-store"
    assert flows.is_enabled(user)


def test_a_wrong_code_confirms_nothing(api, user):
    browser, headers = api
    enrol(api)
    device = TOTPDevice.objects.get(user=user)
    wrong = f"{(int(code_for(device)) + 1) % 10**6:06d}"
    response = send(browser, "post", VERIFY, headers, {"code": wrong})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_code"
    assert not flows.is_enabled(user)


def test_verify_without_a_pending_device_is_refused(api):
    browser, headers = api
    response = send(browser, "post", VERIFY, headers, {"code": "123456"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_code"


def test_a_missing_code_is_a_field_error(api):
    browser, headers = api
    enrol(api)
    response = send(browser, "post", VERIFY, headers, {})
    assert response.status_code == 400
    assert "code" in response.json()


def test_enrolling_again_once_enabled_is_a_conflict(api, enrolled):
    browser, headers = api
    response = send(browser, "post", TOTP, headers)
    assert response.status_code == 409
    assert response.json()["error"] == "already_enabled"


def test_removal_with_a_current_code(api, enrolled, user):
    browser, headers = api
    device, _ = enrolled
    response = send(browser, "delete", TOTP, headers, {"code": code_for(device)})
    assert response.status_code == 204
    assert not flows.is_enabled(user)


def test_removal_with_a_recovery_code(api, enrolled, user):
    browser, headers = api
    _, codes = enrolled
    assert send(browser, "delete", TOTP, headers, {"code": codes[0]}).status_code == 204
    assert not flows.is_enabled(user)


def test_removal_with_the_password(api, enrolled, user):
    browser, headers = api
    assert send(browser, "delete", TOTP, headers, {"password": PASSWORD}).status_code == 204
    assert not flows.is_enabled(user)


@pytest.mark.parametrize("body", [{}, {"password": "not the password"}, {"code": "000000"}, {"code": ""}])
def test_removal_without_proof_removes_nothing(api, enrolled, user, body):
    browser, headers = api
    response = send(browser, "delete", TOTP, headers, body)
    assert response.status_code == 400
    assert flows.is_enabled(user)


def test_removal_when_not_enabled_is_a_conflict(api):
    browser, headers = api
    response = send(browser, "delete", TOTP, headers, {"password": PASSWORD})
    assert response.status_code == 409
    assert response.json()["error"] == "not_enabled"


def test_password_guesses_are_throttled_per_user(api, enrolled, user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "mfa_password": "2/hour"},
    }
    browser, headers = api
    for _ in range(2):
        assert send(browser, "delete", TOTP, headers, {"password": "wrong"}).status_code == 400
    response = send(browser, "delete", TOTP, headers, {"password": PASSWORD})
    assert response.status_code == 429
    assert "Retry-After" in response
    assert flows.is_enabled(user)


def test_a_token_without_the_mfa_scope_gets_insufficient_scope(user, confidential):
    client, secret = confidential
    token = Flow(user, client, secret).tokens(scope="openid profile")["access_token"]
    response = send(BrowserClient(), "post", TOTP, bearer(token))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert 'scope="mfa"' in response["WWW-Authenticate"]
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_a_client_not_allowed_the_mfa_scope_does_not_get_it(user, confidential):
    client, secret = confidential  # no allowed scopes listed: every scope but the explicit ones
    flow = Flow(user, client, secret)
    response = flow.browser.get("/oauth/authorize/", flow.authorize_params(scope="openid mfa", challenge="x" * 43))
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["error"] == ["invalid_scope"]
    assert "code" not in query


def test_no_credentials_is_401_with_the_bearer_challenge(db):
    response = send(BrowserClient(), "post", TOTP, {})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_session_cookie_works_and_is_csrf_checked(user):
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(user)
    assert send(browser, "post", TOTP, {}).status_code == 403  # no CSRF token
    assert not TOTPDevice.objects.filter(user=user).exists()
    browser = BrowserClient()
    browser.force_login(user)
    assert send(browser, "post", TOTP, {}).status_code == 201


def test_registration_with_totp_answers_the_enrolment_beside_the_user(db, settings):
    settings.REGISTRATION_OPEN = True
    body = {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "password": "a long enough passphrase 42",
        "totp": True,
    }
    response = send(BrowserClient(), "post", "/api/users/", {}, body)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["username"] == "newcomer"
    assert answer["totp"]["otpauth_uri"].startswith("otpauth://totp/")
    assert response["Cache-Control"] == "no-store"
    assert TOTPDevice.objects.get(user__username="newcomer").confirmed is False


def test_registration_without_totp_starts_no_enrolment(db, settings):
    settings.REGISTRATION_OPEN = True
    body = {"username": "plain", "email": "plain@example.com", "password": "a long enough passphrase 42"}
    response = send(BrowserClient(), "post", "/api/users/", {}, body)
    assert response.status_code == 201, response.content
    assert "totp" not in response.json()
    assert not TOTPDevice.objects.exists()
