"""Step-up (OpenID Connect Core 3.1.2.1 `acr_values`, 5.5.1.1 the `acr` claim): a request asking
for two factors of a one-factor session sends the user through the code step (or enrolment,
without a device) instead of issuing a weaker token; prompt=login and max_age redo both steps;
prompt=none cannot ask (interaction_required)."""

import json
import time
from urllib.parse import urlsplit

import pytest
from django.test import Client as BrowserClient

from accounts import stages
from conftest import PASSWORD
from oauth.claims import ACR_MFA, ACR_PASSWORD
from sso.models import SSOSession
from tests.e2e.helpers import AUTHORIZE_URL
from tests.e2e.oidc import (
    authorize,
    enrol_totp,
    enter_code,
    exchange,
    id_token_claims,
    location_query,
    set_session_auth_time,
    totp_code,
    two_factor_browser,
)

pytestmark = [pytest.mark.django_db, pytest.mark.rfc("OIDC-Core", "3.1.2.1")]

MFA_CLAIM = json.dumps({"id_token": {"acr": {"essential": True, "value": ACR_MFA}}})


def finish(browser, response, params, verifier, pair):
    """Follow the authorization request to its code (consenting if asked), redeem it: the ID
    token's claims."""
    if response.status_code == 200:
        response = browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    token = exchange(pair, location_query(response)["code"], verifier)
    assert token.status_code == 200, token.content
    return id_token_claims(token.json()["id_token"])


def back_to(browser, response):
    """Follow a redirect back to the authorization request."""
    assert response.status_code == 302, response.content[:300]
    assert urlsplit(response["Location"]).path == AUTHORIZE_URL
    return browser.get(response["Location"])


@pytest.mark.parametrize("ask", [{"acr_values": ACR_MFA}, {"claims": MFA_CLAIM}], ids=["acr_values", "claims"])
def test_a_one_factor_session_steps_up_through_the_code_step(browser, user, confidential, ask):
    device = enrol_totp(user)  # enrolled after this browser logged in with the password alone
    session = SSOSession.objects.get(user=user)
    response, params, verifier = authorize(browser, confidential[0], **ask)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/code/"
    assert "code=" not in response["Location"]

    response = back_to(browser, enter_code(browser, device))
    claims = finish(browser, response, params, verifier, confidential)
    assert (claims["amr"], claims["acr"]) == (["otp", "pwd"], ACR_MFA)
    session.refresh_from_db()
    assert session.amr == ["otp", "pwd"] and session.revoked_at is None  # the same session, stepped up
    assert claims["sid"] == session.sid


def test_a_wrong_code_issues_nothing(browser, user, confidential):
    enrol_totp(user)
    authorize(browser, confidential[0], acr_values=ACR_MFA)
    response = browser.post("/accounts/login/code/", {"code": "000000"})
    assert response.status_code in (400, 429)
    response, _, _ = authorize(browser, confidential[0], acr_values=ACR_MFA)
    assert response["Location"] == "/accounts/login/code/"  # still asked; no code for the client


def test_a_user_without_a_device_is_sent_to_enrolment_then_back(browser, user, confidential):
    response, params, verifier = authorize(browser, confidential[0], acr_values=ACR_MFA)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/2fa/"
    page = browser.get("/accounts/login/2fa/")
    assert page.status_code == 200 and b"<svg" in page.content
    from accounts.mfa import flows

    device = flows.pending_totp(user)
    done = browser.post("/accounts/login/2fa/", {"code": totp_code(device)})
    assert done.status_code == 200 and b"recovery-codes" in done.content
    onward = done.content.decode().split('class="button" href="')[1].split('"')[0].replace("&amp;", "&")
    assert urlsplit(onward).path == AUTHORIZE_URL
    claims = finish(browser, browser.get(onward), params, verifier, confidential)
    assert (claims["amr"], claims["acr"]) == (["otp", "pwd"], ACR_MFA)
    assert flows.is_enabled(user)


def test_a_two_factor_session_is_not_asked_again(user, confidential):
    device = enrol_totp(user)
    browser = two_factor_browser(user, device)
    response, params, verifier = authorize(browser, confidential[0], acr_values=ACR_MFA)
    assert finish(browser, response, params, verifier, confidential)["acr"] == ACR_MFA


@pytest.mark.parametrize("acr_values", [f"{ACR_PASSWORD} {ACR_MFA}", ACR_PASSWORD, "urn:other:acr"])
def test_a_request_that_accepts_one_factor_or_names_none_of_ours_is_not_stepped_up(
    browser, user, confidential, acr_values
):
    enrol_totp(user)
    response, params, verifier = authorize(browser, confidential[0], acr_values=acr_values)
    assert finish(browser, response, params, verifier, confidential)["acr"] == ACR_PASSWORD


def test_prompt_none_cannot_step_up(browser, user, confidential):
    enrol_totp(user)
    response, _, _ = authorize(browser, confidential[0], acr_values=ACR_MFA, prompt="none", state="s1")
    query = location_query(response)
    assert query["error"] == "interaction_required" and query["state"] == "s1"
    assert stages.PENDING_SESSION_KEY not in browser.session


def test_a_bad_request_is_answered_before_any_step_up(browser, user, confidential):
    enrol_totp(user)
    response, _, _ = authorize(browser, confidential[0], acr_values=ACR_MFA, redirect_uri="https://evil.example/cb")
    assert response.status_code == 400 and stages.PENDING_SESSION_KEY not in browser.session


@pytest.mark.parametrize("force", [{"prompt": "login"}, {"max_age": "60"}], ids=["prompt=login", "max_age"])
def test_a_forced_login_redoes_both_steps(user, confidential, force):
    device = enrol_totp(user)
    browser = two_factor_browser(user, device)
    if "max_age" in force:
        set_session_auth_time(browser, int(time.time()) - 3600)
    response, params, verifier = authorize(browser, confidential[0], acr_values=ACR_MFA, **force)
    assert response.status_code == 302 and urlsplit(response["Location"]).path == "/accounts/login/"
    login = browser.post(response["Location"], {"username": user.username, "password": PASSWORD})
    assert login["Location"] == "/accounts/login/code/"  # the password alone is not enough
    device.refresh_from_db()
    device.last_t -= 2  # as if a minute had passed: the app shows a code not used yet
    device.save(update_fields=["last_t"])
    response = back_to(browser, enter_code(browser, device))
    claims = finish(browser, response, params, verifier, confidential)
    assert (claims["amr"], claims["acr"]) == (["otp", "pwd"], ACR_MFA)
    assert claims["auth_time"] >= int(time.time()) - 5


def test_a_new_browser_asked_for_two_factors_logs_in_with_both(user, confidential):
    device = enrol_totp(user)
    browser = BrowserClient()
    response, params, verifier = authorize(browser, confidential[0], acr_values=ACR_MFA)
    login = browser.post(response["Location"], {"username": user.username, "password": PASSWORD})
    assert login["Location"] == "/accounts/login/code/"
    response = back_to(browser, enter_code(browser, device))
    assert finish(browser, response, params, verifier, confidential)["acr"] == ACR_MFA
