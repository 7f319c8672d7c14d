"""Attacks with refresh tokens: another client's, a wider scope, a rotated one replayed, a race
of refreshes, tokens of the wrong kind, and security events that must end them."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import PASSWORD
from tests.faults.flows import TIMEOUT

from .protocol import code_of, json_error, logged_in, me_status, spa_exchange, tokens_of


@pytest.mark.attack("RFC 6749", "10.4 / 6 a refresh token is bound to the client it was issued to")
def test_another_clients_refresh_token_is_invalid_grant(security):
    """Also SECURITY.md "Refresh tokens: bound to the client", RFC 6819 5.2.2.2."""
    tokens, _ = tokens_of(security, "web")
    stolen = security.client("other").refresh(tokens["refresh_token"])
    assert stolen.status_code == 400
    assert json_error(stolen) == "invalid_grant"
    assert "access_token" not in stolen.json()


@pytest.mark.attack("RFC 6749", "6 the scope of a refresh MUST NOT include any scope not originally granted")
@pytest.mark.parametrize(
    ("asked", "outcome"), [("openid profile email", 400), ("openid profile read", 400), ("openid", 200)]
)
def test_a_refresh_gets_no_scope_beyond_the_original_grant(security, asked, outcome):
    """Also SECURITY.md "scope on refresh ⊆ original grant (invalid_scope otherwise)"."""
    tokens, _ = tokens_of(security, "web")
    client = security.client("web")
    response = client.post(
        "/oauth/token/", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": asked}
    )
    assert response.status_code == outcome, response.text
    if outcome == 400:
        assert json_error(response) == "invalid_scope"
    else:
        assert response.json()["scope"] == "openid"


@pytest.mark.attack("RFC 9700", "4.14.2 refresh token rotation: reuse of a rotated token revokes the family")
def test_a_replayed_rotated_refresh_token_revokes_the_whole_family(security):
    """Also SECURITY.md "reuse of a rotated token revokes the whole family, access tokens
    included", RFC 6819 5.2.2.3."""
    client = security.client("web")
    first, _ = tokens_of(security, "web")
    second = client.refresh(first["refresh_token"])
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert me_status(security.url, second["access_token"]) == 200
    replay = client.refresh(first["refresh_token"])  # the attacker's copy of the old one
    assert replay.status_code == 400
    assert json_error(replay) == "invalid_grant"
    assert client.refresh(second["refresh_token"]).status_code == 400  # the legitimate successor too
    assert me_status(security.url, second["access_token"]) == 401
    assert me_status(security.url, first["access_token"]) == 401


@pytest.mark.attack("SECURITY.md", "Refresh tokens: concurrent refresh of one token: one successor chain, no 500")
def test_ten_refreshes_of_one_token_at_once_make_no_fork(security):
    client = security.client("web")
    tokens, _ = tokens_of(security, "web")
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _n: client.refresh(tokens["refresh_token"]), range(10)))
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 400}, statuses
    successors = [answer.json()["refresh_token"] for answer in answers if answer.status_code == 200]
    assert len(successors) == 1, statuses
    # Whatever the race decided, no two live chains: at most one successor still refreshes.
    alive = [token for token in successors if client.refresh(token).status_code == 200]
    assert len(alive) <= 1


@pytest.mark.attack("RFC 6749", "1.5 a refresh token is never sent to resource servers")
def test_a_refresh_token_is_not_an_access_token(security):
    tokens, _ = tokens_of(security, "web")
    assert me_status(security.url, tokens["refresh_token"]) == 401


@pytest.mark.attack("RFC 6819", "5.2.2.2 / 5.1.5.9 a token of another kind is no refresh token")
@pytest.mark.parametrize("kind", ["access_token", "id_token"])
def test_an_access_or_id_token_is_not_a_refresh_token(security, kind):
    tokens, _ = tokens_of(security, "web")
    response = security.client("web").refresh(tokens[kind])
    assert response.status_code == 400
    assert json_error(response) == "invalid_grant"


@pytest.mark.attack("SECURITY.md", "Refresh tokens: security events (global logout, password change) revoke them")
@pytest.mark.parametrize("event", ["logout", "logout everywhere", "password change"])
def test_a_security_event_ends_the_users_refresh_tokens(security, event):
    """A logout ends the session the tokens were issued in (DESIGN.md: sso announces ended
    sessions, oauth revokes their tokens)."""
    tokens, browser = tokens_of(security, "web")
    if event == "logout":
        response = browser.post("/accounts/logout/")
    elif event == "logout everywhere":
        response = browser.post("/accounts/sessions/logout-everywhere/")
    else:
        new = PASSWORD + "-changed-9"
        response = browser.post(
            "/accounts/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
        )
    assert response.status_code == 302, response.text[:500]
    refreshed = security.client("web").refresh(tokens["refresh_token"])
    assert refreshed.status_code == 400
    assert json_error(refreshed) == "invalid_grant"
    assert me_status(security.url, tokens["access_token"]) == 401


def spa_tokens(security):
    spa = security.data["clients"]["spa"]
    code, verifier, _ = code_of(logged_in(security), spa["client_id"], redirect_uri=spa["redirect_uris"][0])
    response = spa_exchange(security, code, verifier)
    assert response.status_code == 200
    return response.json()


def spa_refresh(security, refresh_token):
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": security.data["clients"]["spa"]["client_id"],
    }
    return requests.post(f"{security.url}/oauth/token/", data=data, timeout=TIMEOUT)


@pytest.mark.attack("RFC 9700", "2.2.2 / 4.14.2 a public client's refresh tokens rotate and reuse revokes them")
def test_a_public_clients_replayed_refresh_token_revokes_the_family(security):
    """A public client cannot authenticate: rotation is what makes a stolen refresh token
    detectable (also RFC 6819 5.2.2.3)."""
    first = spa_tokens(security)
    second = spa_refresh(security, first["refresh_token"])
    assert second.status_code == 200
    second = second.json()
    replay = spa_refresh(security, first["refresh_token"])
    assert replay.status_code == 400 and json_error(replay) == "invalid_grant"
    assert spa_refresh(security, second["refresh_token"]).status_code == 400
    assert me_status(security.url, second["access_token"]) == 401


@pytest.mark.attack("RFC 6749", "10.4 a public client's refresh token is bound to it")
def test_a_public_clients_refresh_token_is_useless_to_another_client(security):
    tokens = spa_tokens(security)
    stolen = security.client("web").refresh(tokens["refresh_token"])
    assert stolen.status_code == 400 and json_error(stolen) == "invalid_grant"
    assert spa_refresh(security, tokens["refresh_token"]).status_code == 200
