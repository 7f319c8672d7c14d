"""Attacks on the authorization endpoint: redirect_uri tampering, error redirects (state, iss),
consent forgery, framing and the 307 trap."""

import re
from urllib.parse import quote, urljoin

import pytest
import requests

from tests.faults.flows import REDIRECT_URI, TIMEOUT

from .protocol import STATE, authorize_params, exchange, fresh_user, hidden_inputs, logged_in, pkce_pair, query_of

# The registered URI is http://127.0.0.1:8765/callback; each of these differs from it.
REDIRECT_VARIANTS = {
    "trailing slash": "http://127.0.0.1:8765/callback/",
    "extra path": "http://127.0.0.1:8765/callback/evil",
    "dot segments": "http://127.0.0.1:8765/evil/../callback",
    "encoded dot segments": "http://127.0.0.1:8765/callback/%2e%2e/evil",
    "path case": "http://127.0.0.1:8765/Callback",
    "scheme case": "HTTP://127.0.0.1:8765/callback",
    "other port": "http://127.0.0.1:8766/callback",
    "port dropped": "http://127.0.0.1/callback",
    "localhost for 127.0.0.1": "http://localhost:8765/callback",
    "added query": "http://127.0.0.1:8765/callback?next=https://evil.example",
    "added fragment": "http://127.0.0.1:8765/callback#evil",
    "userinfo before host": "http://127.0.0.1:8765@evil.example/callback",
    "userinfo added": "http://evil.example@127.0.0.1:8765/callback",
    "suffix domain": "http://127.0.0.1.evil.example:8765/callback",
    "scheme change": "https://127.0.0.1:8765/callback",
    "javascript": "javascript:alert(document.domain)//127.0.0.1:8765/callback",
    "data": "data:text/html,<script>alert(1)</script>",
    "encoded callback": "http://127.0.0.1:8765/%63allback",
    "backslash": "http://127.0.0.1:8765\\@evil.example/callback",
    "empty": "",
}


@pytest.mark.attack("SECURITY.md", "Authorization endpoint: exact match of redirect_uri, every variation → 400 page")
@pytest.mark.parametrize("variant", list(REDIRECT_VARIANTS))
def test_a_redirect_uri_that_is_not_exactly_registered_gets_the_error_page(security, variant):
    """Also RFC 9700 2.1 and 4.1.3, RFC 6749 3.1.2.2 and 10.6, RFC 6819 4.2.4 / 5.2.3.5."""
    browser = logged_in(security)
    params, _ = authorize_params(security.client("web").client_id, redirect_uri=REDIRECT_VARIANTS[variant])
    response = browser.get("/oauth/authorize/", params=params)
    assert response.status_code == 400, (response.status_code, response.headers.get("Location"))
    assert "Location" not in response.headers
    assert "code=" not in response.text


@pytest.mark.attack("SECURITY.md", "Authorization endpoint: unknown client → error page, never a redirect")
@pytest.mark.parametrize("client_id", ["no-such-client", "", None])
def test_an_unknown_or_missing_client_gets_the_error_page(security, client_id):
    browser = logged_in(security)
    params, _ = authorize_params(client_id)
    response = browser.get("/oauth/authorize/", params=params)
    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.attack("RFC 9700", "4.11.2 authorization server as open redirector")
@pytest.mark.parametrize("session", [True, False], ids=["session", "anonymous"])
def test_an_error_with_an_unregistered_redirect_uri_is_never_redirected(security, session):
    """An invalid request (bad scope) with the attacker's redirect_uri: the page, not a redirect
    to the attacker, and no detour through the login page that would redirect afterwards.
    Also RFC 6749 10.15 (open redirectors), RFC 6819 4.2.4."""
    browser = logged_in(security) if session else security.anonymous()
    params, _ = authorize_params(
        security.client("web").client_id, redirect_uri="https://evil.example/cb", scope="openid no-such-scope"
    )
    response = browser.get("/oauth/authorize/", params=params)
    assert response.status_code == 400
    assert "Location" not in response.headers


ERROR_REDIRECTS = {
    "response_type=token": ({"response_type": "token"}, "unsupported_response_type"),
    "unknown scope": ({"scope": "openid no-such-scope"}, "invalid_scope"),
    "no code_challenge": ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    "bad max_age": ({"max_age": "-5"}, "invalid_request"),
}


@pytest.mark.attack("SECURITY.md", "Authorization endpoint: every other error → redirect with error, exact state, iss")
@pytest.mark.parametrize("case", list(ERROR_REDIRECTS))
def test_other_errors_redirect_with_error_exact_state_and_iss(security, case):
    """Also RFC 6749 4.1.2.1, RFC 9207 2 (iss on error responses too)."""
    changes, error = ERROR_REDIRECTS[case]
    state = "s t+/?=&é%" + STATE
    params, _ = authorize_params(security.client("web").client_id, state=state, **changes)
    response = logged_in(security).get("/oauth/authorize/", params=params)
    assert response.status_code == 302, response.text[:500]
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    query = query_of(response)
    assert query["error"] == error
    assert query["state"] == state
    assert query["iss"] == security.url
    assert "code" not in query


@pytest.mark.attack("RFC 9700", "4.4.2 mix-up: the response carries iss (RFC 9207)")
def test_a_successful_response_names_its_issuer_and_echoes_state(security):
    """Also RFC 6749 10.12 (state binds the response to the user agent's request)."""
    params, _ = authorize_params(security.client("web").client_id)
    response = logged_in(security).get("/oauth/authorize/", params=params)
    query = query_of(response)
    assert set(query) == {"code", "state", "iss"}
    assert query["iss"] == security.url and query["state"] == STATE
    metadata = requests.get(f"{security.url}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert metadata["issuer"] == security.url
    assert metadata["authorization_response_iss_parameter_supported"] is True


def consent_page(security, browser):
    params, _ = authorize_params(security.client("consent").client_id)
    page = browser.get("/oauth/authorize/", params=params)
    assert page.status_code == 200 and "Location" not in page.headers
    return params, page


@pytest.mark.attack("RFC 6749", "10.12 CSRF / no silent grant to an untrusted client")
def test_an_untrusted_client_gets_a_consent_page_and_a_csrf_checked_post_grants(security):
    browser = logged_in(security)
    params, page = consent_page(security, browser)
    assert 'method="post"' in page.text.lower()
    fields = hidden_inputs(page.text)
    assert "csrfmiddlewaretoken" in fields
    answer = browser.http.post(
        page.url,
        data={**fields, "allow": "Authorize"},
        headers={"Referer": page.url},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code in (302, 303)
    assert "code" in query_of(answer)


@pytest.mark.attack("SECURITY.md", "Authorization endpoint: consent is a POST with a CSRF token")
@pytest.mark.parametrize("forgery", ["no csrf token", "wrong csrf token", "cross-site origin"])
def test_a_forged_consent_post_grants_nothing(security, forgery):
    """Also RFC 6819 4.4.1.8 (CSRF against the authorization endpoint), RFC 9700 4.7."""
    browser = logged_in(security)
    _params, page = consent_page(security, browser)
    fields = {**hidden_inputs(page.text), "allow": "Authorize"}
    headers = {"Referer": page.url}
    if forgery == "no csrf token":
        del fields["csrfmiddlewaretoken"]
    elif forgery == "wrong csrf token":
        fields["csrfmiddlewaretoken"] = "x" * 64
    else:
        headers = {"Origin": "https://evil.example", "Referer": "https://evil.example/page"}
    answer = browser.http.post(page.url, data=fields, headers=headers, allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code == 403
    assert "code=" not in answer.headers.get("Location", "")


@pytest.mark.attack("SECURITY.md", "Authorization endpoint: consent is a POST (a GET never grants)")
def test_a_consent_answer_in_a_get_query_grants_nothing(security):
    browser = logged_in(security)
    params, page = consent_page(security, browser)
    fields = hidden_inputs(page.text)
    answer = {name: fields[name] for name in ("consent_answer", "csrfmiddlewaretoken")}
    response = browser.get("/oauth/authorize/", params={**params, **answer, "allow": "Authorize"})
    assert response.status_code == 200, response.headers.get("Location")
    assert "Location" not in response.headers


def _page(security, which):
    browser = logged_in(security) if which in ("consent", "error") else security.anonymous()
    if which == "login":
        return browser.get("/accounts/login/")
    if which == "consent":
        return consent_page(security, browser)[1]
    params, _ = authorize_params("no-such-client")
    return browser.get("/oauth/authorize/", params=params)


@pytest.mark.attack("RFC 9700", "4.16 clickjacking: X-Frame-Options DENY and CSP frame-ancestors 'none'")
@pytest.mark.parametrize("which", ["login", "consent", "error"])
def test_interactive_pages_refuse_framing_and_leak_no_referrer(security, which):
    """Also RFC 6749 10.13, RFC 6819 4.4.1.9; Referrer-Policy per SECURITY.md (never no-referrer
    on a page with a form, and never the full URL cross-origin: RFC 9700 4.2.4)."""
    response = _page(security, which)
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin")


@pytest.mark.attack("SECURITY.md", "Authorization endpoint: no CORS on /authorize")
def test_the_authorization_endpoint_answers_no_cors(security):
    params, _ = authorize_params(security.client("spa").client_id, redirect_uri="http://127.0.0.1:8766/callback")
    response = logged_in(security).get("/oauth/authorize/", params=params, headers={"Origin": "http://127.0.0.1:8766"})
    assert response.status_code == 302
    assert not any(name.lower().startswith("access-control-") for name in response.headers)


@pytest.mark.attack("RFC 9700", "4.12 307 redirect: never 307 after a credential POST")
@pytest.mark.parametrize("post", ["login", "consent", "authorization request"])
def test_no_307_after_a_post(security, post):
    if post == "login":
        browser = security.anonymous()
        params, _ = authorize_params(security.client("web").client_id)
        login = browser.get("/oauth/authorize/", params=params)
        assert login.status_code == 302
        response = browser.start_login(fresh_user(security))
    elif post == "consent":
        browser = logged_in(security)
        _params, page = consent_page(security, browser)
        response = browser.http.post(
            page.url,
            data={**hidden_inputs(page.text), "allow": "Authorize"},
            headers={"Referer": page.url},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
    else:
        params, _ = authorize_params(security.client("web").client_id)
        url = f"{security.url}/oauth/authorize/"
        response = requests.post(url, data=params, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code in (302, 303), response.status_code
    assert response.status_code != 307


@pytest.mark.attack("RFC 6749", "3.1 duplicated parameters at the authorization endpoint")
@pytest.mark.parametrize("name", ["redirect_uri", "client_id", "state", "scope", "code_challenge"])
def test_a_duplicated_authorization_parameter_gets_the_error_page(security, name):
    """Which of two values counts is ambiguous: neither is trusted (no redirect at all)."""
    params, _ = authorize_params(security.client("web").client_id)
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items()) + f"&{name}={quote(params[name], safe='')}x"
    response = logged_in(security).get(f"/oauth/authorize/?{query}")
    assert response.status_code == 400
    assert "Location" not in response.headers


def tampered_consent(security, browser, **changes):
    _params, page = consent_page(security, browser)
    fields = {**hidden_inputs(page.text), "allow": "Authorize", **changes}
    return browser.http.post(
        page.url, data=fields, headers={"Referer": page.url}, allow_redirects=False, timeout=TIMEOUT
    )


@pytest.mark.attack("RFC 6749", "10.6 / 4.1.3 a consent answer with a tampered redirect_uri or client is refused")
@pytest.mark.parametrize("field", ["redirect_uri", "client_id"])
def test_a_tampered_consent_answer_redirects_nowhere_else(security, field):
    """The consent form's hidden fields come back from the browser: the server re-validates them
    (also RFC 6819 5.2.3.5, RFC 9700 4.1)."""
    change = {"redirect_uri": "https://evil.example/cb"} if field == "redirect_uri" else {"client_id": "no-such-client"}
    answer = tampered_consent(security, logged_in(security), **change)
    assert answer.status_code == 400
    assert "Location" not in answer.headers


@pytest.mark.attack("RFC 9700", "4.8 PKCE downgrade through a tampered consent answer")
@pytest.mark.parametrize("tamper", ["challenge removed", "plain method"])
def test_a_consent_answer_with_tampered_pkce_gives_no_usable_code(security, tamper):
    """The challenge travels in the consent form: one removed, or turned into `plain` (the
    verifier itself as challenge), must not give a code that redeems (RFC 7636 4.2, S256 only).
    (The answer is validated again as a request: `plain` is an error redirect; a removed
    challenge falls back to the one in the page's URL, which the attacker's verifier misses.)"""
    verifier = pkce_pair()[0]
    if tamper == "challenge removed":
        changes = {"code_challenge": "", "code_challenge_method": ""}
    else:
        changes = {"code_challenge": verifier, "code_challenge_method": "plain"}
    answer = tampered_consent(security, logged_in(security), **changes)
    code = query_of(answer).get("code") if "Location" in answer.headers else None
    if code is None:
        assert answer.status_code in (302, 400)
        return
    client = security.client("consent")
    for sent in (None, verifier):
        refused = exchange(security.url, client, code, sent)
        assert refused.status_code == 400, refused.text
        assert "access_token" not in refused.json()


@pytest.mark.attack("RFC 9700", "2.3 privilege restriction: a client gets no scope beyond its allowed set")
@pytest.mark.parametrize("asked", ["openid email", "openid profile write", "openid permissions"])
def test_an_authorization_request_beyond_the_clients_scopes_is_refused(security, asked):
    """Also RFC 6749 3.3 (the server may refuse a scope), RFC 6819 5.1.5.1."""
    params, _ = authorize_params(security.client("limited-scopes").client_id, scope=asked)
    response = logged_in(security).get("/oauth/authorize/", params=params)
    assert response.status_code == 302
    query = query_of(response)
    assert query["error"] == "invalid_scope" and "code" not in query


@pytest.mark.attack("RFC 6749", "4.1.2.1 a denial is access_denied to the registered URI, with state and iss")
def test_a_denied_consent_redirects_access_denied_and_grants_nothing(security):
    browser = logged_in(security)
    _params, page = consent_page(security, browser)
    fields = hidden_inputs(page.text)  # no "allow": the Deny button
    answer = browser.http.post(
        page.url, data=fields, headers={"Referer": page.url}, allow_redirects=False, timeout=TIMEOUT
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(REDIRECT_URI + "?")
    query = query_of(answer)
    assert query["error"] == "access_denied" and "code" not in query
    assert query["state"] == STATE and query["iss"] == security.url


@pytest.mark.attack("SECURITY.md", "Authorization endpoint: no third-party resources on login, consent, error pages")
@pytest.mark.parametrize("which", ["login", "consent", "error"])
def test_interactive_pages_load_nothing_from_elsewhere(security, which):
    """Also RFC 9700 4.2.4 (a third-party resource on a page with a code or a form leaks it
    through the Referer), RFC 6819 4.4.1.9."""
    response = _page(security, which)
    for url in re.findall(r'(?:src|href|action)\s*=\s*["\']([^"\']+)', response.text):
        absolute = urljoin(security.url + "/", url)
        assert absolute.startswith(security.url + "/") or url.startswith(("#", "mailto:")), url
