"""Attacks on revocation (RFC 7009) and introspection (RFC 7662): unauthenticated callers,
other clients' tokens, and tokens that are anything but fully valid."""

import pytest
import requests

from tests.faults.flows import TIMEOUT, basic

from .protocol import compact, elsewhere, json_error, me_status, parts, tokens_of


def introspect(security, token, caller="introspector", **extra):
    return security.client(caller).post("/oauth/introspect/", {"token": token, **extra})


@pytest.mark.attack("RFC 7009", "2.1 the revocation request is client-authenticated")
@pytest.mark.parametrize("credentials", ["none", "wrong secret"])
def test_revocation_without_valid_client_credentials_revokes_nothing(security, credentials):
    """Also SECURITY.md "Revocation: authenticated", RFC 6819 5.1.5.x (an attacker revoking a
    victim's tokens as a denial of service)."""
    tokens, _ = tokens_of(security, "web")
    web = security.client("web")
    headers = {} if credentials == "none" else {"Authorization": basic(web.client_id, web.secret + "x")}
    data = {"token": tokens["access_token"], **({"client_id": web.client_id} if credentials == "none" else {})}
    response = elsewhere().post(f"{security.url}/oauth/revoke/", data=data, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 401
    assert json_error(response) == "invalid_client"
    assert me_status(security.url, tokens["access_token"]) == 200


@pytest.mark.attack("RFC 7009", "2.2 an unknown or invalid token is answered 200")
@pytest.mark.parametrize("token", ["no-such-token", "a.b.c", "x" * 500])
def test_revoking_an_unknown_token_answers_200(security, token):
    response = security.client("web").revoke(token)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.attack("RFC 7009", "2.1 the server verifies the token was issued to the revoking client")
@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_another_client_cannot_revoke_a_token(security, kind):
    tokens, _ = tokens_of(security, "web")
    response = security.client("other").revoke(tokens[kind])
    assert response.status_code in (200, 400, 401)
    assert me_status(security.url, tokens["access_token"]) == 200
    assert security.client("web").refresh(tokens["refresh_token"]).status_code == 200


@pytest.mark.attack("RFC 7009", "2.1 revoking a refresh token revokes the access tokens of the same grant")
def test_revoking_a_refresh_token_ends_its_access_token(security):
    """Also SECURITY.md "revoking a refresh token kills its access tokens"."""
    tokens, _ = tokens_of(security, "web")
    web = security.client("web")
    assert web.revoke(tokens["refresh_token"]).status_code == 200
    assert me_status(security.url, tokens["access_token"]) == 401
    assert web.refresh(tokens["refresh_token"]).status_code == 400
    assert introspect(security, tokens["access_token"]).json() == {"active": False}


@pytest.mark.attack("RFC 7009", "2 revoking an access token ends it at once")
def test_a_revoked_access_token_is_refused_and_inactive(security):
    tokens, _ = tokens_of(security, "web")
    assert security.client("web").revoke(tokens["access_token"]).status_code == 200
    assert me_status(security.url, tokens["access_token"]) == 401
    assert introspect(security, tokens["access_token"]).json() == {"active": False}


@pytest.mark.attack("RFC 7662", "2.1 the introspection caller is authenticated")
@pytest.mark.parametrize("credentials", ["none", "wrong secret", "public client"])
def test_introspection_without_valid_client_credentials_says_nothing(security, credentials):
    """Also RFC 7662 4 (token scanning), SECURITY.md "Introspection: caller authenticated"."""
    tokens, _ = tokens_of(security, "web")
    introspector = security.client("introspector")
    data = {"token": tokens["access_token"]}
    headers = {}
    if credentials == "wrong secret":
        headers = {"Authorization": basic(introspector.client_id, "wrong")}
    elif credentials == "public client":
        data["client_id"] = security.data["clients"]["spa"]["client_id"]
    response = elsewhere().post(f"{security.url}/oauth/introspect/", data=data, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 401
    assert json_error(response) == "invalid_client"
    assert "active" not in response.json()


@pytest.mark.attack("RFC 7662", "2.2 a live token is active for its own client and a resource server")
@pytest.mark.parametrize("caller", ["web", "introspector"])
def test_a_live_token_is_active_with_its_claims(security, caller):
    tokens, _ = tokens_of(security, "web")
    answer = introspect(security, tokens["access_token"], caller).json()
    _header, claims, _signature = parts(tokens["access_token"])
    assert answer["active"] is True
    assert answer["sub"] == claims["sub"] and answer["client_id"] == security.client("web").client_id


def _not_fully_valid(security, case):
    tokens, browser = tokens_of(security, "web")
    token = tokens["access_token"]
    if case == "another client's token":
        return token, "other"
    if case == "session ended":
        assert browser.post("/accounts/logout/").status_code == 302
    elif case == "refresh token rotated away":
        security.client("web").refresh(tokens["refresh_token"])
        security.client("web").refresh(tokens["refresh_token"])  # reuse: the family is revoked
    elif case == "forged signature":
        header, claims, _signature = parts(token)
        token = compact(header, {**claims, "scope": "openid profile admin"}, b"\x00" * 256)
    elif case == "id token":
        token = tokens["id_token"]
    return token, "introspector"


NOT_FULLY_VALID = [
    "another client's token",
    "session ended",
    "refresh token rotated away",
    "forged signature",
    "id token",
]


@pytest.mark.attack("RFC 7662", '2.2 anything not fully valid → {"active": false} and nothing else')
@pytest.mark.parametrize("case", NOT_FULLY_VALID)
def test_a_token_that_is_not_fully_valid_is_inactive_and_nothing_more(security, case):
    """Also SECURITY.md "Introspection: expired, revoked, other audience, ended session →
    {"active": false} and nothing else", RFC 7662 4 (no information about inactive tokens)."""
    token, caller = _not_fully_valid(security, case)
    response = introspect(security, token, caller)
    assert response.status_code == 200
    assert response.json() == {"active": False}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.attack("RFC 7662", "2.1 token_type_hint is a hint: a wrong hint finds the token anyway")
def test_a_wrong_token_type_hint_does_not_hide_or_reveal_more(security):
    tokens, _ = tokens_of(security, "web")
    answer = introspect(security, tokens["access_token"], token_type_hint="refresh_token").json()
    assert answer["active"] is True
    unknown = introspect(security, "not-a-token", token_type_hint="access_token")
    assert unknown.json() == {"active": False}


@pytest.mark.attack("RFC 7662", "4 introspection is POST only; a token in the URL is refused")
def test_introspection_refuses_a_token_in_the_url(security):
    tokens, _ = tokens_of(security, "web")
    introspector = security.client("introspector")
    response = requests.post(
        f"{security.url}/oauth/introspect/?token={tokens['access_token']}",
        data={"token": tokens["access_token"]},
        headers={"Authorization": basic(introspector.client_id, introspector.secret)},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert json_error(response) == "invalid_request"


@pytest.mark.attack("RFC 7009", "2.1 token_type_hint is only a hint: a wrong one still revokes")
@pytest.mark.parametrize(("kind", "hint"), [("access_token", "refresh_token"), ("refresh_token", "access_token")])
def test_a_wrong_hint_still_revokes(security, kind, hint):
    tokens, _ = tokens_of(security, "web")
    web = security.client("web")
    assert web.post("/oauth/revoke/", {"token": tokens[kind], "token_type_hint": hint}).status_code == 200
    if kind == "access_token":
        assert me_status(security.url, tokens["access_token"]) == 401
    else:
        assert web.refresh(tokens["refresh_token"]).status_code == 400


@pytest.mark.attack("RFC 7009", "2.1 revocation is a POST; its answer is never cached")
@pytest.mark.parametrize("endpoint", ["/oauth/revoke/", "/oauth/introspect/"])
def test_revocation_and_introspection_refuse_get(security, endpoint):
    client = security.client("introspector")
    response = requests.get(
        f"{security.url}{endpoint}", headers={"Authorization": basic(client.client_id, client.secret)}, timeout=TIMEOUT
    )
    assert response.status_code == 405
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.attack("RFC 7662", "4 / RFC 9700 2.3: a client-credentials token is active for its own client only")
def test_a_client_credentials_token_is_not_visible_to_another_plain_client(security):
    token = security.client("service").post("/oauth/token/", {"grant_type": "client_credentials"}).json()
    assert introspect(security, token["access_token"], "service").json()["active"] is True
    assert introspect(security, token["access_token"], "web").json() == {"active": False}
