"""SQL query budgets for the hot paths (measured, then pinned: a regression fails here).

Counts are per request as the test sees them, inside the test transaction: where an endpoint
opens a transaction (`transaction.atomic`) it shows up here as one SAVEPOINT and one RELEASE
(in production BEGIN and COMMIT); nothing nested inside it opens a savepoint of its own.
Introspection (it only reads) and the client-credentials grant (its one write, the access
token's INSERT, is atomic by itself) run in autocommit: no transaction at all. Statements
proper, at the time of writing, once the process has met the client (oauth.client_cache: a
cached client costs no SQL; the first request of a client in a process, or the first after a
client changed, reads it once more): client credentials 1 (insert access token), and 1 in
all; code exchange 4 (grant, claim the grant, insert access and refresh token; with `openid`
the ID token's insert too) plus the code's SSO session; refresh 5 (the refresh token with its
access token and user; claim it and clear its pointer to its access token in one UPDATE;
delete that access token in one DELETE; insert the new pair) plus the session and the user's
not-before; introspection 1 (2 for a refresh token) plus the session and the not-before;
revocation 8 (the audit log's token.revoked INSERT included). In production
(bench/sqlcount.py, BEGIN and COMMIT counted, the fast path warm): client credentials 1, code
exchange with `openid` 7, refresh 7 (5 data statements).

Validating an access token (/api/me and every API): with Redis, one MGET and no SQL at all
(the token, its session and the user's not-before are all known to Redis); /api/me then reads
the user for its username (1). On the embedded default (no Redis) the revocation store asks
the database: the token row with user and client joined, the session, the not-before (3).
A session or not-before the fast path has not seen yet costs one query each, once.
"""

import os
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import PASSWORD
from oauth.resource import authenticate_bearer
from tests.e2e.helpers import client_credentials_token, creds, introspect, me, post_token, revoke

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _warm_key_cache(make_client):
    """Measure the steady state: signing and verification keys are loaded once per process
    (the root conftest forgets them before every test), so load them before counting."""
    warm = make_client(name="Warm-up", grant_types=["client_credentials"])
    me(client_credentials_token(warm)["access_token"])


# Steady state: the client is cached (one SELECT more for a client this process has not met).
BUDGET = {
    "client_credentials": 1,
    "code_exchange": 7,
    "refresh": 9,
    "introspect_access_token": 3,
    "introspect_refresh_token": 4,
    # The revocation check alone, and /api/me, at steady state (tokens issued and seen once).
    "bearer_check": 0 if os.environ.get("REDIS_URL") else 3,
    "api_me": 1 if os.environ.get("REDIS_URL") else 3,
    "revoke_access_token": 10,  # 9, and the audit log's token.revoked event
    # Unchanged by the (username, client_id) lockout: its check is the one aggregate the
    # (username, IP) check was; on PostgreSQL the advisory lock adds its SELECT. Measured on
    # the client's first request (its SELECT included): a warm-up would count a failure.
    "password": 10 + (connection.vendor == "postgresql"),
}
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")
# What the revocation store reads when its fast path does not know the session or not-before.
REVOCATION_STORE_TABLES = ('"sso_ssosession"', '"sso_usernotbefore"')


def shape(sql):
    """A statement as its verb and table, e.g. 'UPDATE oauth_refreshtoken'."""
    table = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', sql)
    return f"{sql.split()[0]} {table.group(1)}" if table else sql.split()[0]


@pytest.mark.rfc("6749", "4.4")
def test_client_credentials_budget(service, django_assert_max_num_queries):
    assert post_token({"grant_type": "client_credentials"}, auth=creds(service)).status_code == 200
    with django_assert_max_num_queries(BUDGET["client_credentials"]):
        response = post_token({"grant_type": "client_credentials"}, auth=creds(service))
    assert response.status_code == 200


def test_client_credentials_with_token_events_costs_one_insert_more(service, settings, django_assert_max_num_queries):
    settings.AUDIT_TOKEN_EVENTS = True  # off by default: the budget above holds without it
    assert post_token({"grant_type": "client_credentials"}, auth=creds(service)).status_code == 200
    with django_assert_max_num_queries(BUDGET["client_credentials"] + 1) as ctx:
        response = post_token({"grant_type": "client_credentials"}, auth=creds(service))
    assert response.status_code == 200
    assert shape(ctx.captured_queries[-1]["sql"]) == "INSERT audit_securityevent"


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
    """Rotation reads the refresh token once and writes set-based: 6 statements proper, plus
    the session and not-before checks (one each at most: without Redis, or the first time the
    fast path meets them), inside the view's transaction only (one SAVEPOINT here: no nested
    atomic opens another). The old access token goes in one DELETE, not through Django's
    collector (no SELECT of it, no separate UPDATE clearing the pointer to it)."""
    tokens = flow.tokens()
    with CaptureQueriesContext(connection) as captured:
        response = flow.refresh(tokens["refresh_token"])
    assert response.status_code == 200
    statements = [q["sql"] for q in captured.captured_queries]
    control = [sql for sql in statements if sql.startswith(TRANSACTION_CONTROL)]
    data = [sql for sql in statements if not sql.startswith(TRANSACTION_CONTROL)]
    assert [sql.split()[0] for sql in control] == ["SAVEPOINT", "RELEASE"], control
    revocation_store = [shape(sql) for sql in data if any(table in sql for table in REVOCATION_STORE_TABLES)]
    assert sorted(revocation_store) in (
        [],
        ["SELECT sso_ssosession"],
        ["SELECT sso_usernotbefore"],
        [
            "SELECT sso_ssosession",
            "SELECT sso_usernotbefore",
        ],
    ), revocation_store
    proper = [shape(sql) for sql in data if not any(table in sql for table in REVOCATION_STORE_TABLES)]
    assert proper == [
        "SELECT oauth_refreshtoken",  # with its access token and user joined
        "UPDATE oauth_refreshtoken",  # claim it, and clear its pointer to its access token
        "DELETE oauth_accesstoken",
        "INSERT oauth_accesstoken",
        "INSERT oauth_refreshtoken",
    ], data


@pytest.mark.rfc("6749", "4.3")
@pytest.mark.usefixtures("password_grant_enabled")
def test_password_grant_budget(password_client, user):
    """The client; in the lockout's transaction (a SAVEPOINT and its RELEASE, inside the
    request's) its advisory lock (PostgreSQL), the lockout check (one aggregate), the user,
    whether the user has a second factor; the access and refresh tokens' INSERTs."""
    data = {"grant_type": "password", "username": user.username, "password": PASSWORD}
    with CaptureQueriesContext(connection) as captured:
        response = post_token(data, auth=creds(password_client))
    assert response.status_code == 200
    shapes = [shape(q["sql"]) for q in captured.captured_queries]
    assert len(shapes) == BUDGET["password"], shapes
    assert "DELETE axes_accessattempt" not in shapes  # no failure counted: nothing to clear


@pytest.mark.rfc("6749", "4.3")
@pytest.mark.usefixtures("password_grant_enabled")
def test_a_password_grant_after_failures_clears_its_count(password_client, user):
    data = {"grant_type": "password", "username": user.username}
    post_token({**data, "password": "wrong"}, auth=creds(password_client))
    with CaptureQueriesContext(connection) as captured:
        response = post_token({**data, "password": PASSWORD}, auth=creds(password_client))
    assert response.status_code == 200
    shapes = [shape(q["sql"]) for q in captured.captured_queries]
    assert "DELETE axes_accessattempt" in shapes
    assert len(shapes) <= BUDGET["password"] + 3, shapes


@pytest.mark.rfc("6749", "6")
def test_only_the_refresh_token_points_to_an_access_token():
    """Rotation deletes the old access token with one DELETE after its claiming UPDATE cleared
    the refresh token's pointer (oauth.rotation.delete_access_token), bypassing Django's
    collector. That is right only while no other relation points to an access token: a new
    one must be handled there too (cleared or deleted) before this test is updated."""
    from oauth.models import AccessToken, RefreshToken

    relations = [(r.related_model, r.field.name) for r in AccessToken._meta.related_objects]
    assert relations == [(RefreshToken, "access_token")]


@pytest.mark.rfc("6749", "4.4")
def test_client_credentials_statements_and_no_transaction(service):
    """One write, in autocommit: no SAVEPOINT (in production no BEGIN, COMMIT). The client is
    read on its first request in this process only (oauth.client_cache); then it costs no SQL."""
    for expected in (["SELECT oauth_client", "INSERT oauth_accesstoken"], ["INSERT oauth_accesstoken"]):
        with CaptureQueriesContext(connection) as captured:
            response = post_token({"grant_type": "client_credentials"}, auth=creds(service))
        assert response.status_code == 200
        assert [shape(q["sql"]) for q in captured.captured_queries] == expected


@pytest.mark.rfc("6749", "4.4")
def test_a_changed_client_is_read_again(service):
    """Saving the client (the admin, a secret rotation) makes the next request read it again,
    and the one after that is a cache hit again."""
    client, _secret = service
    post_token({"grant_type": "client_credentials"}, auth=creds(service))
    client.save()
    shapes = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            assert post_token({"grant_type": "client_credentials"}, auth=creds(service)).status_code == 200
        shapes.append([shape(q["sql"]) for q in captured.captured_queries])
    assert shapes == [["SELECT oauth_client", "INSERT oauth_accesstoken"], ["INSERT oauth_accesstoken"]]


@pytest.mark.rfc("7662", "2")
def test_introspection_runs_without_a_transaction(flow, resource_server):
    tokens = flow.tokens()
    with CaptureQueriesContext(connection) as captured:
        assert introspect(tokens["access_token"], creds(resource_server)).json()["active"]
    assert not [q["sql"] for q in captured.captured_queries if q["sql"].startswith(TRANSACTION_CONTROL)]


@pytest.mark.rfc("7662", "2")
def test_introspection_budget(flow, resource_server, django_assert_max_num_queries):
    tokens = flow.tokens()
    assert not introspect("not-a-token", creds(resource_server)).json()["active"]  # meets the caller
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
    tokens = flow.tokens()  # the client is met (and cached) on the way
    with django_assert_max_num_queries(BUDGET["revoke_access_token"]):
        assert revoke(tokens["access_token"], (flow.client.client_id, flow.secret)).status_code == 200


def _statements(flow):
    """The statements of a code exchange with `openid`, and of a refresh, for `flow`'s client."""
    code, verifier = flow.code(scope="openid profile")
    with CaptureQueriesContext(connection) as exchange:
        response = flow.exchange(code, verifier)
    assert response.status_code == 200, response.content
    with CaptureQueriesContext(connection) as refresh:
        assert flow.refresh(response.json()["refresh_token"]).status_code == 200
    return response.json(), [shape(q["sql"]) for q in exchange.captured_queries + refresh.captured_queries]


@pytest.mark.rfc("9068", "2.2")
def test_per_client_lifetimes_and_audience_cost_nothing(flow, make_client, user):
    """A client's own lifetimes and audience are read from the client row already loaded: the
    same statements as for a client with the server's settings."""
    from conftest import Flow

    client, secret = make_client(
        name="Tuned",
        access_token_lifetime=120,
        refresh_token_lifetime=600,
        id_token_lifetime=300,
        audience=["https://a.example"],
    )
    tuned_flow = Flow(user, client, secret)
    for each in (flow, tuned_flow):
        _statements(each)  # this process meets each browser's session and the not-before once
    _, default = _statements(flow)
    tuned, statements = _statements(tuned_flow)
    assert tuned["expires_in"] == 120
    assert statements == default
    pair = make_client(name="Tuned service", grant_types=["client_credentials"], access_token_lifetime=90)
    with CaptureQueriesContext(connection) as captured:
        assert post_token({"grant_type": "client_credentials"}, auth=creds(pair)).json()["expires_in"] == 90
    assert [shape(q["sql"]) for q in captured.captured_queries] == ["SELECT oauth_client", "INSERT oauth_accesstoken"]
