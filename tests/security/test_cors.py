"""CORS, attacked from outside: foreign origins (and look-alikes of the SPA's) get no
Access-Control-Allow-Origin on the token, userinfo, revocation and API endpoints; the SPA's
registered origin does, without credentials; the authorization endpoint never answers CORS."""

import pytest
import requests

from tests.faults.flows import TIMEOUT

SPA = "http://127.0.0.1:8766"
CORS_PATHS = ["/oauth/token/", "/oauth/userinfo/", "/oauth/revoke/", "/api/me"]
FOREIGN = [
    "https://evil.example",
    "null",
    "http://127.0.0.1:8766.evil.example",
    "http://127.0.0.1:87661",
    "https://127.0.0.1:8766",
    "http://127.0.0.1",
    "http://127.0.0.1:8766/",
    "HTTP://127.0.0.1:8766 ",
]


def _preflight(security, path, origin, method="POST"):
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    return requests.options(security.url + path, headers=headers, timeout=TIMEOUT)


@pytest.mark.attack("SECURITY.md", "CORS (issue 15): a foreign origin gets no Access-Control-Allow-Origin (preflight)")
@pytest.mark.parametrize("path", CORS_PATHS)
@pytest.mark.parametrize("origin", FOREIGN)
def test_a_foreign_origin_gets_no_preflight_answer(security, path, origin):
    response = _preflight(security, path, origin)
    assert response.status_code < 500
    assert "Access-Control-Allow-Origin" not in response.headers, (origin, response.headers)


@pytest.mark.attack("SECURITY.md", "CORS (issue 15): a foreign origin gets no Access-Control-Allow-Origin (request)")
@pytest.mark.parametrize("path", ["/oauth/token/", "/oauth/userinfo/"])
def test_a_foreign_origin_gets_no_cors_header_on_the_answer(security, path):
    response = requests.post(security.url + path, data={}, headers={"Origin": "https://evil.example"}, timeout=TIMEOUT)
    assert response.status_code in (400, 401, 405)
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.attack("SECURITY.md", "CORS (issue 15): the SPA's registered origin is allowed, without credentials")
@pytest.mark.parametrize("path", CORS_PATHS)
def test_the_registered_spa_origin_is_allowed(security, path):
    response = _preflight(security, path, SPA)
    assert response.status_code == 200
    assert response.headers.get("Access-Control-Allow-Origin") == SPA
    assert response.headers.get("Access-Control-Allow-Credentials") != "true"
    assert "origin" in response.headers.get("Vary", "").lower()


@pytest.mark.attack("SECURITY.md", "Authorization endpoint: no CORS on /authorize (even for the SPA's origin)")
@pytest.mark.parametrize("origin", [SPA, "https://evil.example"])
@pytest.mark.parametrize("method", ["GET", "OPTIONS"])
def test_the_authorization_endpoint_answers_no_cors(security, origin, method):
    headers = {"Origin": origin, "Access-Control-Request-Method": "GET"}
    spa = security.data["clients"]["spa"]
    params = {"client_id": spa["client_id"], "response_type": "code", "redirect_uri": spa["redirect_uris"][0]}
    url = f"{security.url}/oauth/authorize/"
    response = requests.request(method, url, params=params, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    assert response.status_code < 500
    assert not any(name.lower().startswith("access-control-") for name in response.headers)


@pytest.mark.attack("SECURITY.md", "CORS (issue 15): pages with cookies (login, account) answer no CORS")
@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/profile/", "/accounts/login/passkey/options/"])
def test_cookie_pages_answer_no_cors(security, path):
    response = _preflight(security, path, SPA)
    assert "Access-Control-Allow-Origin" not in response.headers
