"""/api/admin/users/ and /api/admin/dashboard: who may call them (401 vs 403), and what they do."""

import pytest
from django.test import Client as BrowserClient

from conftest import PASSWORD, Flow, bearer
from rbac import flows as rbac
from sso.models import SSOSession, UserNotBefore

from .conftest import is_logged_in, log_in

pytestmark = pytest.mark.django_db
USERS = "/api/admin/users/"
DASHBOARD = "/api/admin/dashboard"


@pytest.fixture(autouse=True)
def _roles():
    rbac.seed_default_roles()


def holding(user, *roles):
    for role in roles:
        rbac.assign_role(user=user, role=role)
    UserNotBefore.objects.filter(user=user).delete()  # as if long ago (iat is in whole seconds)
    return user


@pytest.fixture
def token_of(confidential):
    client, secret = confidential

    def token(user, scope="roles"):
        return Flow(user, client, secret).tokens(scope=scope)["access_token"]

    return token


def can_log_in(username):
    response = BrowserClient().post("/accounts/login/", {"username": username, "password": PASSWORD})
    return response.status_code == 302


def api(token=None):
    return BrowserClient(**(bearer(token) if token else {}))


def test_no_token_is_401_with_the_challenge():
    for url in (USERS, DASHBOARD):
        response = BrowserClient().get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert BrowserClient().get(USERS, HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401


def test_a_token_without_the_roles_scope_is_403_insufficient_scope(user, token_of):
    holding(user, "admin")
    response = api(token_of(user, scope="profile")).get(USERS)
    assert response.status_code == 403
    assert (
        'error="insufficient_scope"' in response["WWW-Authenticate"] and 'scope="roles"' in response["WWW-Authenticate"]
    )


def test_a_user_without_the_role_is_403(user, token_of):
    holding(user, "user")
    for url in (USERS, DASHBOARD):
        response = api(token_of(user)).get(url)
        assert response.status_code == 403
        assert response.json()["error"] == "insufficient_scope"


def test_an_auditor_reads_users_but_changes_nothing(user, make_user, token_of):
    holding(user, "auditor")
    token = token_of(user)
    assert api(token).get(USERS).status_code == 200
    assert api(token).get(DASHBOARD).status_code == 403  # admin or operator only
    target = make_user()
    assert api(token).post(f"{USERS}{target.subject}/disable").status_code == 403
    target.refresh_from_db()
    assert target.is_active


def test_list_search_and_pages(user, make_user, token_of):
    holding(user, "operator")
    for n in range(3):
        make_user(username=f"searchme{n}")
    token = token_of(user)
    body = api(token).get(USERS, {"q": "searchme", "page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert [u["username"] for u in body["results"]] == ["searchme0", "searchme1"]
    second = api(token).get(USERS, {"q": "searchme", "page_size": 2, "page": 2}).json()
    assert [u["username"] for u in second["results"]] == ["searchme2"]
    mine = api(token).get(USERS, {"role": "operator"}).json()["results"]
    assert [(u["sub"], u["roles"]) for u in mine] == [(user.subject, ["operator"])]
    assert "password" not in mine[0]
    assert api(token).get(USERS, {"page": 99}).status_code == 404


def test_create_a_user(user, token_of):
    holding(user, "admin")
    response = api(token_of(user)).post(
        USERS,
        {"username": "newbie", "email": "newbie@example.com", "password": PASSWORD, "roles": ["auditor"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["roles"] == ["auditor"] and response.json()["is_active"]
    assert can_log_in("newbie")


def test_create_refuses_bad_input_and_changes_nothing(user, make_user, token_of):
    holding(user, "admin")
    taken = make_user()
    cases = [
        {"username": taken.username, "email": "x@example.com", "password": PASSWORD},
        {"username": "ok", "email": "ok@example.com", "password": "123"},
        {"username": "ok", "email": "ok@example.com", "password": PASSWORD, "roles": ["emperor"]},
        {"username": "bad name!", "email": "ok@example.com", "password": PASSWORD},
    ]
    token = token_of(user)
    for data in cases:
        response = api(token).post(USERS, data, content_type="application/json")
        assert response.status_code == 400, (data, response.content)
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="ok").exists()


def test_an_operator_cannot_create_a_user_with_roles(user, token_of):
    holding(user, "operator")
    data = {"username": "sneaky", "email": "s@example.com", "password": PASSWORD, "roles": ["admin"]}
    response = api(token_of(user)).post(USERS, data, content_type="application/json")
    assert response.status_code == 403
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="sneaky").exists()


def test_disable_ends_sessions_and_enable_restores(user, make_user, token_of):
    holding(user, "operator")
    target = make_user()
    browser = log_in(target)
    token = token_of(user)
    response = api(token).post(f"{USERS}{target.subject}/disable")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert not is_logged_in(browser)
    assert not can_log_in(target.username)
    assert api(token).post(f"{USERS}{target.subject}/enable").json()["is_active"] is True
    assert can_log_in(target.username)


def test_an_operator_cannot_disable_an_admin_nor_themselves(user, make_user, token_of):
    holding(user, "operator")
    boss = holding(make_user(), "admin")
    token = token_of(user)
    assert api(token).post(f"{USERS}{boss.subject}/disable").status_code == 403
    assert api(token).post(f"{USERS}{boss.subject}/logout-everywhere").status_code == 403
    assert api(token).post(f"{USERS}{user.subject}/disable").status_code == 409
    boss.refresh_from_db()
    assert boss.is_active


def test_roles_are_assigned_and_removed_by_admins_only(user, make_user, token_of):
    target = make_user()
    holding(user, "operator")
    url = f"{USERS}{target.subject}/roles/auditor"
    assert api(token_of(user)).put(url).status_code == 403
    admin = holding(make_user(), "admin")
    token = token_of(admin)
    assert api(token).put(url).json()["roles"] == ["auditor"]
    assert api(token).put(url).json()["roles"] == ["auditor"]  # idempotent
    assert api(token).delete(url).json()["roles"] == []
    assert api(token).put(f"{USERS}{target.subject}/roles/emperor").status_code == 404
    assert api(token).put(f"{USERS}not-a-user/roles/auditor").status_code == 404


def test_a_role_change_refuses_the_users_earlier_tokens(user, make_user, token_of, django_capture_on_commit_callbacks):
    admin = holding(make_user(), "admin")
    holding(user, "auditor")
    victim_token = token_of(user)
    assert api(victim_token).get(USERS).status_code == 200  # (the fast path now knows the user)
    admin_token = token_of(admin)
    with django_capture_on_commit_callbacks(execute=True):  # the fast path learns at commit
        api(admin_token).delete(f"{USERS}{user.subject}/roles/auditor")
    assert api(victim_token).get(USERS).status_code == 401


def test_logout_everywhere(user, make_user, token_of):
    holding(user, "operator")
    target = make_user()
    browser = log_in(target)
    response = api(token_of(user)).post(f"{USERS}{target.subject}/logout-everywhere")
    assert response.status_code == 204
    assert not is_logged_in(browser)
    assert not SSOSession.objects.filter(user=target, revoked_at__isnull=True).exists()


def test_session_login_works_with_csrf(user, make_user):
    holding(user, "operator")
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.get(USERS).status_code == 200
    target = make_user()
    assert browser.post(f"{USERS}{target.subject}/disable").status_code == 403  # no CSRF token
    target.refresh_from_db()
    assert target.is_active


def test_dashboard_counts(user, make_user, token_of):
    holding(user, "operator")
    log_in(make_user())
    token = token_of(user)
    body = api(token).get(DASHBOARD).json()
    assert body["users"] == 2 and body["active_users"] == 2
    assert body["clients"] == 1 and body["active_sessions"] >= 2  # the operator's flow logged in too
    assert body["tokens_issued_last_hour"] == 1
    assert "generated_at" in body


def test_a_client_credentials_token_has_no_roles(service):
    from tests.e2e.helpers import client_credentials_token

    token = client_credentials_token(service, scope="profile")["access_token"]
    response = api(token).get(DASHBOARD)
    assert response.status_code == 403
