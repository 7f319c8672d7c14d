"""OpenID Connect flow controls: what the ID token binds (nonce, at_hash, auth_time, azp), the
prompt and max_age controls, and the response types we refuse."""

import base64
import hashlib
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from jwcrypto import jwk, jws

from conftest import PASSWORD
from tests.faults.flows import REDIRECT_URI, TIMEOUT, bearer

from .protocol import (
    STATE,
    attacker_site,
    authorize_params,
    code_of,
    exchange,
    fresh_user,
    hidden_inputs,
    logged_in,
    parts,
    query_of,
    tokens_of,
)


def verified_id_token(security, token):
    """The claims of an ID token, after its signature checks against the published JWKS."""
    keys = jwk.JWKSet.from_json(requests.get(f"{security.url}/.well-known/jwks.json", timeout=TIMEOUT).text)
    parsed = jws.JWS()
    parsed.deserialize(token)
    header = parsed.jose_header
    parsed.verify(keys.get_key(header["kid"]), alg="RS256")
    return header, json.loads(parsed.payload)


def half_hash(value):
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


@pytest.mark.attack("OIDC Core", "3.1.3.7 ID token validation: signed RS256 by a published key, iss, aud, exp")
def test_the_id_token_is_signed_and_addressed_to_its_client(security):
    """Also OIDC Core 16.6 (signed responses), 16.3 (token manufacture), 16.15 (issuer identifier)."""
    tokens, _ = tokens_of(security, "web")
    header, claims = verified_id_token(security, tokens["id_token"])
    assert header["alg"] == "RS256" and header.get("typ", "JWT") == "JWT"
    client_id = security.client("web").client_id
    assert claims["iss"] == security.url
    assert claims["aud"] == client_id or claims["aud"] == [client_id]
    assert claims.get("azp", client_id) == client_id
    assert claims["iat"] <= time.time() + 5 < claims["exp"]


@pytest.mark.attack("OIDC Core", "15.5.2 / 16.11 nonce: the ID token echoes the request's nonce (replay)")
def test_the_id_token_echoes_the_nonce(security):
    nonce = "nonce-" + "x" * 30
    tokens, _ = tokens_of(security, "web", nonce=nonce)
    assert verified_id_token(security, tokens["id_token"])[1]["nonce"] == nonce


@pytest.mark.attack("OIDC Core", "3.1.3.6 / 16.11 at_hash binds the access token to the ID token (substitution)")
def test_at_hash_binds_the_access_token(security):
    tokens, _ = tokens_of(security, "web")
    claims = verified_id_token(security, tokens["id_token"])[1]
    assert claims["at_hash"] == half_hash(tokens["access_token"])
    other, _ = tokens_of(security, "web")
    assert claims["at_hash"] != half_hash(other["access_token"])


@pytest.mark.attack("OIDC Core", "5.3.2 the UserInfo sub is the ID token's sub (token substitution)")
def test_userinfo_names_the_same_subject_as_the_id_token(security):
    tokens, _ = tokens_of(security, "web")
    info = requests.get(f"{security.url}/oauth/userinfo/", headers=bearer(tokens["access_token"]), timeout=TIMEOUT)
    assert info.status_code == 200
    assert info.json()["sub"] == parts(tokens["id_token"])[1]["sub"]


@pytest.mark.attack("OIDC Core", "3.1.2.1 prompt=none without a session → login_required, no page")
def test_prompt_none_without_a_session_is_login_required(security):
    """Also SECURITY.md "OIDC flow controls: prompt=none with no session → login_required"."""
    params, _ = authorize_params(security.client("web").client_id, prompt="none")
    response = security.anonymous().get("/oauth/authorize/", params=params)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    query = query_of(response)
    assert query["error"] == "login_required"
    assert query["state"] == STATE and query["iss"] == security.url
    assert "code" not in query


@pytest.mark.attack("OIDC Core", "3.1.2.1 prompt=none without consent → consent_required")
def test_prompt_none_without_consent_is_consent_required(security):
    params, _ = authorize_params(security.client("consent").client_id, prompt="none")
    response = logged_in(security).get("/oauth/authorize/", params=params)
    assert response.status_code == 302
    query = query_of(response)
    assert query["error"] == "consent_required" and "code" not in query
    assert query["state"] == STATE


@pytest.mark.attack("OIDC Core", "3.1.2.1 prompt=none with a session and a trusted client → a code, no page")
def test_prompt_none_with_a_session_answers_silently(security):
    params, _ = authorize_params(security.client("web").client_id, prompt="none")
    response = logged_in(security).get("/oauth/authorize/", params=params)
    assert response.status_code == 302
    assert "code" in query_of(response)


@pytest.mark.attack("OIDC Core", "3.1.2.6 prompt=none asking for a second factor → interaction_required")
def test_prompt_none_asking_for_mfa_of_a_password_session_is_interaction_required(security):
    params, _ = authorize_params(security.client("web").client_id, prompt="none", acr_values="urn:identity:mfa")
    response = logged_in(security).get("/oauth/authorize/", params=params)
    assert response.status_code == 302
    query = query_of(response)
    assert query["error"] == "interaction_required" and "code" not in query


def _login_again(security, browser, username, params):
    """Answer a forced login and follow back to the authorization endpoint: the code."""
    login = browser.get("/oauth/authorize/", params=params)
    assert login.status_code == 302 and "/accounts/login/" in login.headers["Location"], login.headers
    assert "code=" not in login.headers["Location"]
    done = browser.post(login.headers["Location"], {"username": username, "password": PASSWORD})
    assert done.status_code == 302, done.text[:500]
    back = browser.get(done.headers["Location"].replace(security.url, ""))
    assert back.status_code == 302
    return query_of(back)["code"]


@pytest.mark.attack("OIDC Core", "3.1.2.1 prompt=login / max_age force a fresh login and a new auth_time")
@pytest.mark.parametrize("control", [{"prompt": "login"}, {"max_age": "1"}], ids=["prompt=login", "max_age"])
def test_a_forced_login_is_asked_and_moves_auth_time(security, control):
    """Also SECURITY.md "prompt=login and max_age force a fresh login and a new auth_time",
    OIDC Core 2 (auth_time REQUIRED when max_age is asked)."""
    username = fresh_user(security)
    browser = logged_in(security, username)
    client = security.client("web")
    first, _ = tokens_of(security, "web", browser=browser, max_age="3600")
    before = verified_id_token(security, first["id_token"])[1]["auth_time"]
    time.sleep(2.1)
    params, verifier = authorize_params(client.client_id, **control)
    code = _login_again(security, browser, username, params)
    tokens = exchange(security.url, client, code, verifier).json()
    after = verified_id_token(security, tokens["id_token"])[1]["auth_time"]
    assert after > before


@pytest.mark.attack("OIDC Core", "3.1.2.1 max_age=0 never reuses the session's login")
def test_max_age_zero_always_asks_for_a_login(security):
    browser = logged_in(security)
    params, _ = authorize_params(security.client("web").client_id, max_age="0")
    response = browser.get("/oauth/authorize/", params=params)
    assert response.status_code == 302
    assert "/accounts/login/" in response.headers["Location"]


def _answer(response):
    location = urlsplit(response.headers["Location"])
    answer = parse_qs(location.query)
    answer.update(parse_qs(location.fragment))
    return {k: v[0] for k, v in answer.items()}


@pytest.mark.attack("SECURITY.md", "OIDC flow controls: only response_type=code")
@pytest.mark.parametrize(
    "response_type",
    ["token", "id_token", "id_token token", "code id_token", "code token", "code id_token token", "none"],
)
def test_response_types_other_than_code_are_refused(security, response_type):
    """Also RFC 9700 2.1.2 (no implicit grant), OIDC Core 3.2 / 3.3 (implicit and hybrid flows
    put tokens in the front channel)."""
    params, _ = authorize_params(security.client("web").client_id, response_type=response_type)
    response = logged_in(security).get("/oauth/authorize/", params=params)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        answer = _answer(response)
        assert answer["error"] in ("unsupported_response_type", "unauthorized_client", "invalid_request")
        assert not {"code", "access_token", "id_token"} & set(answer)


@pytest.mark.attack("OIDC Core", "6.2 / RFC 9101 10.4 request_uri is never fetched (SSRF)")
def test_a_request_uri_is_not_fetched(security):
    with attacker_site() as (site, handler):
        params, _ = authorize_params(security.client("web").client_id, request_uri=f"{site}/request.jwt")
        response = logged_in(security).get("/oauth/authorize/", params=params)
        time.sleep(0.3)
        assert handler.hits == []
        assert response.status_code in (302, 400)
        if response.status_code == 302:
            answer = _answer(response)
            assert answer.get("error") in ("request_uri_not_supported", "invalid_request"), answer
            assert "code" not in answer


@pytest.mark.attack("OIDC Core", "6.1 an unsigned request object overriding redirect_uri is not obeyed")
def test_a_request_object_does_not_override_the_redirect_uri(security):
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps({"redirect_uri": "https://evil.example/cb"}).encode()).rstrip(b"=")
    params, _ = authorize_params(security.client("web").client_id, request=f"{header}.{body.decode()}.")
    response = logged_in(security).get("/oauth/authorize/", params=params)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert response.headers["Location"].startswith(REDIRECT_URI + "?")
        assert "evil.example" not in response.headers["Location"]


@pytest.mark.attack("OIDC Core", "16.11 token substitution: each code's tokens name its own user")
def test_a_code_gives_tokens_for_the_user_who_consented(security):
    """The code is bound to its user: two users' codes give two different subjects."""
    client = security.client("web")
    subjects = set()
    for _ in range(2):
        code, verifier, _ = code_of(logged_in(security), client.client_id)
        tokens = exchange(security.url, client, code, verifier).json()
        subjects.add(parts(tokens["id_token"])[1]["sub"])
    assert len(subjects) == 2


@pytest.mark.attack("OIDC Core", "5.3 UserInfo needs a user's access token with the openid scope")
@pytest.mark.parametrize("token", ["client credentials", "no openid scope"])
def test_userinfo_refuses_tokens_without_a_user_or_openid(security, token):
    """Also RFC 6750 3.1 (insufficient_scope is 403), OIDC Core 16.11."""
    if token == "client credentials":
        access = security.client("service").post("/oauth/token/", {"grant_type": "client_credentials"}).json()
        expected = (401, 403)
    else:
        access, _ = tokens_of(security, "web", scope="profile")
        expected = (403,)
    response = requests.get(f"{security.url}/oauth/userinfo/", headers=bearer(access["access_token"]), timeout=TIMEOUT)
    assert response.status_code in expected
    assert "sub" not in response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.attack("OIDC Core", "3.1.2.1 prompt=none with any other value is an error")
@pytest.mark.parametrize("prompt", ["none login", "none consent"])
def test_prompt_none_combined_with_another_value_gives_no_code(security, prompt):
    params, _ = authorize_params(security.client("web").client_id, prompt=prompt)
    response = logged_in(security).get("/oauth/authorize/", params=params)
    assert response.status_code == 302
    query = query_of(response)
    assert "code" not in query
    assert query["error"] in ("invalid_request", "login_required", "consent_required", "interaction_required")


@pytest.mark.attack("OIDC Core", "3.1.2.1 prompt=consent asks even a trusted client's user")
def test_prompt_consent_shows_the_consent_page_to_a_trusted_client(security):
    params, _ = authorize_params(security.client("web").client_id, prompt="consent")
    response = logged_in(security).get("/oauth/authorize/", params=params)
    assert response.status_code == 200 and "Location" not in response.headers
    assert 'name="consent_answer"' in response.text


@pytest.mark.attack("RFC 6749", "10.12 / 3.3 a remembered consent covers what was approved, nothing more")
def test_a_remembered_consent_does_not_cover_a_wider_scope(security):
    """Also RFC 6819 5.2.4.1 (authorization is per scope), OIDC Core 3.1.2.4."""
    browser = logged_in(security)
    client_id = security.client("consent").client_id
    params, _ = authorize_params(client_id, scope="openid profile")
    page = browser.get("/oauth/authorize/", params=params)
    assert page.status_code == 200
    answer = browser.http.post(
        page.url,
        data={**hidden_inputs(page.text), "allow": "Authorize"},
        headers={"Referer": page.url},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert "code" in query_of(answer)
    wider, _ = authorize_params(client_id, scope="openid profile email")
    again = browser.get("/oauth/authorize/", params=wider)
    assert again.status_code == 200 and "Location" not in again.headers
    silent, _ = authorize_params(client_id, scope="openid email", prompt="none")
    refused = browser.get("/oauth/authorize/", params=silent)
    assert query_of(refused)["error"] == "consent_required"


@pytest.mark.attack("OIDC Core", "16.18 lifetimes: short-lived access tokens, bounded ID tokens")
def test_token_lifetimes_are_short(security):
    """Also RFC 6819 5.1.5.3 (short expiration time), RFC 9700 4.14 (refresh tokens, not long
    access tokens)."""
    tokens, _ = tokens_of(security, "web")
    access = parts(tokens["access_token"])[1]
    identity = parts(tokens["id_token"])[1]
    assert 0 < tokens["expires_in"] <= 3600
    assert abs((access["exp"] - access["iat"]) - tokens["expires_in"]) <= 2
    assert 0 < identity["exp"] - identity["iat"] <= 24 * 3600


@pytest.mark.attack("OIDC Core", "16.19 symmetric key entropy: client secrets of at least 128 bits")
def test_client_secrets_are_long_and_distinct(security):
    """Also RFC 6749 10.10, RFC 6819 5.1.4.2.2. The secrets are the ones the operator was shown."""
    secrets = [client["secret"] for client in security.data["clients"].values() if client["secret"]]
    assert len(secrets) >= 5 and len(set(secrets)) == len(secrets)
    assert all(len(secret) >= 32 for secret in secrets)


@pytest.mark.attack("RFC 9700", "4.11.2 prompt=none never redirects to an unverified redirect_uri")
@pytest.mark.parametrize("case", ["unregistered redirect_uri", "unknown client"])
def test_prompt_none_errors_for_an_unverified_request_are_the_error_page(security, case):
    """prompt=none answers without a page, but only to a verified redirect_uri: the silent
    login_required path must not become an open redirector (also RFC 6749 4.1.2.1)."""
    client_id = security.client("web").client_id if case != "unknown client" else "no-such-client"
    params, _ = authorize_params(client_id, prompt="none", redirect_uri="https://evil.example/cb")
    response = security.anonymous().get("/oauth/authorize/", params=params)
    assert response.status_code == 400
    assert "Location" not in response.headers
