"""RFC 6749 section 4.3 with a second factor: a user with a confirmed authenticator app gets no
token from the password alone (SECURITY.md); `otp` carries a TOTP code or a recovery code,
computed here from the device's secret with django-otp's own TOTP maths."""

import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django_otp.oath import TOTP

from accounts.mfa import flows
from conftest import PASSWORD, require_postgres, run_concurrently
from tests.e2e.helpers import assert_oauth_error, creds, jwt_parts, post_token

pytestmark = pytest.mark.django_db


def code_for(device, *, offset_steps=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def enrolled(user):
    """`user` with a confirmed authenticator app: (device, recovery codes)."""
    device = flows.start_totp(user=user)
    codes = flows.confirm_totp(user=user, code=code_for(device, offset_steps=-1))
    device.refresh_from_db()
    return device, codes


def password(pair, username, secret_word=PASSWORD, **extra):
    return post_token(
        {"grant_type": "password", "username": username, "password": secret_word, **extra}, auth=creds(pair)
    )


def assert_second_factor_needed(response):
    body = assert_oauth_error(response, "invalid_grant")
    assert "second factor is needed" in body["error_description"]
    assert "access_token" not in body
    return body


@pytest.mark.rfc("6749", "4.3.2")
def test_the_password_alone_gets_no_token(password_client, user, enrolled):
    body = assert_second_factor_needed(password(password_client, user.username))
    assert "otp" in body["error_description"]


@pytest.mark.rfc("6749", "4.3.2")
@pytest.mark.parametrize("otp", ["000000", "12345", "abcdefghjk", " "])
def test_a_wrong_otp_gets_no_token(password_client, user, enrolled, otp):
    device, _ = enrolled
    if otp == "000000" and code_for(device) == otp:
        otp = "111111"
    assert_second_factor_needed(password(password_client, user.username, otp=otp))


@pytest.mark.rfc("8176", "2")
def test_a_current_code_gets_a_token_whose_amr_says_pwd_and_otp(password_client, user, enrolled):
    device, _ = enrolled
    response = password(password_client, user.username, otp=code_for(device))
    assert response.status_code == 200, response.content
    _, claims = jwt_parts(response.json()["access_token"])
    assert claims["amr"] == ["pwd", "otp"]
    assert claims["sub"] == user.subject


@pytest.mark.rfc("6749", "4.3.2")
def test_a_code_works_once(password_client, user, enrolled):
    device, _ = enrolled
    code = code_for(device)
    assert password(password_client, user.username, otp=code).status_code == 200
    assert_second_factor_needed(password(password_client, user.username, otp=code))


@pytest.mark.rfc("6749", "4.3.2")
def test_a_recovery_code_works_once(password_client, user, enrolled):
    _, codes = enrolled
    response = password(password_client, user.username, otp=codes[0])
    assert response.status_code == 200, response.content
    assert jwt_parts(response.json()["access_token"])[1]["amr"] == ["pwd", "otp"]
    assert_second_factor_needed(password(password_client, user.username, otp=codes[0]))


@pytest.mark.rfc("6749", "4.3.2")
def test_a_wrong_password_says_nothing_of_the_second_factor(password_client, user, enrolled):
    device, _ = enrolled
    wrong = password(password_client, user.username, "wrong password", otp=code_for(device))
    unknown = password(password_client, "no-such-user", "wrong password")
    assert_oauth_error(wrong, "invalid_grant")
    assert wrong.json() == unknown.json()


@pytest.mark.rfc("8176", "2")
def test_without_two_factor_the_amr_says_pwd(password_client, user):
    response = password(password_client, user.username, otp="123456")  # ignored: no device
    assert response.status_code == 200, response.content
    assert jwt_parts(response.json()["access_token"])[1]["amr"] == ["pwd"]


@pytest.mark.rfc("6749", "4.3.2")
def test_wrong_codes_count_toward_the_login_lockout(password_client, user, enrolled, monkeypatch):
    device, _ = enrolled
    # django-otp's growing delay would refuse the codes first: take it away to reach the lockout.
    monkeypatch.setattr(type(device), "verify_is_allowed", lambda self: (True, None))
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert_second_factor_needed(password(password_client, user.username, otp="000001"))
    # The failure that reaches the limit says so (test_password_grant_lockout.py).
    reaching = assert_oauth_error(password(password_client, user.username, otp="000001"), "invalid_grant")
    assert "temporarily locked" in reaching["error_description"]
    assert AccessAttempt.objects.get().failures_since_start == settings.LOGIN_FAILURE_LIMIT
    locked = password(password_client, user.username, otp=code_for(device))
    assert assert_oauth_error(locked, "invalid_grant") == reaching


@pytest.mark.rfc("6749", "4.3.2")
def test_a_missing_otp_is_not_counted_as_a_failure(password_client, user, enrolled):
    for _ in range(settings.LOGIN_FAILURE_LIMIT + 1):
        assert_second_factor_needed(password(password_client, user.username))
    device, _ = enrolled
    assert password(password_client, user.username, otp=code_for(device)).status_code == 200


@pytest.mark.rfc("6749", "4.3.2")
@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_get_no_further_than_the_limit(password_client, user, settings):
    require_postgres("parallel attempts serialized by an advisory lock")
    settings.LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 3
    results, errors = run_concurrently(lambda: password(password_client, user.username, "wrong").status_code, 8)
    assert not errors, errors
    assert results == [400] * 8
    # Serialized: the attempts after the limit were refused before any password check, uncounted.
    assert AccessAttempt.objects.get().failures_since_start == 3


@pytest.mark.rfc("6749", "4.3.2")
def test_a_wrong_otp_is_not_stored_with_the_failure(password_client, user, enrolled):
    _, codes = enrolled
    near_miss = codes[0][:-1] + ("a" if codes[0][-1] != "a" else "b")
    assert_second_factor_needed(password(password_client, user.username, otp=near_miss))
    assert near_miss not in AccessAttempt.objects.get().post_data
