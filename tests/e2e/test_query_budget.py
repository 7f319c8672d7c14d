"""SQL query budgets for the hot paths (measured, then pinned: a regression fails here).

Counts are per request as the test sees them, inside the test transaction: the token and
revocation endpoints' `transaction.atomic` shows up as one SAVEPOINT and one RELEASE (in
production BEGIN and COMMIT); nothing nested inside it opens a savepoint of its own.
Introspection runs in autocommit (it only reads): no transaction at all. Statements proper, at
the time of writing: client credentials 2 (client, insert access token); code exchange 6
(grant, client, claim the grant, insert access and refresh token) plus the code's SSO session;
refresh 7 (client; the refresh token with its access token and user; claim it; clear its
pointer to and delete its access token; insert the new pair) plus the session and the user's
not-before; introspection 2 (3 for a refresh token) plus the session and the not-before;
revocation 8.

Validating an access token (/api/me and every API): with Redis, one MGET and no SQL at all
(the token, its session and the user's not-before are all known to Redis); /api/me then reads
the user for its username (1). On the embedded default (no Redis) the revocation store asks
the database: the token row with user and client joined, the session, the not-before (3).
A session or not-before the fast path has not seen yet costs one query each, once.
"""

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oauth.resource import authenticate_bearer
from tests.e2e.helpers import client_credentials_token, creds, introspect, me, post_token, revoke

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _warm_key_cache(make_client):
    """Measure the steady state: signing and verification keys are loaded once per process
    (the root conftest forgets them before every test), so load them before counting."""
    warm = make_client(name="Warm-up", grant_types=["client_credentials"])
    me(client_credentials_token(warm)["access_token"])


BUDGET = {
    "client_credentials": 4,
    "code_exchange": 8,
    "refresh": 11,
    "introspect_access_token": 4,
    "introspect_refresh_token": 5,
    # The revocation check alone, and /api/me, at steady state (tokens issued and seen once).
    "bearer_check": 0 if os.environ.get("REDIS_URL") else 3,
    "api_me": 1 if os.environ.get("REDIS_URL") else 3,
    "revoke_access_token": 10,
}
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


@pytest.mark.rfc("6749", "4.4")
def test_client_credentials_budget(service, django_assert_max_num_queries):
    with django_assert_max_num_queries(BUDGET["client_credentials"]):
        response = post_token({"grant_type": "client_credentials"}, auth=creds(service))
    assert response.status_code == 200


@pytest.mark.rfc("6749", "4.1.3")
def test_code_exchange_budget(flow, django_assert_max_num_queries):
    code, verifier = flow.code()
    with django_assert_max_num_queries(BUDGET["code_exchange"]):
        response = flow.exchange(code, verifier)
    assert response.status_code == 200


@pytest.mark.rfc("OIDC-Core", "3.1.3")
def test_code_exchange_with_openid_budget(flow, django_assert_max_num_queries):
    """The ID token costs one statement: its row's INSERT (signed once, never re-parsed)."""
    code, verifier = flow.code(scope="openid profile")
    with django_assert_max_num_queries(BUDGET["code_exchange"] + 1):
        response = flow.exchange(code, verifier)
    assert response.status_code == 200
    assert response.json()["id_token"]


@pytest.mark.rfc("6749", "6")
def test_refresh_budget(flow, django_assert_max_num_queries):
    tokens = flow.tokens()
    with django_assert_max_num_queries(BUDGET["refresh"]):
        response = flow.refresh(tokens["refresh_token"])
    assert response.status_code == 200


@pytest.mark.rfc("6749", "6")
def test_refresh_statements_and_no_nested_savepoint(flow):
    """Rotation reads the refresh token once and writes set-based: 7 statements proper, plus
    the session and not-before checks (up to 2 more: without Redis, or the first time the fast
    path meets them), inside the view's transaction only (one SAVEPOINT here: no nested
    atomic opens another)."""
    tokens = flow.tokens()
    with CaptureQueriesContext(connection) as captured:
        response = flow.refresh(tokens["refresh_token"])
    assert response.status_code == 200
    statements = [q["sql"] for q in captured.captured_queries]
    control = [sql for sql in statements if sql.startswith(TRANSACTION_CONTROL)]
    data = [sql for sql in statements if not sql.startswith(TRANSACTION_CONTROL)]
    assert [sql.split()[0] for sql in control] == ["SAVEPOINT", "RELEASE"], control
    assert len(data) <= 7 + 2, data
    assert sum(sql.startswith('SELECT "oauth_refreshtoken"') for sql in data) == 1, data


@pytest.mark.rfc("7662", "2")
def test_introspection_runs_without_a_transaction(flow, resource_server):
    tokens = flow.tokens()
    with CaptureQueriesContext(connection) as captured:
        assert introspect(tokens["access_token"], creds(resource_server)).json()["active"]
    assert not [q["sql"] for q in captured.captured_queries if q["sql"].startswith(TRANSACTION_CONTROL)]


@pytest.mark.rfc("7662", "2")
def test_introspection_budget(flow, resource_server, django_assert_max_num_queries):
    tokens = flow.tokens()
    with django_assert_max_num_queries(BUDGET["introspect_access_token"]):
        access = introspect(tokens["access_token"], creds(resource_server))
    with django_assert_max_num_queries(BUDGET["introspect_refresh_token"]):
        refresh = introspect(tokens["refresh_token"], creds(resource_server))
    assert access.json()["active"] and refresh.json()["active"]


@pytest.mark.rfc("6750", "2.1")
def test_api_me_budget(flow, service, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # issuance tells the fast path
        user_token = flow.tokens()["access_token"]
        client_token = client_credentials_token(service, scope="profile")["access_token"]
    for token in (user_token, client_token):
        assert me(token).status_code == 200  # this process meets the user once
        with django_assert_max_num_queries(BUDGET["api_me"]):
            assert me(token).status_code == 200


@pytest.mark.rfc("6750", "2.1")
def test_bearer_check_budget(flow, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        token = flow.tokens()["access_token"]
    authenticate_bearer(token)
    with django_assert_max_num_queries(BUDGET["bearer_check"]):
        authenticate_bearer(token)


@pytest.mark.rfc("7009", "2")
def test_revocation_budget(flow, django_assert_max_num_queries):
    tokens = flow.tokens()
    with django_assert_max_num_queries(BUDGET["revoke_access_token"]):
        assert revoke(tokens["access_token"], (flow.client.client_id, flow.secret)).status_code == 200
