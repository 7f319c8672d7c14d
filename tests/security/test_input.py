"""Malformed input and errors, attacked from outside: body and field-count limits, caps on
state, nonce, scope, password and header size; NUL, control characters, invalid UTF-8, foreign
charsets, homoglyphs and bad base64 answered 4xx, never 5xx, never reflected unescaped; only
registered error codes, clean error descriptions, no stack traces."""

import base64
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conftest import PASSWORD
from tests.faults.flows import TIMEOUT

from .surfaces import browser_from, fresh_address, logged_in, no_trace, session_from

SECTION = "Malformed input and errors"
# RFC 6749 5.2 and 4.1.2.1, RFC 7009, RFC 7591, OIDC Core 3.1.2.6, RFC 6750 3.1.
REGISTERED_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "access_denied",
    "unsupported_response_type",
    "server_error",
    "temporarily_unavailable",
    "unsupported_token_type",
    "invalid_token",
    "insufficient_scope",
    "login_required",
    "consent_required",
    "interaction_required",
    "invalid_request_uri",
    "invalid_request_object",
    "request_not_supported",
    "account_selection_required",
    "invalid_client_metadata",
    "invalid_redirect_uri",
}
FORM_ENDPOINTS = ["/accounts/login/", "/accounts/register/", "/accounts/password/reset/", "/oauth/token/"]
TOKEN_LIKE = ["/oauth/token/", "/oauth/introspect/", "/oauth/revoke/"]


def _4xx(response):
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    assert no_trace(response.text), response.text[:2000]


def _clean_oauth_error(response):
    body = response.json()
    assert body["error"] in REGISTERED_ERRORS, body
    description = body.get("error_description", "")
    assert not any(c in description for c in '"\\\r\n'), description
    return body


def _form_post(security, path, body, content_type="application/x-www-form-urlencoded", **headers):
    """A raw POST (with a CSRF token, so that the form's own handling is what answers)."""
    browser = browser_from(security.url)
    token = browser.csrf_token()
    if isinstance(body, dict):
        body = {**body, "csrfmiddlewaretoken": token}
    elif content_type.startswith("application/x-www-form-urlencoded"):
        body = body + b"&csrfmiddlewaretoken=" + token.encode()
    headers = {"Content-Type": content_type, "Referer": security.url + path, "X-CSRFToken": token, **headers}
    if isinstance(body, dict):
        headers.pop("Content-Type")
    return browser.http.post(security.url + path, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)


@pytest.mark.attack("SECURITY.md", SECTION + ": body limit (DATA_UPLOAD_MAX_MEMORY_SIZE) → 400/413, never 5xx")
@pytest.mark.parametrize("path", [*FORM_ENDPOINTS, "/api/users/", "/oauth/register/"])
def test_a_body_over_the_limit_is_refused(security, path):
    big = b"username=" + b"a" * (66 * 1024) + b"&password=x"
    response = _form_post(security, path, big)
    _4xx(response)
    assert response.status_code in (400, 401, 403, 413, 415)  # 415: a JSON-only API


@pytest.mark.attack("SECURITY.md", SECTION + ": field-count limit (DATA_UPLOAD_MAX_NUMBER_FIELDS) → 400")
@pytest.mark.parametrize("path", FORM_ENDPOINTS)
def test_too_many_fields_are_refused(security, path):
    body = "&".join(f"f{n}=v" for n in range(300)).encode()
    response = _form_post(security, path, body)
    _4xx(response)


@pytest.mark.attack("SECURITY.md", SECTION + ": a form body declaring a non-UTF-8 charset → 400 (issue 15)")
@pytest.mark.parametrize("path", FORM_ENDPOINTS)
@pytest.mark.parametrize("charset", ["utf-16", "latin-1-nonsense", "shift_jis"])
def test_a_foreign_charset_is_refused_cleanly(security, path, charset):
    body = "username=victim&password=p\u00e9".encode("utf-16") if charset == "utf-16" else b"username=\x82\xa0"
    response = _form_post(security, path, body, content_type=f"application/x-www-form-urlencoded; charset={charset}")
    assert response.status_code < 500, response.text[:500]
    assert no_trace(response.text)


@pytest.mark.attack("SECURITY.md", SECTION + ": invalid UTF-8 in a form body → 4xx, never 5xx")
@pytest.mark.parametrize("path", FORM_ENDPOINTS)
def test_invalid_utf8_is_refused_cleanly(security, path):
    body = b"username=%ff%fe%00&password=%c3%28&email=%e2%82&grant_type=%ff"
    response = _form_post(security, path, body)
    assert response.status_code < 500, response.text[:500]
    assert response.status_code != 302 or "/login/code/" not in response.headers.get("Location", "")
    assert no_trace(response.text)


@pytest.mark.attack("SECURITY.md", SECTION + ": NUL and control characters → 4xx, never 5xx, never a login")
@pytest.mark.parametrize("value", ["victim0\x00", "\x00", "victim0\r\nSet-Cookie: x=1", "\x1b[31mred", "\u202evictim0"])
def test_control_characters_in_the_login_form(security, value):
    response = _form_post(security, "/accounts/login/", {"username": value, "password": PASSWORD})
    assert response.status_code in (200, 400), response.status_code
    assert "x=1" not in response.headers.get("Set-Cookie", "")
    assert no_trace(response.text)


@pytest.mark.attack("SECURITY.md", SECTION + ": NUL and control characters at the token endpoint → 400 JSON error")
@pytest.mark.parametrize("field", ["grant_type", "code", "redirect_uri", "refresh_token", "scope"])
def test_control_characters_at_the_token_endpoint(security, field):
    web = security.client("web")
    data = {"grant_type": "authorization_code", "code": "abc", "redirect_uri": security.data["redirect_uri"]}
    data[field] = "x\x00\r\n\x1b"
    response = web.post("/oauth/token/", data)
    assert response.status_code == 400, response.text[:500]
    _clean_oauth_error(response)


CYRILLIC = {"a": "\u0430", "c": "\u0441", "e": "\u0435", "i": "\u0456", "o": "\u043e", "p": "\u0440", "x": "\u0445"}


def cyrillic_lookalike(username):
    """`username` with its first letter that has a Cyrillic twin replaced by that twin."""
    at = next(i for i, char in enumerate(username) if char in CYRILLIC)
    return username[:at] + CYRILLIC[username[at]] + username[at + 1 :]


LOOKALIKES = {
    "cyrillic": cyrillic_lookalike,
    "upper-and-zero-width": lambda username: username.upper() + "\u200b",
    "fullwidth": lambda username: chr(ord(username[0]) + 0xFEE0) + username[1:],
}


@pytest.mark.attack("SECURITY.md", SECTION + ": homoglyphs: a look-alike username is not the account")
@pytest.mark.parametrize("lookalike", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_a_homoglyph_username_does_not_log_into_the_account(security, lookalike):
    username = security.new_user()
    assert lookalike(username) != username
    browser = browser_from(security.url)
    response = browser.start_login(lookalike(username))
    assert response.status_code in (200, 400)
    assert not logged_in(browser)
    assert logged_in(browser_from(security.url).login(username))  # the control: the real name works


@pytest.mark.attack("SECURITY.md", SECTION + ": homoglyphs: no sign-up under a look-alike of a taken username")
@pytest.mark.parametrize("lookalike", ["v\u0456ctim1", "victim1\u200b", "\uff56ictim1"])
def test_a_homoglyph_username_cannot_be_registered(security, lookalike):
    session = session_from(fresh_address())
    response = session.post(
        f"{security.url}/api/users/",
        json={"username": lookalike, "email": "homoglyph@example.com", "password": "a long passphrase for this"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400, response.text
    assert "username" in response.json()


@pytest.mark.attack("SECURITY.md", SECTION + ": bad base64 / non-UTF-8 / no colon in Basic → 400/401, never 5xx")
@pytest.mark.parametrize("path", TOKEN_LIKE)
@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!notbase64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Basic =",
        "Basic " + "A" * 9000,
        "Basic caf\u00e9",
    ],
    ids=["not-base64", "no-colon", "not-utf8", "padding", "huge", "non-ascii"],
)
def test_a_malformed_basic_header_is_refused_cleanly(security, path, header):
    try:
        response = requests.post(
            security.url + path,
            data={"grant_type": "client_credentials", "token": "x"},
            headers={"Authorization": header.encode("utf-8")},
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:  # pragma: no cover - the server must answer
        raise AssertionError(f"no answer: {exc}") from exc
    assert response.status_code in (400, 401, 431), response.text[:500]  # 431: gunicorn's header cap
    if response.headers.get("Content-Type", "").startswith("application/json"):
        _clean_oauth_error(response)


@pytest.mark.attack("SECURITY.md", SECTION + ": header size capped (431/400), never 5xx")
@pytest.mark.parametrize("size", [9000, 64 * 1024])
def test_an_oversized_header_is_refused(security, size):
    response = requests.get(f"{security.url}/accounts/login/", headers={"X-Filler": "a" * size}, timeout=TIMEOUT)
    assert response.status_code in (400, 431), response.status_code


@pytest.mark.attack("SECURITY.md", SECTION + ": password length capped (no 10 KB hash work), answered as a wrong one")
def test_a_huge_password_is_refused_fast(security):
    username = security.new_user()
    browser = browser_from(security.url)
    browser.csrf_token()
    start = time.perf_counter()
    # 60,000 characters: under the body limit (64 KB), so that the form's cap is what answers.
    response = browser.start_login(username, "p" * 60_000)
    spent = time.perf_counter() - start
    assert response.status_code in (200, 400, 413)
    assert spent < 3, spent
    assert not logged_in(browser)


def _authorize(security, **overrides):
    web = security.data["clients"]["web"]
    params = {
        "response_type": "code",
        "client_id": web["client_id"],
        "redirect_uri": security.data["redirect_uri"],
        "scope": "openid",
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        **overrides,
    }
    return security.browser().get("/oauth/authorize/", params=params)


@pytest.mark.attack("SECURITY.md", SECTION + ": caps on state, nonce and scope (no code for a 20 KB value)")
@pytest.mark.parametrize("name", ["state", "nonce", "scope", "login_hint", "code_challenge"])
def test_oversized_authorization_parameters_get_no_code(security, name):
    value = "openid " + "a" * 6000 if name == "scope" else "a" * 6000
    response = _authorize(security, **{name: value})
    assert response.status_code < 500
    assert no_trace(response.text)
    location = response.headers.get("Location", "")
    query = parse_qs(urlsplit(location).query)
    assert "code" not in query, f"a {name} of 6000 characters was accepted"
    if response.status_code == 302:
        assert query["error"][0] in REGISTERED_ERRORS


@pytest.mark.attack("SECURITY.md", SECTION + ": hostile text in the login page is escaped, never reflected raw")
@pytest.mark.parametrize("where", ["username", "login_hint", "next"])
def test_markup_is_not_reflected_unescaped(security, where):
    payload = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    browser = browser_from(security.url)
    if where == "username":
        response = browser.start_login(payload, "wrong")
    elif where == "login_hint":
        web = security.data["clients"]["web"]
        next_url = f"/oauth/authorize/?client_id={web['client_id']}&login_hint={payload}"
        response = browser.get("/accounts/login/", params={"next": next_url})
    else:
        response = browser.get("/accounts/login/", params={"next": payload})
    assert response.status_code in (200, 400)
    assert "<script>alert(1)" not in response.text
    assert "<img src=x" not in response.text


@pytest.mark.attack("SECURITY.md", SECTION + ": only registered error codes; error_description clean (token endpoint)")
@pytest.mark.parametrize(
    "data",
    [
        {"grant_type": "authorization_code", "code": 'a"b\\c'},
        {"grant_type": "nonsense\"'\\"},
        {"grant_type": "refresh_token", "refresh_token": "\\x00"},
        {"grant_type": "client_credentials", "scope": '"quoted" \\back'},
        {},
    ],
    ids=["quoted-code", "quoted-grant", "escaped-refresh", "quoted-scope", "empty"],
)
def test_token_errors_are_registered_and_clean(security, data):
    response = security.client("web").post("/oauth/token/", data)
    assert response.status_code in (400, 401)
    _clean_oauth_error(response)
    assert response.headers.get("Cache-Control") == "no-store"


@pytest.mark.attack("SECURITY.md", SECTION + ": JSON nested 1,000 levels deep to POST /api/users/ → 400 (issue 15)")
@pytest.mark.parametrize("path", ["/api/users/", "/api/me/totp/verify", "/oauth/register/"])
def test_deeply_nested_json_is_refused(security, path):
    body = "[" * 1000 + "]" * 1000
    session = session_from(fresh_address())
    response = session.post(
        security.url + path, data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    _4xx(response)


@pytest.mark.attack("SECURITY.md", SECTION + ": a consent POST naming an unknown client_id → 4xx (issue 15)")
@pytest.mark.parametrize("client_id", ["no-such-client", "", "x" * 5000, "\x00"])
def test_a_consent_post_for_an_unknown_client_is_refused(security, client_id):
    browser = security.browser()
    data = {
        "client_id": client_id,
        "redirect_uri": security.data["redirect_uri"],
        "response_type": "code",
        "scope": "openid",
        "state": "s",
        "allow": "Authorize",
    }
    response = browser.post("/oauth/authorize/", data)
    assert 400 <= response.status_code < 500, response.status_code
    assert no_trace(response.text)
    assert "Location" not in response.headers


@pytest.mark.attack("SECURITY.md", SECTION + ": no stack traces, SQL or hostnames on error pages")
@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/oauth/token/"),
        ("PUT", "/accounts/login/"),
        ("GET", "/accounts/password/reset/MQ/bad-token/"),
        ("GET", "/accounts/verify-email/" + "x" * 600 + "/"),
        ("DELETE", "/oauth/register/"),
        ("GET", "/api/sessions/00000000-0000-0000-0000-000000000000"),
        ("GET", "/accounts/sessions/not-a-uuid/end/"),
    ],
)
def test_error_pages_show_no_internals(security, method, path):
    response = requests.request(method, security.url + path, timeout=TIMEOUT, allow_redirects=False)
    assert response.status_code < 500
    assert no_trace(response.text)
    assert "127.0.0.1:5432" not in response.text and "postgres" not in response.text.lower()


@pytest.mark.attack("SECURITY.md", SECTION + ": JSON APIs answer malformed JSON with 400 JSON, no trace")
@pytest.mark.parametrize("body", [b"{", b'{"username": "\xff"}', b"null", b'"string"', b"1e999999"])
def test_malformed_json_to_the_sign_up_api(security, body):
    session = session_from(fresh_address())
    response = session.post(
        f"{security.url}/api/users/", data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    _4xx(response)
    json.loads(response.text)
