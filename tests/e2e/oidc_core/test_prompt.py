"""OpenID Connect Core 1.0 section 3.1.2.1: prompt, max_age and login_hint; 3.1.2.6 errors.
Every authorization response carries `iss` (RFC 9207)."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client as BrowserClient

from conftest import PASSWORD, REDIRECT_URI
from sso.flows import SID_SESSION_KEY
from tests.e2e.helpers import redirect_query
from tests.e2e.oidc import (
    authorize,
    code_for,
    exchange,
    id_token_claims,
    session_auth_time,
    set_session_auth_time,
)

pytestmark = [pytest.mark.django_db, pytest.mark.rfc("OIDC-Core", "3.1.2.1")]
LOGIN_URL = "/accounts/login/"


def assert_error_redirect(response, error, state="st"):
    parts, query = redirect_query(response)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI
    assert query["error"] == error, query
    assert query["state"] == state
    assert query["iss"] == settings.ISSUER
    assert "code" not in query
    return query


def login_redirect_next(response):
    """The `next` of a redirect to the login page."""
    assert response.status_code == 302, (response.status_code, response.content[:300])
    parts = urlsplit(response["Location"])
    assert parts.path == LOGIN_URL
    return parse_qs(parts.query)["next"][0]


def log_in(browser, user):
    response = browser.post(LOGIN_URL, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content


# --- prompt=none ----------------------------------------------------------------------------


@pytest.mark.rfc("OIDC-Core", "3.1.2.6")
def test_prompt_none_without_a_session_is_login_required(confidential):
    response, _, _ = authorize(BrowserClient(), confidential[0], prompt="none")
    assert_error_redirect(response, "login_required")
    assert not response.content


def test_prompt_none_without_a_session_and_a_bad_redirect_uri_is_an_error_page(confidential):
    response, _, _ = authorize(
        BrowserClient(), confidential[0], prompt="none", redirect_uri="https://attacker.example/cb"
    )
    assert response.status_code == 400
    assert "Location" not in response


@pytest.mark.rfc("OIDC-Core", "3.1.2.6")
def test_prompt_none_without_consent_is_consent_required(browser, confidential):
    response, _, _ = authorize(browser, confidential[0], prompt="none")
    assert_error_redirect(response, "consent_required")


def test_prompt_none_with_a_trusted_client_answers_a_code(browser, trusted):
    response, _, _ = authorize(browser, trusted[0], prompt="none")
    _, query = redirect_query(response)
    assert query["code"] and query["iss"] == settings.ISSUER


def test_prompt_none_after_an_earlier_consent_answers_a_code(browser, confidential):
    code, verifier = code_for(browser, confidential[0])
    assert exchange(confidential, code, verifier).status_code == 200  # the consent is remembered (oauth.consents)
    response, _, _ = authorize(browser, confidential[0], prompt="none")
    assert redirect_query(response)[1]["code"]


def test_prompt_none_with_a_stale_session_for_max_age_is_login_required(browser, trusted):
    set_session_auth_time(browser, int(time.time()) - 3600)
    response, _, _ = authorize(browser, trusted[0], prompt="none", max_age="60")
    assert_error_redirect(response, "login_required")


def test_prompt_none_combined_with_another_value_is_invalid(browser, trusted):
    response, _, _ = authorize(browser, trusted[0], prompt="none login")
    assert_error_redirect(response, "invalid_request")


# --- prompt=login and max_age ---------------------------------------------------------------


def test_prompt_login_forces_a_new_login_and_a_new_auth_time(browser, trusted, user):
    old = int(time.time()) - 100
    set_session_auth_time(browser, old)
    response, _, verifier = authorize(browser, trusted[0], prompt="login consent", nonce="n")
    next_url = login_redirect_next(response)
    next_query = parse_qs(urlsplit(next_url).query)
    assert next_query["prompt"] == ["consent"]  # login is satisfied by the login itself

    # Following `next` without logging in gains nothing: the login page again.
    login_redirect_next(browser.get(next_url))

    log_in(browser, user)
    page = browser.get(next_url)
    assert page.status_code == 200  # prompt=consent: the consent page, even for a trusted client
    approved = browser.post(next_url, {**{k: v[0] for k, v in next_query.items()}, "allow": "Authorize"})
    code = redirect_query(approved)[1]["code"]
    claims = id_token_claims(exchange(trusted, code, verifier).json()["id_token"])
    assert claims["auth_time"] > old
    assert claims["auth_time"] == session_auth_time(browser)


def test_a_consent_form_posted_while_a_login_is_pending_is_not_an_answer(browser, confidential):
    set_session_auth_time(browser, int(time.time()) - 100)
    page, params, _ = authorize(browser, confidential[0])
    assert page.status_code == 200
    login_redirect_next(authorize(browser, confidential[0], prompt="login")[0])  # asks for a new login
    response = browser.post("/oauth/authorize/", {**params, "allow": "Authorize"})
    login_redirect_next(response)


def test_prompt_login_without_a_session_goes_to_the_login_page(trusted):
    response, _, _ = authorize(BrowserClient(), trusted[0], prompt="login")
    assert "prompt" not in parse_qs(urlsplit(login_redirect_next(response)).query)


@pytest.mark.parametrize("max_age", ["0", "60"])
def test_max_age_older_than_the_session_forces_a_login(browser, trusted, user, max_age):
    set_session_auth_time(browser, int(time.time()) - 3600)
    response, _, verifier = authorize(browser, trusted[0], max_age=max_age)
    next_url = login_redirect_next(response)
    assert "max_age" not in parse_qs(urlsplit(next_url).query)
    login_redirect_next(browser.get(next_url))  # no bypass without logging in
    log_in(browser, user)
    code = redirect_query(browser.get(next_url))[1]["code"]
    claims = id_token_claims(exchange(trusted, code, verifier).json()["id_token"])
    assert time.time() - claims["auth_time"] < 5


def test_max_age_within_the_session_age_needs_no_login(browser, trusted):
    login_time = session_auth_time(browser)
    response, _, verifier = authorize(browser, trusted[0], max_age="3600")
    code = redirect_query(response)[1]["code"]
    assert id_token_claims(exchange(trusted, code, verifier).json()["id_token"])["auth_time"] == login_time


@pytest.mark.parametrize("max_age", ["-1", "abc", "1.5", "９", "99999999999"])
def test_a_malformed_max_age_is_invalid_request(browser, trusted, max_age):
    response, _, _ = authorize(browser, trusted[0], max_age=max_age)
    assert_error_redirect(response, "invalid_request")


def test_a_session_without_a_login_time_must_log_in(browser, trusted):
    """No SSO session bound to the browser, so no login time: the login page."""
    session = browser.session
    del session[SID_SESSION_KEY]
    session.save()
    login_redirect_next(authorize(browser, trusted[0])[0])


# --- prompt=consent -------------------------------------------------------------------------


def test_prompt_consent_asks_a_trusted_client(browser, trusted):
    response, _, _ = authorize(browser, trusted[0], prompt="consent")
    assert response.status_code == 200
    assert b'id="authorizationForm"' in response.content


def test_prompt_consent_asks_again_after_an_earlier_consent(browser, confidential):
    code, verifier = code_for(browser, confidential[0])
    exchange(confidential, code, verifier)
    assert authorize(browser, confidential[0])[0].status_code == 302  # remembered
    assert authorize(browser, confidential[0], prompt="consent")[0].status_code == 200


def test_prompt_none_with_consent_is_invalid(browser, trusted):
    assert_error_redirect(authorize(browser, trusted[0], prompt="none consent")[0], "invalid_request")


# --- login_hint -----------------------------------------------------------------------------


def login_page_for(client):
    anonymous = BrowserClient()
    next_url = login_redirect_next(authorize(anonymous, client[0], login_hint=client[1])[0])
    return anonymous.get(LOGIN_URL, {"next": next_url})


@pytest.fixture
def with_hint(trusted):
    def make(hint):
        return login_page_for((trusted[0], hint))

    return make


def username_input(page):
    match = re.search(rb'<input[^>]*name="username"[^>]*>', page.content)
    assert match, page.content
    return match.group(0)


def test_login_hint_prefills_the_username(with_hint):
    page = with_hint("ada")
    assert page.status_code == 200
    assert b'value="ada"' in username_input(page)


def test_login_hint_is_escaped(with_hint):
    page = with_hint('"><script>alert(1)</script>')
    assert b"<script>alert(1)" not in page.content
    assert b'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in username_input(page)


def test_an_over_long_login_hint_is_ignored(with_hint):
    assert b"value=" not in username_input(with_hint("a" * 151))


# --- iss on every authorization response ----------------------------------------------------


@pytest.mark.rfc("9207", "2")
def test_iss_on_success_and_error_responses(browser, trusted):
    ok = redirect_query(authorize(browser, trusted[0])[0])[1]
    denied = redirect_query(authorize(browser, trusted[0], scope="openid nonsense")[0])[1]
    assert ok["iss"] == denied["iss"] == settings.ISSUER
    assert denied["error"] == "invalid_scope"
