"""The code step of a login and the two-factor settings pages, through Django's test client."""

import re

import pytest
from django.contrib.auth import SESSION_KEY

from accounts import stages
from accounts.mfa import flows
from conftest import PASSWORD
from sso.models import SSOSession

from .conftest import code_for

pytestmark = pytest.mark.django_db


def log_in(client, user, next_url="/accounts/sessions/"):
    return client.post(f"/accounts/login/?next={next_url}", {"username": user.username, "password": PASSWORD})


def test_a_user_without_2fa_logs_in_with_the_password(client, user):
    response = log_in(client, user)
    assert response["Location"] == "/accounts/sessions/"
    assert SSOSession.objects.get(user=user).amr == ["pwd"]


def test_with_2fa_the_password_leads_to_the_code_step_and_nothing_of_the_session_exists(client, user, enrolled):
    device, _ = enrolled
    response = log_in(client, user)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/code/"
    assert SESSION_KEY not in client.session and not SSOSession.objects.exists()
    page = client.get("/accounts/login/code/")
    assert page.status_code == 200 and b'autocomplete="one-time-code"' in page.content
    assert client.get("/accounts/profile/").status_code == 302  # still logged out

    wrong = client.post("/accounts/login/code/", {"code": "000000"})
    assert wrong.status_code in (400, 429) and SESSION_KEY not in client.session
    device.throttle_reset()
    done = client.post("/accounts/login/code/", {"code": code_for(device, offset_steps=1)})
    assert done.status_code == 302 and done["Location"] == "/accounts/sessions/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert SSOSession.objects.get(user=user).amr == ["otp", "pwd"]


def test_a_recovery_code_passes_the_code_step(client, user, enrolled):
    _, codes = enrolled
    log_in(client, user)
    done = client.post("/accounts/login/code/", {"code": codes[0]})
    assert done["Location"] == "/accounts/sessions/"
    assert flows.remaining_recovery_codes(user) == 9


def test_too_many_wrong_codes_answer_429_with_retry_after(client, user, enrolled):
    log_in(client, user)
    client.post("/accounts/login/code/", {"code": "000001"})
    response = client.post("/accounts/login/code/", {"code": "000002"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert b'role="alert"' in response.content


def test_the_code_step_without_a_pending_login_goes_back_to_the_login(client):
    response = client.get("/accounts/login/code/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_cancel_forgets_the_pending_login(client, user, enrolled):
    log_in(client, user)
    assert client.post("/accounts/login/code/cancel/").status_code == 302
    assert stages.PENDING_SESSION_KEY not in client.session


def test_enrolment_page_then_confirm_shows_the_recovery_codes_once(client, user):
    client.force_login(user)
    page = client.get("/accounts/2fa/totp/")
    assert page.status_code == 200 and b"<svg" in page.content
    assert page["Cache-Control"].startswith("max-age=0") or "no-store" in page["Cache-Control"]
    secret = re.search(rb'data-secret="([A-Z2-7]+)"', page.content).group(1).decode()
    device = flows.pending_totp(user)
    assert secret == flows.enrolment(device).secret
    assert client.post("/accounts/2fa/totp/", {"code": "12"}).status_code == 400
    device.throttle_reset()
    done = client.post("/accounts/2fa/totp/", {"code": code_for(device)})
    assert done.status_code == 200
    codes = re.findall(rb"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.content)
    assert len(codes) == 10 and flows.is_enabled(user)
    # Set up already: the page sends back to the overview, and shows no secret again.
    assert client.get("/accounts/2fa/totp/")["Location"] == "/accounts/2fa/"


def test_new_recovery_codes_and_turning_off_need_a_login_and_the_password(client, user, enrolled):
    assert client.post("/accounts/2fa/recovery-codes/").status_code == 302  # to the login
    client.force_login(user)
    assert client.post("/accounts/2fa/recovery-codes/").status_code == 200
    assert client.post("/accounts/2fa/disable/", {"password": "wrong"}).status_code == 400
    assert flows.is_enabled(user)
    assert client.post("/accounts/2fa/disable/", {"password": PASSWORD}).status_code == 302
    assert not flows.is_enabled(user)


def test_the_overview_says_whether_it_is_on(client, user):
    client.force_login(user)
    assert b"is <strong>off</strong>" in client.get("/accounts/2fa/").content


def test_the_session_key_changes_when_the_code_step_completes(client, user, enrolled):
    device, _ = enrolled
    log_in(client, user)
    pending_key = client.session.session_key
    client.post("/accounts/login/code/", {"code": code_for(device, offset_steps=1)})
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.session.session_key != pending_key  # no fixation across the second step


def test_a_password_only_login_gets_no_code_from_the_authorization_endpoint(client, user, enrolled):
    log_in(client, user)
    response = client.get("/oauth/authorize/", {"client_id": "anything", "response_type": "code"})
    assert SESSION_KEY not in client.session
    assert response.status_code in (302, 400)
    assert "code=" not in response.get("Location", "")


@pytest.mark.parametrize("path", ["/accounts/login/code/", "/accounts/2fa/", "/accounts/2fa/totp/"])
def test_two_factor_pages_cannot_be_framed(client, user, enrolled, path):
    if path == "/accounts/login/code/":
        log_in(client, user)
    else:
        client.force_login(user)
    response = client.get(path)
    assert response.status_code in (200, 302)
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
