"""Attacks on the token endpoint: client authentication (bad, malformed, doubled, in the URL),
request hygiene (method, encoding, duplicated parameters), grants a client may not use, and the
caching headers of every answer."""

import base64
import re
from urllib.parse import urlencode

import pytest
import requests

from conftest import PASSWORD
from tests.faults.flows import TIMEOUT, basic

from .protocol import authorize_params, code_of, elsewhere, exchange, fresh_user, json_error, logged_in, parts, query_of

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def token_url(security):
    return f"{security.url}/oauth/token/"


def client_credentials(security, name="service"):
    client = security.client(name)
    return client.post("/oauth/token/", {"grant_type": "client_credentials"})


def bad_credentials(security, case):
    target = security.client("auth-target-0")
    data = {"grant_type": "client_credentials"}
    if case == "wrong secret (Basic)":
        return {"Authorization": basic(target.client_id, target.secret + "x")}, data
    if case == "wrong secret (body)":
        return {}, {**data, "client_id": target.client_id, "client_secret": "not-" + target.secret}
    if case == "empty secret":
        return {"Authorization": basic(target.client_id, "")}, data
    return {"Authorization": basic("no-such-client-id", "whatever")}, data


@pytest.mark.attack("RFC 6749", "5.2 invalid_client: 401 with WWW-Authenticate")
@pytest.mark.parametrize("case", ["wrong secret (Basic)", "wrong secret (body)", "empty secret", "unknown client"])
def test_bad_client_credentials_are_401_with_a_challenge(security, case):
    """Also SECURITY.md "Token endpoint: bad client credentials → 401 invalid_client + WWW-Authenticate",
    RFC 9700 2.5."""
    headers, data = bad_credentials(security, case)
    response = elsewhere().post(token_url(security), data=data, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 401
    assert json_error(response) == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert "access_token" not in response.json()


MALFORMED_BASIC = {
    "not base64": "Basic !!!not-base64!!!",
    "no colon": "Basic " + base64.b64encode(b"client-without-colon").decode(),
    "not UTF-8": "Basic " + base64.b64encode(b"\xff\xfe\xfd:\xc3\x28").decode(),
    "empty": "Basic ",
    "non-ASCII header": "Basic \xe9t\xe9",
    "padding only": "Basic ====",
}


@pytest.mark.attack(
    "SECURITY.md", "Token endpoint: malformed Basic (bad base64, no colon, non-UTF-8) → 400/401, never 500"
)
@pytest.mark.parametrize("case", list(MALFORMED_BASIC))
def test_malformed_basic_credentials_are_refused_not_crashed_on(security, case):
    response = elsewhere().post(
        token_url(security),
        data={"grant_type": "client_credentials"},
        headers={"Authorization": MALFORMED_BASIC[case].encode("latin-1")},
        timeout=TIMEOUT,
    )
    assert response.status_code in (400, 401), response.status_code
    assert json_error(response) in ("invalid_client", "invalid_request")


@pytest.mark.attack("RFC 6749", "2.3 a client MUST NOT use more than one authentication method per request")
def test_two_client_authentication_methods_at_once_are_invalid_request(security):
    client = security.client("auth-target-1")
    response = requests.post(
        token_url(security),
        data={"grant_type": "client_credentials", "client_secret": client.secret},
        headers={"Authorization": basic(client.client_id, client.secret)},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert json_error(response) == "invalid_request"


@pytest.mark.attack("RFC 6749", "2.3.1 client credentials MUST NOT be sent in the request URI")
@pytest.mark.parametrize("where", ["secret only", "id and secret"])
def test_a_secret_in_the_query_string_is_refused(security, where):
    """Also RFC 6819 5.4.2 / SECURITY.md "secrets in the query string refused" (URLs are logged)."""
    client = security.client("auth-target-1")
    query = {"client_secret": client.secret}
    if where == "id and secret":
        query["client_id"] = client.client_id
    response = requests.post(
        f"{token_url(security)}?{urlencode(query)}",
        data={"grant_type": "client_credentials", "client_id": client.client_id},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert json_error(response) == "invalid_request"


@pytest.mark.attack("RFC 6749", "3.2 the token endpoint takes POST with a form-encoded body")
@pytest.mark.parametrize("how", ["GET", "JSON body", "multipart body"])
def test_only_form_encoded_posts_are_accepted(security, how):
    client = security.client("service")
    auth = {"Authorization": basic(client.client_id, client.secret)}
    data = {"grant_type": "client_credentials"}
    if how == "GET":
        response = requests.get(token_url(security), headers=auth, timeout=TIMEOUT)
        assert response.status_code == 405
    elif how == "JSON body":
        response = requests.post(token_url(security), json=data, headers=auth, timeout=TIMEOUT)
        assert response.status_code == 400
    else:
        response = requests.post(
            token_url(security), files={"grant_type": (None, "client_credentials")}, headers=auth, timeout=TIMEOUT
        )
        assert response.status_code == 400
    assert json_error(response) == "invalid_request"


@pytest.mark.attack("RFC 6749", "5.2 unsupported_grant_type and unauthorized_client")
@pytest.mark.parametrize(
    ("client_name", "grant", "error"),
    [
        ("service", "urn:example:no-such-grant", "unsupported_grant_type"),
        ("web", "client_credentials", "unauthorized_client"),
        ("service", "authorization_code", "unauthorized_client"),
        ("service", "refresh_token", "unauthorized_client"),
    ],
    ids=["unknown grant", "web asks client_credentials", "service asks a code", "service asks a refresh"],
)
def test_grants_a_client_may_not_use_are_refused(security, client_name, grant, error):
    client = security.client(client_name)
    data = {"grant_type": grant, "code": "x" * 30, "refresh_token": "y" * 30, "redirect_uri": "http://x"}
    response = client.post("/oauth/token/", data)
    assert response.status_code in (400, 401)
    assert json_error(response) == error
    assert "access_token" not in response.json()


@pytest.mark.attack("RFC 9700", "2.4 the resource owner password credentials grant MUST NOT be used")
def test_the_password_grant_is_off(security):
    """Also SECURITY.md "Password grant: only for clients allowed it"."""
    username = fresh_user(security)
    response = security.client("web").post(
        "/oauth/token/", {"grant_type": "password", "username": username, "password": PASSWORD, "scope": "openid"}
    )
    assert response.status_code in (400, 401)
    assert json_error(response) in ("unsupported_grant_type", "unauthorized_client")
    metadata = requests.get(f"{security.url}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert "password" not in metadata.get("grant_types_supported", [])


@pytest.mark.attack("RFC 6749", "3.2 unknown parameters are ignored")
def test_unknown_parameters_are_ignored(security):
    client = security.client("service")
    response = client.post("/oauth/token/", {"grant_type": "client_credentials", "x-unknown": "1", "foo": ""})
    assert response.status_code == 200


DUPLICABLE = ["grant_type", "scope", "client_id", "client_secret", "code", "redirect_uri", "code_verifier"]


@pytest.mark.attack("RFC 6749", "3.2 request and response parameters MUST NOT be included more than once")
@pytest.mark.parametrize("name", DUPLICABLE)
def test_a_duplicated_parameter_is_invalid_request(security, name):
    """Also SECURITY.md "Duplicated parameters → 400 invalid_request" (Django keeps the last)."""
    client = security.client("web")
    code, verifier, _params = code_of(logged_in(security), client.client_id)
    data = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", "http://127.0.0.1:8765/callback"),
        ("code_verifier", verifier),
        ("client_id", client.client_id),
        ("client_secret", client.secret),
        ("scope", "openid"),
    ]
    data += [(k, v) for k, v in data if k == name]
    response = requests.post(token_url(security), data=urlencode(data), headers=FORM, timeout=TIMEOUT)
    assert response.status_code == 400, response.text
    assert json_error(response) == "invalid_request"
    # And the code was not spent by the refused request: it still redeems once.
    assert exchange(security.url, client, code, verifier).status_code == 200


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def answer(security, case):
    if case == "success":
        return client_credentials(security)
    if case == "invalid_client":
        headers, data = bad_credentials(security, "wrong secret (Basic)")
        return elsewhere().post(token_url(security), data=data, headers=headers, timeout=TIMEOUT)
    if case == "invalid_request":
        return requests.post(token_url(security), data="grant_type=a&grant_type=b", headers=FORM, timeout=TIMEOUT)
    if case == "unsupported_grant_type":
        return security.client("service").post("/oauth/token/", {"grant_type": "urn:nope"})
    return security.client("web").post("/oauth/token/", {"grant_type": "refresh_token", "refresh_token": "x" * 40})


@pytest.mark.attack("RFC 6749", "5.1 / 5.2 Cache-Control: no-store and Pragma: no-cache, on errors too")
@pytest.mark.parametrize(
    "case", ["success", "invalid_client", "invalid_request", "unsupported_grant_type", "invalid_grant"]
)
def test_every_token_answer_is_json_and_never_cached(security, case):
    """Also RFC 6819 5.1.6 / SECURITY.md "Responses: JSON, no-store, Pragma, on errors too"."""
    response = answer(security, case)
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    body = response.json()
    assert ("access_token" in body) == (case == "success")
    if case != "success":
        assert body["error"] == case


@pytest.mark.attack("RFC 6749", "4.4.3 client credentials: a refresh token SHOULD NOT be included")
def test_client_credentials_get_no_refresh_token_and_a_subject_of_their_own(security):
    """Also SECURITY.md "Client credentials: no refresh token; its sub cannot collide with a user's"."""
    response = client_credentials(security)
    assert response.status_code == 200
    body = response.json()
    assert "refresh_token" not in body and "id_token" not in body
    _header, claims, _signature = parts(body["access_token"])
    assert claims["sub"] == security.client("service").client_id
    assert not UUID.match(claims["sub"])  # users' subjects are UUIDs
    user_tokens = security.client("web").tokens(logged_in(security))
    assert UUID.match(parts(user_tokens["access_token"])[1]["sub"])


@pytest.mark.attack("RFC 9700", "2.3 privilege restriction: client credentials limited to the client's scopes")
@pytest.mark.parametrize(
    ("asked", "outcome"), [("write", "invalid_scope"), ("read write", "invalid_scope"), ("read", "read")]
)
def test_a_service_gets_no_scope_beyond_its_own(security, asked, outcome):
    response = security.client("read-service").post(
        "/oauth/token/", {"grant_type": "client_credentials", "scope": asked}
    )
    if outcome == "invalid_scope":
        assert response.status_code == 400
        assert json_error(response) == "invalid_scope"
    else:
        assert response.status_code == 200
        assert response.json()["scope"] == outcome


@pytest.mark.attack("RFC 9700", "2.5 client authentication: a client registered for client_secret_basic")
def test_a_basic_only_client_cannot_authenticate_in_the_body(security):
    """Also OIDC Core 9 (token_endpoint_auth_method is the one the client registered)."""
    client = security.client("basic-only")
    data = {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": client.secret}
    response = elsewhere().post(token_url(security), data=data, timeout=TIMEOUT)
    assert response.status_code == 401
    assert json_error(response) == "invalid_client"
    assert client.post("/oauth/token/", {"grant_type": "client_credentials"}).status_code == 200


@pytest.mark.attack("RFC 6749", "3.2.1 a confidential client MUST authenticate to redeem a code")
def test_a_confidential_clients_code_cannot_be_redeemed_without_its_secret(security):
    """Also RFC 6819 5.2.3.1 (a stolen code is useless without the client's secret)."""
    client = security.client("web")
    code, verifier, _ = code_of(logged_in(security), client.client_id)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "code_verifier": verifier,
        "client_id": client.client_id,
    }
    response = elsewhere().post(token_url(security), data=data, timeout=TIMEOUT)
    assert response.status_code == 401
    assert json_error(response) == "invalid_client"
    assert exchange(security.url, client, code, verifier).status_code == 200


@pytest.mark.attack("RFC 6749", "2.1 a public client cannot use the client credentials grant")
def test_a_public_client_gets_no_client_credentials_token(security):
    spa = security.data["clients"]["spa"]["client_id"]
    response = elsewhere().post(
        token_url(security), data={"grant_type": "client_credentials", "client_id": spa}, timeout=TIMEOUT
    )
    assert response.status_code in (400, 401)
    assert json_error(response) in ("unauthorized_client", "invalid_client")


@pytest.mark.attack("RFC 9700", "2.3 audience restriction: the request's resource does not choose the audience")
def test_a_resource_parameter_does_not_make_a_token_for_the_attackers_api(security):
    """Also RFC 8707 2 (resource indicators), RFC 9068 3 (aud names the resource server)."""
    client = security.client("web")
    evil = "https://evil.example/api"
    request, verifier = authorize_params(client.client_id, resource=evil)
    response = logged_in(security).get("/oauth/authorize/", params=request)
    assert response.status_code == 302
    query = query_of(response)
    if "code" not in query:
        assert query["error"] in ("invalid_target", "invalid_request")
        return
    token = exchange(security.url, client, query["code"], verifier, resource=evil)
    if token.status_code == 200:
        audience = parts(token.json()["access_token"])[1]["aud"]
        assert evil not in (audience if isinstance(audience, list) else [audience])
    else:
        assert json_error(token) in ("invalid_target", "invalid_request")


@pytest.mark.attack("RFC 8707", "2.2 a token request cannot add a resource the grant did not name")
def test_a_token_request_cannot_widen_the_grants_resources(security):
    client = security.client("web")
    code, verifier, _ = code_of(logged_in(security), client.client_id, resource=f"{security.url}/api")
    response = exchange(security.url, client, code, verifier, resource="https://evil.example/api")
    assert response.status_code == 400
    assert json_error(response) in ("invalid_target", "invalid_request", "invalid_grant")
