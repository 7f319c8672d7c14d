"""CORS (Fetch Standard, "CORS protocol") for browser-based clients, black-box.

A public client registers the origins its scripts run on (`allowed_origins`). Those origins,
and only those, may read the answers of the token, revocation and userinfo endpoints and of
the API; discovery and the JWKS are public (`*`); nothing else answers cross-origin at all.
"""

import re

import pytest
from django.test import Client as BrowserClient

from conftest import bearer, form_post
from tests.e2e.helpers import ME_URL, REVOKE_URL, TOKEN_URL

pytestmark = pytest.mark.django_db

SPA_ORIGIN = "https://spa.example.com"
SPA_REDIRECT = "https://spa.example.com/callback"
LOOPBACK_ORIGIN = "http://127.0.0.1:8766"
CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Expose-Headers",
)


@pytest.fixture
def spa(make_client):
    client, _ = make_client(
        name="SPA", public=True, redirect_uris=[SPA_REDIRECT], allowed_origins=[SPA_ORIGIN, LOOPBACK_ORIGIN]
    )
    return client


@pytest.fixture
def spa_flow(user, spa):
    from conftest import Flow

    return Flow(user, spa, redirect_uri=SPA_REDIRECT)


def preflight(path, origin, method="POST", headers="content-type"):
    return BrowserClient().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def no_cors(response):
    return not any(name in response for name in CORS_HEADERS)


def vary(response):
    return {v.strip().lower() for v in response.get("Vary", "").split(",")}


def exchange(flow, origin, **extra):
    code, verifier = flow.code(scope="openid profile")
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": SPA_REDIRECT,
        "code_verifier": verifier,
        "client_id": flow.client.client_id,
        **extra,
    }
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    return form_post(BrowserClient(), TOKEN_URL, data, **headers)


@pytest.mark.parametrize("path", [TOKEN_URL, REVOKE_URL, "/oauth/userinfo/", ME_URL])
@pytest.mark.parametrize("origin", [SPA_ORIGIN, LOOPBACK_ORIGIN])
def test_a_registered_origin_gets_its_preflight_answered(spa, path, origin):
    method = "POST" if path in (TOKEN_URL, REVOKE_URL) else "GET"
    response = preflight(path, origin, method=method, headers="authorization, content-type")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == origin
    assert method in response["Access-Control-Allow-Methods"]
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert response["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in response
    assert "origin" in vary(response)
    assert response.content == b""


@pytest.mark.parametrize("path", [TOKEN_URL, REVOKE_URL, "/oauth/userinfo/", ME_URL])
@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://spa.example.com.evil.example",
        "https://spa.example",  # a substring of the registered origin
        "http://spa.example.com",  # scheme downgrade
        "https://spa.example.com:8443",  # another port
        "http://127.0.0.1:8767",
        "null",
        "https://spa.example.com/",
        "https://SPA.example.com",
    ],
)
def test_another_origin_gets_no_cors_headers(spa, path, origin):
    response = preflight(path, origin)
    assert response.status_code == 200  # answered, but without permission: the browser stops
    assert no_cors(response)
    assert "origin" in vary(response)


def test_the_token_response_is_readable_by_the_registered_origin(spa_flow):
    response = exchange(spa_flow, SPA_ORIGIN)
    assert response.status_code == 200, response.content
    assert "access_token" in response.json()
    assert response["Access-Control-Allow-Origin"] == SPA_ORIGIN
    assert response["Access-Control-Expose-Headers"].lower() == "www-authenticate"
    assert "Access-Control-Allow-Credentials" not in response
    assert "origin" in vary(response)
    assert response["Cache-Control"] == "no-store"


def test_a_loopback_origin_works_too(spa_flow):
    response = exchange(spa_flow, LOOPBACK_ORIGIN)
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == LOOPBACK_ORIGIN


def test_the_token_response_to_another_origin_has_no_cors_headers(spa_flow):
    # The server still answers (CORS is enforced by the browser): the page cannot read it.
    response = exchange(spa_flow, "https://evil.example")
    assert response.status_code == 200
    assert no_cors(response)
    assert "origin" in vary(response)


def test_token_errors_are_readable_by_the_registered_origin(spa):
    response = form_post(
        BrowserClient(),
        TOKEN_URL,
        {"grant_type": "authorization_code", "code": "nope", "client_id": spa.client_id, "redirect_uri": SPA_REDIRECT},
        HTTP_ORIGIN=SPA_ORIGIN,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response["Access-Control-Allow-Origin"] == SPA_ORIGIN


def test_no_origin_header_no_cors_headers_but_vary(spa_flow):
    response = exchange(spa_flow, None)
    assert response.status_code == 200
    assert no_cors(response)
    assert "origin" in vary(response)  # a cache must not give this answer to a page


def test_userinfo_api_and_revocation_from_the_registered_origin(spa_flow, django_capture_on_commit_callbacks):
    tokens = exchange(spa_flow, SPA_ORIGIN).json()
    browser = BrowserClient()
    for path in ("/oauth/userinfo/", ME_URL):
        response = browser.get(path, HTTP_ORIGIN=SPA_ORIGIN, **bearer(tokens["access_token"]))
        assert response.status_code == 200, (path, response.content)
        assert response["Access-Control-Allow-Origin"] == SPA_ORIGIN
        assert "Access-Control-Allow-Credentials" not in response
    refused = browser.get(ME_URL, HTTP_ORIGIN=SPA_ORIGIN, **bearer("not-a-token"))
    assert refused.status_code == 401
    assert refused["Access-Control-Allow-Origin"] == SPA_ORIGIN  # the page can read why
    assert refused["Access-Control-Expose-Headers"].lower() == "www-authenticate"
    with django_capture_on_commit_callbacks(execute=True):  # the fast path learns at commit
        response = form_post(
            browser,
            REVOKE_URL,
            {"token": tokens["refresh_token"], "client_id": spa_flow.client.client_id},
            HTTP_ORIGIN=SPA_ORIGIN,
        )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SPA_ORIGIN
    after = browser.get(ME_URL, HTTP_ORIGIN=SPA_ORIGIN, **bearer(tokens["access_token"]))
    assert after.status_code == 401


def test_any_registered_client_origin_may_call_the_api(spa, make_client, user):
    # /api is a resource server: a token of one app, sent from another registered app's origin.
    other, _ = make_client(name="Other SPA", public=True, allowed_origins=["https://other.example.com"])
    from conftest import Flow

    tokens = Flow(user, spa, redirect_uri=SPA_REDIRECT).tokens()
    response = BrowserClient().get(ME_URL, HTTP_ORIGIN="https://other.example.com", **bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://other.example.com"


@pytest.mark.parametrize(
    "path", ["/oauth/authorize/", "/oauth/introspect/", "/oauth/logout/", "/accounts/login/", "/admin/login/", "/"]
)
def test_no_cors_anywhere_else_even_for_a_registered_origin(spa, path):
    response = preflight(path, SPA_ORIGIN, method="GET")
    assert no_cors(response)
    response = BrowserClient().get(path, HTTP_ORIGIN=SPA_ORIGIN)
    assert no_cors(response)


@pytest.mark.parametrize(
    "path", ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/.well-known/jwks.json"]
)
@pytest.mark.parametrize("origin", [None, SPA_ORIGIN, "https://anyone.example"])
def test_discovery_and_jwks_are_public(path, origin):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    response = BrowserClient().get(path, **headers)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize(
    "origin", ["https://spa.example.com\x00", "https://" + "a" * 5000 + ".example", "https://%00.example", "\u2028"]
)
def test_hostile_origin_headers_get_no_cors_and_no_error(spa, origin):
    response = preflight(TOKEN_URL, origin)
    assert response.status_code == 200
    assert no_cors(response)
    response = BrowserClient().get(ME_URL, HTTP_ORIGIN=origin)
    assert response.status_code == 401
    assert no_cors(response)


def test_an_origin_removed_from_the_client_is_refused_at_once(spa):
    assert preflight(TOKEN_URL, SPA_ORIGIN)["Access-Control-Allow-Origin"] == SPA_ORIGIN
    spa.allowed_origins = LOOPBACK_ORIGIN
    spa.save()
    assert no_cors(preflight(TOKEN_URL, SPA_ORIGIN))


# --- Cost: the hot path pays nothing without Origin, one query with it ----------------------


def origin_lookups(queries):
    return [q for q in queries if re.search(r'"allowed_origins"(::text)? LIKE', q)]


def _token_request_queries(spa_flow, origin, django_assert_num_queries, capture):
    code, verifier = spa_flow.code()
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": SPA_REDIRECT,
        "code_verifier": verifier,
        "client_id": spa_flow.client.client_id,
    }
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    with capture() as queries:
        response = form_post(BrowserClient(), TOKEN_URL, data, **headers)
    assert response.status_code == 200, response.content
    return without_key_loads(queries)


def without_key_loads(queries):
    # The signing keys are re-read when the process's key cache expires: not this request's cost.
    return [q["sql"] for q in queries.captured_queries if '"oauth_signingkey"' not in q["sql"]]


def test_the_token_endpoint_costs_no_query_more_without_origin_and_one_with(spa_flow, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def capture():
        return CaptureQueriesContext(connection)

    # Warm up (keys loaded once per process), then measure the same request three ways.
    _token_request_queries(spa_flow, None, django_assert_num_queries, capture)
    without = _token_request_queries(spa_flow, None, django_assert_num_queries, capture)
    registered = _token_request_queries(spa_flow, SPA_ORIGIN, django_assert_num_queries, capture)
    other = _token_request_queries(spa_flow, "https://evil.example", django_assert_num_queries, capture)
    malformed = _token_request_queries(spa_flow, "https://evil.example/x", django_assert_num_queries, capture)
    assert not origin_lookups(without)
    assert len(registered) == len(without) + 1
    assert len(other) == len(without) + 1
    assert len(malformed) == len(without)
    (origin_query,) = origin_lookups(registered)
    assert origin_query.startswith("SELECT")


def test_a_preflight_costs_one_query_and_runs_no_view(spa, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = preflight(TOKEN_URL, SPA_ORIGIN)
    assert response["Access-Control-Allow-Origin"] == SPA_ORIGIN
    with django_assert_num_queries(0):
        preflight(TOKEN_URL, "https://evil.example/")


@pytest.mark.parametrize("path", ["/.well-known/jwks.json", "/oauth/authorize/", "/accounts/login/", "/health/live"])
def test_other_paths_pay_nothing_for_an_origin_header(spa, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    BrowserClient().get(path)  # warm-up
    counts = []
    for headers in ({}, {"HTTP_ORIGIN": SPA_ORIGIN}):
        with CaptureQueriesContext(connection) as queries:
            BrowserClient().get(path, **headers)
        assert not origin_lookups(without_key_loads(queries))
        counts.append(len(without_key_loads(queries)))
    assert counts[0] == counts[1]
