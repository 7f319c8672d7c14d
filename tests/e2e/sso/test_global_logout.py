"""Sessions and tokens: `sid` in every token of a browser session, instant global logout,
ending one session, security events (password change, disabled account).

Logouts run inside django_capture_on_commit_callbacks(execute=True): in production the
revocation store's Redis keys and the token revocations are updated once the logout commits,
and the test transaction never commits.
"""

import time

import pytest
from django.conf import settings

from accounts.tests.helpers import csrf_token
from conftest import PASSWORD, bearer
from oauth import ended_sessions
from oauth.models import AccessToken, Grant, RefreshToken
from sso.models import SSOSession
from tests.e2e.helpers import (
    ME_URL,
    assert_oauth_error,
    creds,
    is_active,
    jwt_parts,
    me,
    post_token,
    revoke,
)

from .conftest import Device

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"


def assert_refused(token):
    response = me(token)
    assert response.status_code == 401, (response.status_code, response.content)
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def refresh_fails(device, refresh_token):
    assert_oauth_error(device.refresh(refresh_token), "invalid_grant")


@pytest.fixture
def both(devices, django_capture_on_commit_callbacks):
    """Tokens from both devices (issuance committed, so the fast path knows them)."""
    laptop, phone = devices
    with django_capture_on_commit_callbacks(execute=True):
        issued = laptop.tokens(), phone.tokens()
    for tokens in issued:
        assert me(tokens["access_token"]).status_code == 200
    return issued


def test_access_and_refresh_tokens_carry_the_session(devices, both):
    laptop, phone = devices
    for device, tokens in zip(devices, both, strict=True):
        header, claims = jwt_parts(tokens["access_token"])
        assert claims["sid"] == device.sid
        assert RefreshToken.objects.get(access_token__jti=claims["jti"]).sid == device.sid
        assert AccessToken.objects.get(jti=claims["jti"]).sid == device.sid
    assert laptop.sid != phone.sid


def test_the_sid_is_not_the_django_session_key(devices, both):
    for device, tokens in zip(devices, both, strict=True):
        sid = jwt_parts(tokens["access_token"])[1]["sid"]
        assert sid != device.browser.session.session_key
        assert sid not in {cookie.value for cookie in device.browser.cookies.values()}
        assert len(sid) >= 22  # at least 128 bits, URL-safe


def test_a_refreshed_token_keeps_the_session(devices, both):
    laptop, _ = devices
    response = laptop.refresh(both[0]["refresh_token"])
    assert response.status_code == 200, response.content
    assert jwt_parts(response.json()["access_token"])[1]["sid"] == laptop.sid
    assert RefreshToken.objects.get(access_token__jti=jwt_parts(response.json()["access_token"])[1]["jti"]).sid


def test_global_logout_from_one_device_refuses_every_token_of_both(
    devices, both, resource_server, django_capture_on_commit_callbacks
):
    laptop, phone = devices
    with django_capture_on_commit_callbacks(execute=True):
        response = laptop.api.post("/api/sessions/logout-all", **bearer(both[0]["access_token"]))
    assert response.status_code == 204
    for tokens in both:
        assert_refused(tokens["access_token"])
        assert not is_active(tokens["access_token"], creds(resource_server))
        assert not is_active(tokens["refresh_token"], creds(resource_server))
    refresh_fails(laptop, both[0]["refresh_token"])
    refresh_fails(phone, both[1]["refresh_token"])
    # The rows are gone or revoked too, so the admin agrees with the APIs.
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    assert not SSOSession.objects.filter(revoked_at__isnull=True).exists()


def test_ending_one_session_kills_only_its_tokens(devices, both, resource_server, django_capture_on_commit_callbacks):
    laptop, phone = devices
    with django_capture_on_commit_callbacks(execute=True):
        response = laptop.api.delete(f"/api/sessions/{phone.session.public_id}", **bearer(both[0]["access_token"]))
    assert response.status_code == 204
    assert_refused(both[1]["access_token"])
    assert not is_active(both[1]["access_token"], creds(resource_server))
    assert not is_active(both[1]["refresh_token"], creds(resource_server))
    refresh_fails(phone, both[1]["refresh_token"])
    # The laptop's session and tokens live on.
    assert me(both[0]["access_token"]).status_code == 200
    assert is_active(both[0]["refresh_token"], creds(resource_server))
    assert laptop.refresh(both[0]["refresh_token"]).status_code == 200


def test_logging_out_in_the_browser_kills_that_sessions_tokens(devices, both, django_capture_on_commit_callbacks):
    laptop, phone = devices
    with django_capture_on_commit_callbacks(execute=True):
        laptop.browser.post("/accounts/logout/")
    assert_refused(both[0]["access_token"])
    refresh_fails(laptop, both[0]["refresh_token"])
    assert me(both[1]["access_token"]).status_code == 200


@pytest.fixture
def tokens_not_revoked(monkeypatch):
    """The sessions_ended receiver fails to revoke anything (the bindings must hold alone)."""
    monkeypatch.setattr(ended_sessions, "end_tokens", lambda **kwargs: None)


def end_session(device, with_token, capture):
    with capture(execute=True):
        response = device.api.delete(f"/api/sessions/{device.session.public_id}", **bearer(with_token))
    assert response.status_code == 204


def test_a_refresh_token_stops_working_when_its_session_ends_even_if_not_revoked(
    devices, both, tokens_not_revoked, django_capture_on_commit_callbacks
):
    laptop, phone = devices
    end_session(laptop, both[1]["access_token"], django_capture_on_commit_callbacks)
    assert RefreshToken.objects.filter(sid=laptop.sid, revoked__isnull=True).exists()
    refresh_fails(laptop, both[0]["refresh_token"])
    assert_refused(both[0]["access_token"])
    assert phone.refresh(both[1]["refresh_token"]).status_code == 200


def test_a_code_from_a_session_that_ended_is_refused(
    devices, both, tokens_not_revoked, django_capture_on_commit_callbacks
):
    laptop, _ = devices
    code, verifier = laptop.code()
    assert Grant.objects.get(code=code).sid == laptop.sid
    end_session(laptop, both[1]["access_token"], django_capture_on_commit_callbacks)
    assert_oauth_error(laptop.exchange(code, verifier), "invalid_grant")


def change_password(browser):
    page = browser.get("/accounts/password/")
    assert page.status_code == 200
    return browser.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "csrfmiddlewaretoken": csrf_token(page),
        },
    )


def test_a_password_change_refuses_every_earlier_token(devices, both, django_capture_on_commit_callbacks):
    laptop, phone = devices
    time.sleep(1.01 - time.time() % 1)  # a new second: the tokens' iat is before the change
    with django_capture_on_commit_callbacks(execute=True):
        assert change_password(laptop.browser).status_code == 302
    for device, tokens in zip(devices, both, strict=True):
        assert_refused(tokens["access_token"])
        refresh_fails(device, tokens["refresh_token"])
    # The browser that changed the password keeps its session, and gets new tokens.
    time.sleep(1.01 - time.time() % 1)
    with django_capture_on_commit_callbacks(execute=True):
        fresh = laptop.tokens()
    assert me(fresh["access_token"]).status_code == 200


def test_disabling_the_user_refuses_their_tokens(user, devices, both, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()
    for device, tokens in zip(devices, both, strict=True):
        assert_refused(tokens["access_token"])
        refresh_fails(device, tokens["refresh_token"])


def test_tokens_without_a_browser_session_have_no_sid(user, password_client, service):
    response = post_token(
        {"grant_type": "password", "username": user.username, "password": PASSWORD, "scope": "profile"},
        auth=creds(password_client),
    )
    assert response.status_code == 200, response.content
    assert "sid" not in jwt_parts(response.json()["access_token"])[1]
    assert RefreshToken.objects.get().sid == ""
    response = post_token({"grant_type": "client_credentials"}, auth=creds(service))
    assert "sid" not in jwt_parts(response.json()["access_token"])[1]


def test_a_password_grant_token_survives_the_end_of_another_session_but_not_a_global_logout(
    user, devices, both, password_client, django_capture_on_commit_callbacks
):
    laptop, phone = devices
    with django_capture_on_commit_callbacks(execute=True):
        response = post_token(
            {"grant_type": "password", "username": user.username, "password": PASSWORD, "scope": "profile"},
            auth=creds(password_client),
        )
    legacy = response.json()
    with django_capture_on_commit_callbacks(execute=True):
        laptop.api.delete(f"/api/sessions/{phone.session.public_id}", **bearer(both[0]["access_token"]))
    assert me(legacy["access_token"]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        laptop.api.post("/api/sessions/logout-all", **bearer(both[0]["access_token"]))
    assert_refused(legacy["access_token"])
    assert_oauth_error(
        post_token(
            {"grant_type": "refresh_token", "refresh_token": legacy["refresh_token"]}, auth=creds(password_client)
        ),
        "invalid_grant",
    )


def test_rfc7009_revocation_is_honoured_at_once(flow, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tokens = flow.tokens()
    assert me(tokens["access_token"]).status_code == 200  # cached as live, with Redis
    with django_capture_on_commit_callbacks(execute=True):
        assert revoke(tokens["access_token"], (flow.client.client_id, flow.secret)).status_code == 200
    assert_refused(tokens["access_token"])


def test_a_code_replay_revokes_at_once(flow, django_capture_on_commit_callbacks):
    code, verifier = flow.code()
    with django_capture_on_commit_callbacks(execute=True):
        tokens = flow.exchange(code, verifier).json()
    assert me(tokens["access_token"]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert_oauth_error(flow.exchange(code, verifier), "invalid_grant")
    assert_refused(tokens["access_token"])


def test_a_refresh_token_reuse_revokes_the_family_at_once(flow, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = flow.tokens()
        second = flow.refresh(first["refresh_token"]).json()
    assert me(second["access_token"]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert_oauth_error(flow.refresh(first["refresh_token"]), "invalid_grant")
    assert_refused(second["access_token"])


def test_a_new_device_after_global_logout_works(user, confidential, devices, both, django_capture_on_commit_callbacks):
    laptop, _ = devices
    with django_capture_on_commit_callbacks(execute=True):
        laptop.api.post("/api/sessions/logout-all", **bearer(both[0]["access_token"]))
    time.sleep(1.01 - time.time() % 1)  # iat is whole seconds: a token of the same second is refused
    client, secret = confidential
    with django_capture_on_commit_callbacks(execute=True):
        tokens = Device(user, client, secret).tokens()
    assert me(tokens["access_token"]).status_code == 200
    assert settings.ACCESS_TOKEN_AUDIENCE in jwt_parts(tokens["access_token"])[1]["aud"]
    assert ME_URL == "/api/me"
