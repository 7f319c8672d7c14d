"""A passkey login in every token (OpenID Connect Core 2 `amr`/`acr`, RFC 8176 `hwk`/`swk`,
RFC 9068 2.2.1, RFC 7662): passwordless (the key with user verification: `mfa`, two factors)
or as the second factor after the password (`pwd`), through the code, the refresh token and
introspection; a step-up (`acr_values`) passes with a passkey."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client as BrowserClient

from accounts.mfa.tests.softkey import SoftAuthenticator
from conftest import PASSWORD
from oauth.claims import ACR_MFA
from tests.e2e.helpers import AUTHORIZE_URL
from tests.e2e.oidc import authorize, exchange, id_token_claims, location_query, oidc_tokens
from tests.e2e.oidc_core.test_authentication_context import authentication_of, refreshed

pytestmark = [pytest.mark.django_db, pytest.mark.rfc("OIDC-Core", "2")]


def with_passkey(user, key):
    """Register `key` for `user` through the passkeys page (then logged out)."""
    browser = BrowserClient()
    browser.force_login(user)
    options = browser.post("/accounts/passkeys/options/").json()
    assert browser.post("/accounts/passkeys/add/", {"credential": key.create(options)}).status_code == 303


def passkey_login(browser, key, next_url=""):
    options = browser.post("/accounts/login/passkey/options/").json()
    response = browser.post("/accounts/login/passkey/", {"credential": key.get(options), "next": next_url})
    assert response.status_code == 303, response.content[:300]
    return response


def test_a_passwordless_passkey_login_is_two_factor_in_every_token(user, confidential):
    key = SoftAuthenticator()
    with_passkey(user, key)
    browser = BrowserClient()
    passkey_login(browser, key)
    issued = oidc_tokens(browser, confidential)
    assert authentication_of(issued, confidential) == [(["hwk", "mfa"], ACR_MFA)] * 4
    again = refreshed(confidential, issued["refresh_token"])
    assert authentication_of(again, confidential) == [(["hwk", "mfa"], ACR_MFA)] * 4


def test_a_synced_passkey_is_swk(user, confidential):
    key = SoftAuthenticator(backup_eligible=True)
    with_passkey(user, key)
    browser = BrowserClient()
    passkey_login(browser, key)
    assert id_token_claims(oidc_tokens(browser, confidential)["id_token"])["amr"] == ["mfa", "swk"]


def test_a_passkey_after_the_password_is_hwk_and_pwd(user, confidential):
    key = SoftAuthenticator()
    with_passkey(user, key)
    browser = BrowserClient()
    assert browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})["Location"] == (
        "/accounts/login/code/"
    )
    options = browser.post("/accounts/login/code/passkey/options/").json()
    assert browser.post("/accounts/login/code/passkey/", {"credential": key.get(options)}).status_code == 303
    issued = oidc_tokens(browser, confidential)
    assert authentication_of(issued, confidential) == [(["hwk", "pwd"], ACR_MFA)] * 4


def test_the_authorization_request_resumes_after_a_passkey_login(user, confidential):
    key = SoftAuthenticator()
    with_passkey(user, key)
    browser = BrowserClient()
    response, params, verifier = authorize(browser, confidential[0], acr_values=ACR_MFA)
    login_url = urlsplit(response["Location"])
    assert login_url.path == "/accounts/login/"
    next_url = parse_qs(login_url.query)["next"][0]
    resumed = passkey_login(browser, key, next_url=next_url)
    assert urlsplit(resumed["Location"]).path == AUTHORIZE_URL
    response = browser.get(resumed["Location"])
    if response.status_code == 200:
        response = browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    token = exchange(confidential, location_query(response)["code"], verifier)
    claims = id_token_claims(token.json()["id_token"])
    assert (claims["amr"], claims["acr"]) == (["hwk", "mfa"], ACR_MFA)


def test_a_passkey_login_cannot_be_sent_to_another_site(user):
    key = SoftAuthenticator()
    with_passkey(user, key)
    response = passkey_login(BrowserClient(), key, next_url="https://evil.example/")
    assert response["Location"] == "/accounts/profile/"


def test_a_one_factor_session_steps_up_with_a_passkey(user, confidential):
    browser = BrowserClient()
    browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    key = SoftAuthenticator()
    options = browser.post("/accounts/passkeys/options/").json()
    browser.post("/accounts/passkeys/add/", {"credential": key.create(options)})
    response, params, verifier = authorize(browser, confidential[0], acr_values=ACR_MFA)
    assert response["Location"] == "/accounts/login/code/"
    options = browser.post("/accounts/login/code/passkey/options/").json()
    done = browser.post("/accounts/login/code/passkey/", {"credential": key.get(options)})
    assert urlsplit(done["Location"]).path == AUTHORIZE_URL
    response = browser.get(done["Location"])
    if response.status_code == 200:
        response = browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    claims = id_token_claims(exchange(confidential, location_query(response)["code"], verifier).json()["id_token"])
    assert (claims["amr"], claims["acr"]) == (["hwk", "pwd"], ACR_MFA)
