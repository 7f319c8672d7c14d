"""Property-based hostile input at every public endpoint: never a 5xx (issue 15, item 3).

Each example sends one request built from junk: method, query string, body (form pairs, raw
bytes, odd JSON: deep, huge numbers, wrong types, NUL, lone surrogates), Content-Type (odd
charsets), Authorization (Basic/Bearer junk, or the real credentials so the input reaches
deeper). The answer is a 4xx with a proper error body, or the endpoint's normal 2xx/3xx —
never a 5xx. Seeded (derandomize=True) and without an example database, so every run sends
the same requests; tests/fuzz/conftest.py counts them (>= 10,000 a run).
"""

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import basic

from . import strategies as s
from .conftest import CountingClient

EXAMPLES = 200  # x 3 requests an example; tests/fuzz/conftest.py checks the total

fuzz_settings = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

OAUTH_FIELDS = [
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "client_id",
    "client_secret",
    "scope",
    "token",
    "token_type_hint",
    "username",
    "password",
    "response_type",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "id_token_hint",
    "post_logout_redirect_uri",
    "ui_locales",
    "claims",
    "request",
    "login_hint",
    "acr_values",
    "allow",
]
FORM_FIELDS = ["username", "password", "email", "password1", "password2", "next", "code", "otp", "remember"]

# (path, kind): "oauth" answers RFC 6749 5.2 JSON errors, "api" answers DRF errors,
# "page" answers HTML (or a redirect); "json" is a JSON document endpoint.
ENDPOINTS = [
    ("/oauth/token/", "oauth"),
    ("/oauth/introspect/", "oauth"),
    ("/oauth/revoke/", "oauth"),
    ("/oauth/authorize/", "page"),
    ("/oauth/userinfo/", "userinfo"),
    ("/oauth/logout/", "page"),
    ("/oauth/logout/confirm/", "page"),
    ("/oauth/register/", "register"),
    ("/api/users/", "api"),
    ("/api/me", "api"),
    ("/api/sessions/", "api"),
    ("/api/sessions/logout-all", "api"),
    ("/accounts/login/", "page"),
    ("/accounts/register/", "page"),
    ("/accounts/password/reset/", "page"),
    ("/accounts/verify-email/resend/", "page"),
    ("/.well-known/openid-configuration", "json"),
    ("/.well-known/jwks.json", "json"),
]

# Paths with a junk segment where a URL parameter goes.
PATH_TEMPLATES = [
    ("/api/sessions/{}", "api"),
    ("/oauth/register/{}/", "register"),
    ("/accounts/verify-email/{}/", "page"),
    ("/accounts/password/reset/{}/{}/", "page"),
]


def _check(response, kind, method, where):
    status = response.status_code
    assert status < 500, (where, status, response.content[:500])
    if method == "HEAD" or status < 400 or status in (405, 429) and kind not in ("oauth", "api"):
        return
    body = response.content
    if kind == "oauth":  # every 4xx, 405, 413 and 429 included
        doc = json.loads(body)  # RFC 6749 5.2: a JSON object with "error"
        assert isinstance(doc.get("error"), str), (where, doc)
    elif kind == "api":
        doc = json.loads(body)  # DRF: {"detail": ...} or field errors; RFC 6750 3.1: {"error": ...}
        assert isinstance(doc, dict | list) and doc, (where, doc)
        if isinstance(doc, dict) and "detail" not in doc and not isinstance(doc.get("error"), str):
            assert all(isinstance(v, list | dict) for v in doc.values()), (where, doc)
    elif kind == "userinfo" and status == 401:  # RFC 6750 3
        assert response["WWW-Authenticate"].startswith("Bearer"), where
    elif kind == "register" and status == 400:
        doc = json.loads(body)  # RFC 7591 3.2.2
        assert isinstance(doc.get("error"), str), (where, doc)


def _send(http, method, url, body, content_type, authorization, extra):
    headers = dict(extra)
    if authorization is not None:
        headers["HTTP_AUTHORIZATION"] = authorization
    return http.generic(method, url, data=body, content_type=content_type, **headers)


extra_headers = st.fixed_dictionaries(
    {},
    optional={
        "HTTP_ORIGIN": st.sampled_from(["null", "https://evil.example", "https://app.example.com", "\u00ff"]),
        "HTTP_ACCEPT": st.sampled_from(["*/*", "application/json", "text/html", "\u00e9/\u00e9", ""]),
        "HTTP_ACCEPT_LANGUAGE": st.sampled_from(["xx", "*", "en;q=abc", "zz-ZZ,\u00e9", "a" * 300]),
        "HTTP_X_FORWARDED_FOR": st.sampled_from(["1.2.3.4", "junk", "::1, 999.999.1.1", ""]),
        "HTTP_COOKIE": st.sampled_from(["sessionid=junk", "csrftoken=\u00e9", "sessionid=" + "a" * 4000, "=;=;"]),
    },
)


@pytest.fixture
def actors(flow, user):
    """Real credentials the fuzzer may use, so that junk reaches past authentication."""
    access_token = flow.tokens(scope="openid profile email")["access_token"]
    browser = CountingClient()
    browser.force_login(user)
    return {
        "basic": basic(flow.client.client_id, flow.secret),
        "bearer": f"Bearer {access_token}",
        "client_id": flow.client.client_id,
        "browser": browser,
    }


WHO = ["anonymous", "junk", "client", "bearer", "session"]


def _request(http, actors, endpoint, data):
    path, kind = endpoint
    method = data.draw(s.methods, label="method")
    query = data.draw(s.query_params, label="query")
    if data.draw(st.booleans(), label="json body"):
        body = data.draw(s.json_bodies, label="body")
    else:
        body = data.draw(s.form_bodies(OAUTH_FIELDS + FORM_FIELDS), label="body")
    content_type = data.draw(s.content_types, label="content type")
    if data.draw(st.booleans(), label="real client_id"):
        query = f"client_id={actors['client_id']}&" + query
    extra = data.draw(extra_headers, label="headers")
    url = f"{path}?{query}" if query else path
    # The same junk three times, as three callers: generating it costs more than sending it.
    for who in data.draw(st.lists(st.sampled_from(WHO), min_size=3, max_size=3, unique=True), label="who"):
        authorization = None
        client = http
        if who == "junk":
            authorization = data.draw(s.authorizations, label="authorization")
        elif who == "client":
            authorization = actors["basic"]
        elif who == "bearer":
            authorization = actors["bearer"]
        elif who == "session":
            client = actors["browser"]
        response = _send(client, method, url, body, content_type, authorization, extra)
        _check(response, kind, method, (method, url[:200], body[:200], content_type, who))


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[path for path, _ in ENDPOINTS])
@fuzz_settings
@given(data=st.data())
def test_endpoint_never_answers_5xx(http, actors, endpoint, data):
    _request(http, actors, endpoint, data)


@pytest.mark.django_db
@pytest.mark.parametrize("template", PATH_TEMPLATES, ids=[t for t, _ in PATH_TEMPLATES])
@settings(fuzz_settings, max_examples=EXAMPLES // 2)
@given(data=st.data())
def test_junk_path_segment_never_answers_5xx(http, actors, template, data):
    pattern, kind = template
    segments = [
        quote(data.draw(s.words, label="segment"), safe="", errors="surrogatepass") or "x"
        for _ in range(pattern.count("{}"))
    ]
    _request(http, actors, (pattern.format(*segments), kind), data)
