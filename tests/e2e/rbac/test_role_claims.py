"""The `roles` and `permissions` claims: released by their scopes into access tokens, ID tokens,
UserInfo and introspection; never more than the user holds (scope requested ∩ allowed to the
client ∩ held), on every grant, refresh included; one query, and only when asked."""

import pytest
from django.test import Client as BrowserClient

from conftest import bearer
from rbac import flows as rbac
from rbac.flows import seed_default_roles
from sso.models import UserNotBefore
from tests.e2e.helpers import assert_oauth_error, creds, introspect, jwt_parts, post_token
from tests.e2e.oidc import USERINFO_URL

pytestmark = pytest.mark.django_db

ROLES_TABLE = '"rbac_roleassignment"'


@pytest.fixture(autouse=True)
def _roles():
    seed_default_roles()


def long_ago(user):
    """Forget the user's not-before, as if their roles had changed long ago (a token's `iat` is
    in whole seconds: one issued in the second of a change is refused with the older ones)."""
    UserNotBefore.objects.filter(user=user).delete()


@pytest.fixture
def operator(user):
    rbac.assign_role(user=user, role="operator")
    long_ago(user)
    return user


def test_no_roles_scope_no_roles_claim(flow, operator):
    _, claims = jwt_parts(flow.tokens(scope="profile")["access_token"])
    assert "roles" not in claims and "permissions" not in claims


def test_the_roles_scope_puts_the_held_roles_in_the_access_token(flow, operator):
    body = flow.tokens(scope="profile roles")
    _, claims = jwt_parts(body["access_token"])
    assert claims["roles"] == ["operator"]
    assert "permissions" not in claims
    assert body["scope"] == "profile roles"


def test_a_user_without_roles_gets_an_empty_list(flow, user):
    _, claims = jwt_parts(flow.tokens(scope="roles")["access_token"])
    assert claims["roles"] == []


def test_permissions_need_a_client_that_lists_the_scope(flow, operator):
    # The fixture's client lists no scopes: every scope but `permissions`.
    assert "permissions" not in flow.client.scope_list and "roles" in flow.client.scope_list
    assert "error=invalid_scope" in _authorize(flow, "roles permissions")["Location"]


def _authorize(flow, scope):
    from conftest import new_verifier

    _, challenge = new_verifier()
    response = flow.browser.get("/oauth/authorize/", flow.authorize_params(scope=scope, challenge=challenge))
    assert response.status_code == 302, response.content
    return response


@pytest.fixture
def permission_flow(make_client, operator):
    from conftest import Flow

    client, secret = make_client(name="Console", scopes="openid profile roles permissions")
    return Flow(operator, client, secret)


def test_a_client_allowed_permissions_gets_them(permission_flow):
    body = permission_flow.tokens(scope="openid roles permissions")
    _, claims = jwt_parts(body["access_token"])
    assert claims["roles"] == ["operator"]
    assert "clients.manage" in claims["permissions"] and "keys.manage" not in claims["permissions"]
    _, id_claims = jwt_parts(body["id_token"])
    assert id_claims["roles"] == ["operator"] and id_claims["permissions"] == claims["permissions"]


def test_the_id_token_carries_roles_only_with_the_scope(flow, operator):
    _, without = jwt_parts(flow.tokens(scope="openid profile")["id_token"])
    assert "roles" not in without
    _, with_roles = jwt_parts(flow.tokens(scope="openid roles")["id_token"])
    assert with_roles["roles"] == ["operator"]


def test_userinfo_releases_roles_by_scope(flow, operator):
    plain = flow.tokens(scope="openid profile")["access_token"]
    assert "roles" not in BrowserClient().get(USERINFO_URL, **bearer(plain)).json()
    token = flow.tokens(scope="openid roles")["access_token"]
    answer = BrowserClient().get(USERINFO_URL, **bearer(token)).json()
    assert answer["roles"] == ["operator"]


def test_introspection_answers_the_tokens_roles(flow, operator, confidential):
    token = flow.tokens(scope="profile roles")["access_token"]
    answer = introspect(token, creds(confidential)).json()
    assert answer["active"] and answer["roles"] == ["operator"]
    assert "roles" not in introspect(flow.tokens()["access_token"], creds(confidential)).json()


def test_refresh_reads_the_roles_held_now(flow, operator):
    body = flow.tokens(scope="profile roles")
    rbac.assign_role(user=operator, role="auditor")
    long_ago(operator)
    refreshed = flow.refresh(body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.content
    _, claims = jwt_parts(refreshed.json()["access_token"])
    assert claims["roles"] == ["auditor", "operator"]


def test_a_role_change_refuses_the_refresh_token_too(flow, operator):
    body = flow.tokens(scope="profile roles")
    rbac.remove_role(user=operator, role="operator")
    assert_oauth_error(flow.refresh(body["refresh_token"]), "invalid_grant")


@pytest.mark.rfc("6749", "6")
def test_refresh_cannot_add_the_roles_scope(flow, operator):
    body = flow.tokens(scope="profile")
    assert_oauth_error(flow.refresh(body["refresh_token"], scope="profile roles"), "invalid_scope")


def test_refresh_may_narrow_and_drop_the_roles(flow, operator):
    body = flow.tokens(scope="profile roles")
    refreshed = flow.refresh(body["refresh_token"], scope="profile")
    assert refreshed.status_code == 200, refreshed.content
    assert "roles" not in jwt_parts(refreshed.json()["access_token"])[1]


def test_client_credentials_never_carry_roles(make_client):
    pair = make_client(name="Daemon", grant_types=["client_credentials"], scopes="profile roles permissions")
    body = post_token({"grant_type": "client_credentials", "scope": "roles permissions"}, auth=creds(pair))
    assert body.status_code == 200, body.content
    _, claims = jwt_parts(body.json()["access_token"])
    assert "roles" not in claims and "permissions" not in claims


def test_a_client_not_allowed_roles_cannot_get_them(make_client, operator):
    from conftest import Flow

    client, secret = make_client(name="Narrow", scopes="profile")
    assert "error=invalid_scope" in _authorize(Flow(operator, client, secret), "profile roles")["Location"]


@pytest.mark.usefixtures("password_grant_enabled")
def test_password_grant_roles(make_client, operator):
    from conftest import PASSWORD

    pair = make_client(name="Legacy", grant_types=["password"], scopes="profile roles")
    body = post_token(
        {"grant_type": "password", "username": operator.username, "password": PASSWORD, "scope": "roles"},
        auth=creds(pair),
    )
    assert body.status_code == 200, body.content
    assert jwt_parts(body.json()["access_token"])[1]["roles"] == ["operator"]


def _role_queries(captured):
    return [q["sql"] for q in captured.captured_queries if ROLES_TABLE in q["sql"]]


def test_the_roles_cost_one_query_and_only_when_asked(permission_flow):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    code, verifier = permission_flow.code(scope="openid profile")
    with CaptureQueriesContext(connection) as captured:
        assert permission_flow.exchange(code, verifier).status_code == 200
    assert _role_queries(captured) == []
    code, verifier = permission_flow.code(scope="openid roles permissions")
    with CaptureQueriesContext(connection) as captured:
        assert permission_flow.exchange(code, verifier).status_code == 200
    assert len(_role_queries(captured)) == 1  # the access token's and the ID token's, shared
