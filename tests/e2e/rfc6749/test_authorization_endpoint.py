"""RFC 6749 section 3.1 and 4.1.1-4.1.2: the authorization endpoint, seen by a browser."""

import re
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client as BrowserClient

from conftest import REDIRECT_URI, Flow, new_verifier
from oauth.models import Grant
from tests.e2e.helpers import AUTHORIZE_URL, redirect_query

pytestmark = pytest.mark.django_db

REDIRECT_URI_VARIANTS = [
    pytest.param("https://app.example.com/callback/", id="trailing-slash"),
    pytest.param("https://app.example.com/callback/extra", id="extra-path"),
    pytest.param("https://app.example.com/callbackx", id="suffix"),
    pytest.param("https://app.example.com/x/../callback", id="dot-segments"),
    pytest.param("https://app.example.com/./callback", id="single-dot-segment"),
    pytest.param("https://app.example.com/x/%2e%2e/callback", id="encoded-dot-segments"),
    pytest.param("https://app.example.com/x/%2E%2E/callback", id="encoded-dot-segments-upper"),
    pytest.param("https://app.example.com/%63allback", id="percent-encoded-char"),
    pytest.param("https://APP.example.com/callback", id="host-case"),
    pytest.param("https://app.example.com/Callback", id="path-case"),
    pytest.param("HTTPS://app.example.com/callback", id="scheme-case"),
    pytest.param("https://app.example.com:443/callback", id="explicit-port"),
    pytest.param("https://app.example.com:8443/callback", id="other-port"),
    pytest.param("https://app.example.com/callback?x=1", id="added-query"),
    pytest.param("https://app.example.com/callback?", id="empty-query"),
    pytest.param("https://app.example.com/callback#frag", id="fragment"),
    pytest.param("https://app.example.com/callback#", id="empty-fragment"),
    pytest.param("https://app.example.com@evil.example/callback", id="userinfo-host-swap"),
    pytest.param("https://evil@app.example.com/callback", id="userinfo"),
    pytest.param("https://evil.app.example.com/callback", id="subdomain"),
    pytest.param("https://app.example.com.evil.example/callback", id="suffix-domain"),
    pytest.param("http://app.example.com/callback", id="scheme-downgrade"),
    pytest.param("//app.example.com/callback", id="scheme-relative"),
    pytest.param("/callback", id="relative"),
    pytest.param(" https://app.example.com/callback", id="leading-space"),
    pytest.param("https://app.example.com/callback ", id="trailing-space"),
    pytest.param("javascript:alert(document.domain)//https://app.example.com/callback", id="javascript"),
    pytest.param("data:text/html,<script>alert(1)</script>", id="data"),
]


def authorize_params(oauth_client, **overrides):
    """A valid authorization request for `oauth_client` (a Client or a client_id string)."""
    _, challenge = new_verifier()
    params = {
        "response_type": "code",
        "client_id": getattr(oauth_client, "client_id", oauth_client),
        "redirect_uri": REDIRECT_URI,
        "scope": "profile",
        "state": "s-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def assert_error_page(response, status=400):
    """An error shown to the user, never a redirect (RFC 6749 3.1.2.4, 4.1.2.1)."""
    assert response.status_code == status, (response.status_code, response.get("Location"))
    assert not response.has_header("Location")
    assert response["Content-Type"].startswith("text/html")
    assert Grant.objects.count() == 0


def assert_error_redirect(response, error, state="s-123"):
    """An error sent back to the registered redirect URI with `state` and `iss` (RFC 9207)."""
    parts, query = redirect_query(response)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI
    assert query["error"] == error, query
    assert query.get("state") == state
    assert query["iss"] == settings.ISSUER
    assert "code" not in query
    return query


@pytest.mark.rfc("6749", "3.1.2.2")
@pytest.mark.parametrize("redirect_uri", REDIRECT_URI_VARIANTS)
def test_redirect_uri_is_matched_exactly(browser, confidential, redirect_uri):
    response = browser.get(AUTHORIZE_URL, authorize_params(confidential[0], redirect_uri=redirect_uri))
    assert_error_page(response)
    assert b"code=" not in response.content


@pytest.mark.rfc("6749", "3.1.2.2")
@pytest.mark.parametrize("redirect_uri", REDIRECT_URI_VARIANTS)
def test_redirect_uri_variant_refused_at_consent_post_too(browser, confidential, redirect_uri):
    """A forged consent form (redirect_uri changed in the hidden field) must not redirect."""
    params = authorize_params(confidential[0], redirect_uri=redirect_uri)
    response = browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    if response.has_header("Location"):
        # Django's form strips surrounding whitespace: the result may only be the registered URI.
        assert redirect_query(response)[0].geturl().split("?")[0] == REDIRECT_URI, response["Location"]
        assert redirect_uri.strip() == REDIRECT_URI
    else:
        assert response.status_code == 400, response.status_code
        assert Grant.objects.count() == 0


@pytest.mark.rfc("6749", "3.1.2.2")
def test_registered_redirect_uri_is_accepted(browser, confidential):
    response = browser.get(AUTHORIZE_URL, authorize_params(confidential[0]))
    assert response.status_code == 200
    assert b"authorizationForm" in response.content


@pytest.mark.rfc("6749", "3.1.2.3")
def test_one_of_several_registered_uris_must_match_exactly(browser, make_client):
    oauth_client, _ = make_client(redirect_uris=[REDIRECT_URI, "https://app.example.com/other"])
    ok = browser.get(AUTHORIZE_URL, authorize_params(oauth_client, redirect_uri="https://app.example.com/other"))
    assert ok.status_code == 200
    bad = browser.get(AUTHORIZE_URL, authorize_params(oauth_client, redirect_uri="https://app.example.com/other/"))
    assert_error_page(bad)


@pytest.mark.rfc("6749", "4.1.2.1")
@pytest.mark.parametrize("client_id", ["unknown-client", "", "x" * 5000, "' OR 1=1 --"])
def test_unknown_client_gets_an_error_page_not_a_redirect(browser, client_id):
    params = authorize_params(client_id)
    response = browser.get(AUTHORIZE_URL, params)
    assert_error_page(response)


@pytest.mark.rfc("6749", "4.1.2.1")
def test_missing_client_id_gets_an_error_page(browser, confidential):
    params = authorize_params(confidential[0])
    del params["client_id"]
    assert_error_page(browser.get(AUTHORIZE_URL, params))


@pytest.mark.rfc("6749", "4.1.2.1")
def test_unknown_client_with_attacker_redirect_is_not_followed(browser):
    params = authorize_params("nope", redirect_uri="https://evil.example/cb")
    response = browser.get(AUTHORIZE_URL, params)
    assert_error_page(response)
    assert b'href="https://evil.example' not in response.content


@pytest.mark.rfc("6749", "4.1.2.1")
@pytest.mark.parametrize(
    "overrides, error",
    [
        pytest.param({"scope": "admin"}, "invalid_scope", id="unknown-scope"),
        pytest.param({"scope": "profile admin"}, "invalid_scope", id="one-unknown-scope"),
        pytest.param({"response_type": None}, "invalid_request", id="missing-response-type"),
        pytest.param({"code_challenge": None, "code_challenge_method": None}, "invalid_request", id="no-pkce"),
        pytest.param({"code_challenge_method": "plain"}, "invalid_request", id="plain-pkce"),
    ],
)
def test_other_errors_redirect_with_error_state_and_iss(browser, confidential, overrides, error):
    response = browser.get(AUTHORIZE_URL, authorize_params(confidential[0], **overrides))
    assert_error_redirect(response, error)
    assert Grant.objects.count() == 0


@pytest.mark.rfc("6749", "4.1.2.1")
def test_scope_outside_the_clients_allowed_set_is_invalid_scope(browser, make_client):
    oauth_client, _ = make_client(scopes="profile")
    response = browser.get(AUTHORIZE_URL, authorize_params(oauth_client, scope="profile email"))
    assert_error_redirect(response, "invalid_scope")


@pytest.mark.rfc("6749", "4.1.2.1")
@pytest.mark.parametrize("state", ["a b&c=d/é?#x", "%41%42", "x" * 500, "'\"<>"])
def test_state_is_echoed_exactly_on_errors(browser, confidential, state):
    response = browser.get(AUTHORIZE_URL, authorize_params(confidential[0], scope="admin", state=state))
    assert_error_redirect(response, "invalid_scope", state=state)


@pytest.mark.rfc("6749", "4.1.2")
@pytest.mark.parametrize("state", ["a b&c=d/é?#x", "%41%42"])
def test_state_is_echoed_exactly_on_success(user, confidential, state):
    flow = Flow(user, *confidential)
    params = flow.authorize_params(state=state, challenge=new_verifier()[1])
    response = flow.browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    _, query = redirect_query(response)
    assert query["state"] == state
    assert query["iss"] == settings.ISSUER
    assert query["code"]


@pytest.mark.rfc("6749", "4.1.2.1")
@pytest.mark.parametrize("response_type", ["token", "none", "code token", "id_token", "code id_token", "foo"])
def test_unsupported_response_type_redirects_with_error(browser, confidential, response_type):
    response = browser.get(AUTHORIZE_URL, authorize_params(confidential[0], response_type=response_type))
    assert_error_redirect(response, "unsupported_response_type")
    assert "#" not in response["Location"]  # never an implicit-style fragment response


@pytest.mark.rfc("6749", "4.1.2.1")
def test_client_without_authorization_code_grant_is_refused(browser, make_client):
    oauth_client, _ = make_client(grant_types=["client_credentials"], redirect_uris=[REDIRECT_URI])
    response = browser.get(AUTHORIZE_URL, authorize_params(oauth_client))
    assert_error_redirect(response, "unauthorized_client")


@pytest.mark.rfc("6749", "3.1")
@pytest.mark.parametrize("name", ["client_id", "redirect_uri", "state", "scope", "response_type", "code_challenge"])
def test_duplicated_parameters_get_an_error_page(browser, confidential, name):
    params = authorize_params(confidential[0])
    query = urlencode(params) + "&" + urlencode({name: params[name]})
    response = browser.get(f"{AUTHORIZE_URL}?{query}")
    assert_error_page(response)


@pytest.mark.rfc("6749", "3.1")
def test_nul_byte_gets_an_error_page(browser, confidential):
    response = browser.get(AUTHORIZE_URL, authorize_params(confidential[0], state="a\x00b"))
    assert_error_page(response)


@pytest.mark.rfc("6749", "3.1")
def test_unauthenticated_user_is_sent_to_login(confidential, db):
    params = authorize_params(confidential[0])
    response = BrowserClient().get(AUTHORIZE_URL, params)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "/oauth/authorize/" in response["Location"]
    assert Grant.objects.count() == 0


@pytest.mark.rfc("6749", "3.1")
def test_unauthenticated_consent_post_grants_nothing(confidential, db):
    params = authorize_params(confidential[0])
    response = BrowserClient().post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Grant.objects.count() == 0


def _csrf_token(html):
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "consent form has no CSRF token"
    return match.group(1).decode()


@pytest.mark.rfc("6749", "10.12")
def test_consent_is_a_post_with_a_csrf_token(user, confidential):
    from conftest import PASSWORD

    browser = BrowserClient(enforce_csrf_checks=True)
    login_page = browser.get("/accounts/login/")
    login = browser.post(
        "/accounts/login/",
        {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": _csrf_token(login_page.content)},
    )
    assert login.status_code == 302
    params = authorize_params(confidential[0])
    page = browser.get(AUTHORIZE_URL, params)
    assert page.status_code == 200
    assert b'method="post"' in page.content
    assert Grant.objects.count() == 0  # showing the page grants nothing

    forged = browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    assert forged.status_code == 403
    assert Grant.objects.count() == 0

    response = browser.post(
        AUTHORIZE_URL, {**params, "allow": "Authorize", "csrfmiddlewaretoken": _csrf_token(page.content)}
    )
    _, query = redirect_query(response)
    assert query["code"] and query["state"] == "s-123" and query["iss"] == settings.ISSUER


@pytest.mark.rfc("6749", "10.12")
def test_get_with_allow_does_not_grant_silently(browser, confidential):
    response = browser.get(AUTHORIZE_URL, {**authorize_params(confidential[0]), "allow": "Authorize"})
    assert response.status_code == 200
    assert Grant.objects.count() == 0


@pytest.mark.rfc("6749", "10.12")
def test_trusted_client_skips_consent(browser, trusted):
    response = browser.get(AUTHORIZE_URL, authorize_params(trusted[0]))
    _, query = redirect_query(response)
    assert query["code"] and query["state"] == "s-123" and query["iss"] == settings.ISSUER


@pytest.mark.rfc("6749", "10.12")
def test_untrusted_client_shows_consent(browser, confidential):
    response = browser.get(AUTHORIZE_URL, authorize_params(confidential[0]))
    assert response.status_code == 200
    assert not response.has_header("Location")


@pytest.mark.rfc("6749", "4.1.2.1")
def test_deny_redirects_with_access_denied(browser, confidential):
    params = authorize_params(confidential[0])
    response = browser.post(AUTHORIZE_URL, {**params, "consent_answer": "1"})  # no "allow": the Deny button
    assert_error_redirect(response, "access_denied")
    assert Grant.objects.count() == 0


@pytest.mark.rfc("9700", "4.12")
def test_consent_post_answers_302_not_307(browser, confidential):
    params = authorize_params(confidential[0])
    response = browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    assert response.status_code == 302


@pytest.mark.rfc("9700", "4.16")
@pytest.mark.parametrize("page", ["login", "consent", "error"])
def test_pages_cannot_be_framed(browser, confidential, page):
    if page == "login":
        response = BrowserClient().get("/accounts/login/")
    elif page == "consent":
        response = browser.get(AUTHORIZE_URL, authorize_params(confidential[0]))
    else:
        response = browser.get(AUTHORIZE_URL, authorize_params(confidential[0], redirect_uri="https://evil.example/"))
    assert response.status_code in (200, 400)
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert not response.has_header("Access-Control-Allow-Origin")


@pytest.mark.rfc("6749", "3.1.2.4")
def test_error_page_does_not_reflect_markup(browser, confidential):
    response = browser.get(
        AUTHORIZE_URL, authorize_params(confidential[0], redirect_uri="https://evil.example/<script>x</script>")
    )
    assert_error_page(response)
    assert b"<script>x" not in response.content


@pytest.mark.rfc("9700", "4.8")
@pytest.mark.parametrize(
    "pkce",
    [
        {"code_challenge": "", "code_challenge_method": ""},
        {"code_challenge": "v" * 43, "code_challenge_method": "plain"},
        {"code_challenge": "short", "code_challenge_method": "S256"},
    ],
    ids=["removed", "plain", "malformed"],
)
def test_a_consent_answer_without_an_s256_challenge_issues_no_code(browser, confidential, pkce):
    """The consent form carries the challenge back from the browser: the answer is validated
    again as a request (S256 only, required for this client), never trusted as it comes."""
    response = browser.post(AUTHORIZE_URL, {**authorize_params(confidential[0], **pkce), "allow": "Authorize"})
    assert_error_redirect(response, "invalid_request")
    assert Grant.objects.count() == 0
