"""Role-based access control, attacked from outside: escalation by scope (asking for roles one
does not hold), by role (a reader handing out roles), by refresh (widening the scope), and
tokens that outlive a role change."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.faults.flows import TIMEOUT, bearer

from .surfaces import authorize_location, claims_of, code_in

SOURCE = "OWASP ASVS"


def _tokens(security, username, scope="openid roles permissions", client="rbac"):
    return security.client(client).tokens(security.browser(username), scope=scope)


def _admin_token(security):
    return _tokens(security, security.data["rbac"]["admin"], scope="openid roles")["access_token"]


def _api(method, security, path, token):
    return requests.request(method, f"{security.url}{path}", headers=bearer(token), timeout=TIMEOUT)


def _sub(tokens):
    return claims_of(tokens["id_token"])["sub"]


@pytest.mark.attack(SOURCE, "V8.2 / V10.3 escalation by scope: asking for roles one does not hold grants none")
def test_asking_for_the_roles_scope_grants_no_role(security):
    tokens = _tokens(security, security.new_user())
    claims = claims_of(tokens["access_token"])
    assert claims.get("roles", []) == [] and claims.get("permissions", []) == []
    assert _api("GET", security, "/api/admin/users/", tokens["access_token"]).status_code == 403


@pytest.mark.attack(SOURCE, "V10.3 escalation by scope: a client not allowed `permissions` cannot ask for it")
def test_a_client_not_allowed_the_permissions_scope_gets_no_permissions(security):
    # `permissions` is an explicit scope: a client with no scope list (web) is not allowed it.
    browser = security.browser(security.data["rbac"]["admin"])
    web = security.data["clients"]["web"]
    response = authorize_location(browser, web["client_id"], security.data["redirect_uri"], "openid permissions")
    assert code_in(response) is None
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["invalid_scope"]


@pytest.mark.attack(SOURCE, "V8.2 escalation by role: a reader (auditor) cannot hand out roles")
@pytest.mark.parametrize("target", ["self", "other"])
def test_a_reader_cannot_assign_roles(security, target):
    auditor = _tokens(security, security.data["rbac"]["auditor"], scope="openid roles")
    assert _api("GET", security, "/api/admin/users/", auditor["access_token"]).status_code == 200
    other = _tokens(security, security.new_user(), scope="openid")
    sub = _sub(auditor) if target == "self" else _sub(other)
    response = _api("PUT", security, f"/api/admin/users/{sub}/roles/admin", auditor["access_token"])
    assert response.status_code == 403
    again = _tokens(security, security.data["rbac"]["auditor"], scope="openid roles")
    assert claims_of(again["access_token"])["roles"] == ["auditor"]


@pytest.mark.attack(SOURCE, "V8.2 escalation by role: a reader cannot disable users or log them out")
@pytest.mark.parametrize("action", ["disable", "logout-everywhere"])
def test_a_reader_cannot_act_on_users(security, action):
    auditor = _tokens(security, security.data["rbac"]["auditor"], scope="openid roles")
    victim = _tokens(security, security.new_user(), scope="openid profile")
    response = _api("POST", security, f"/api/admin/users/{_sub(victim)}/{action}", auditor["access_token"])
    assert response.status_code == 403
    assert _api("GET", security, "/api/me", victim["access_token"]).status_code == 200


@pytest.mark.attack("RFC 6749", "6 escalation by refresh: a refresh cannot add the roles scope (invalid_scope)")
@pytest.mark.parametrize("scope", ["openid roles", "openid permissions", "openid profile email roles permissions"])
def test_a_refresh_cannot_widen_the_scope(security, scope):
    tokens = _tokens(security, security.data["rbac"]["admin"], scope="openid")
    response = security.client("rbac").post(
        "/oauth/token/", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": scope}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


@pytest.mark.attack(SOURCE, "V10.3 a role change refuses tokens issued before it (assignment)")
def test_a_role_assignment_refuses_earlier_tokens(security):
    username = security.new_user()
    before = _tokens(security, username, scope="openid profile roles")
    assert claims_of(before["access_token"])["roles"] == []
    response = _api("PUT", security, f"/api/admin/users/{_sub(before)}/roles/auditor", _admin_token(security))
    assert response.status_code == 200, response.text
    assert _api("GET", security, "/api/me", before["access_token"]).status_code == 401
    time.sleep(1.1)  # iat is whole seconds: a token of the bump's own second is refused too
    after = _tokens(security, username, scope="openid roles")
    assert claims_of(after["access_token"])["roles"] == ["auditor"]


@pytest.mark.attack(SOURCE, "V10.3 a removed role stops working at once (tokens carrying it refused)")
def test_a_role_removal_refuses_tokens_that_carry_it(security):
    username = security.new_user()
    sub = _sub(_tokens(security, username, scope="openid"))
    admin = _admin_token(security)
    assert _api("PUT", security, f"/api/admin/users/{sub}/roles/auditor", admin).status_code == 200
    time.sleep(1.1)  # iat is whole seconds: a token of the bump's own second is refused too
    holder = _tokens(security, username, scope="openid roles")
    assert _api("GET", security, "/api/admin/users/", holder["access_token"]).status_code == 200
    assert _api("DELETE", security, f"/api/admin/users/{sub}/roles/auditor", admin).status_code == 200
    assert _api("GET", security, "/api/admin/users/", holder["access_token"]).status_code == 401
    refreshed = security.client("rbac").refresh(holder["refresh_token"])
    if refreshed.status_code == 200:  # a refresh may go on, with what the user holds now
        assert claims_of(refreshed.json()["access_token"]).get("roles") == []
        assert _api("GET", security, "/api/admin/users/", refreshed.json()["access_token"]).status_code == 403
    else:
        assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


@pytest.mark.attack(SOURCE, "V8.2 an unknown role cannot be assigned (404), nothing is created")
def test_an_unknown_role_cannot_be_assigned(security):
    sub = _sub(_tokens(security, security.new_user(), scope="openid"))
    response = _api("PUT", security, f"/api/admin/users/{sub}/roles/superadmin", _admin_token(security))
    assert response.status_code == 404
    assert security.sql("SELECT count(*) FROM rbac_role WHERE name = 'superadmin'")[0][0] == 0


@pytest.mark.attack(SOURCE, "V50 CSRF: the admin API in a browser session refuses a write without the CSRF token")
def test_the_admin_api_by_session_needs_the_csrf_token(security):
    admin = security.browser(security.data["rbac"]["admin"])
    sub = _sub(_tokens(security, security.new_user(), scope="openid"))
    response = admin.http.put(
        f"{security.url}/api/admin/users/{sub}/roles/admin",
        headers={"Origin": "https://evil.example"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 403
    check = _api("GET", security, f"/api/admin/users/{sub}", _admin_token(security))
    assert check.status_code == 200 and "admin" not in str(check.json().get("roles"))


@pytest.mark.attack(SOURCE, "V8.2 a token without the roles scope speaks for no role (insufficient_scope)")
def test_an_administrators_token_without_the_roles_scope_is_not_an_admin(security):
    tokens = _tokens(security, security.data["rbac"]["admin"], scope="openid")
    response = _api("GET", security, "/api/admin/users/", tokens["access_token"])
    assert response.status_code == 403
    assert "insufficient_scope" in response.headers.get("WWW-Authenticate", "")
