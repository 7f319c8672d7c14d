"""The API hot path: what validating an access token costs, and that Redis faults cost speed,
never correctness (a revoked token is never accepted, a valid one is not refused)."""

import pytest
from django.test import override_settings

from conftest import bearer
from oauth import resource
from sso import revocation
from tests.e2e.helpers import me, revoke

from .conftest import DEAD_REDIS, CountingRedis

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cold_subjects():
    resource.forget_subjects()
    yield
    resource.forget_subjects()


@pytest.fixture
def issued(devices, django_capture_on_commit_callbacks):
    """A live token and a revoked one, of two sessions of one user (all committed)."""
    laptop, phone = devices
    with django_capture_on_commit_callbacks(execute=True):
        live, revoked = laptop.tokens(), phone.tokens()
    with django_capture_on_commit_callbacks(execute=True):
        assert revoke(revoked["access_token"], (phone.client.client_id, phone.secret)).status_code == 200
    return live["access_token"], revoked["access_token"]


def test_with_redis_a_valid_token_costs_one_mget_and_no_sql(redis, issued, monkeypatch, django_assert_num_queries):
    live, _ = issued
    resource.authenticate_bearer(live)  # warm: this process learns the subject's pk
    counter = CountingRedis(redis)
    monkeypatch.setattr(revocation, "redis_client", lambda: counter)
    with django_assert_num_queries(0):
        verified = resource.authenticate_bearer(live)
    assert counter.commands == ["mget"]
    assert verified.claims["sid"] and verified.scopes == {"profile"}


def test_with_redis_api_me_costs_one_query_for_the_username(redis, issued, django_assert_num_queries):
    live, _ = issued
    assert me(live).status_code == 200
    with django_assert_num_queries(1):  # the user row: /api/me shows the username
        assert me(live).status_code == 200


def test_with_redis_the_user_is_loaded_only_when_asked_for(redis, issued, django_assert_num_queries):
    live, _ = issued
    resource.authenticate_bearer(live)
    verified = resource.authenticate_bearer(live)
    with django_assert_num_queries(1):
        assert verified.user.is_active
    with django_assert_num_queries(0):
        assert verified.user.subject == verified.claims["sub"]


def test_embedded_default_asks_the_database(locmem, issued, django_assert_num_queries):
    live, revoked = issued
    with django_assert_num_queries(3):  # the token row (with user and client), session, not-before
        verified = resource.authenticate_bearer(live)
    with django_assert_num_queries(0):
        assert verified.user.is_active and verified.client is not None
    with pytest.raises(resource.BearerError):
        resource.authenticate_bearer(revoked)


def test_redis_unreachable_revoked_refused_valid_accepted(issued):
    live, revoked = issued
    with override_settings(CACHES=DEAD_REDIS):
        assert revocation.redis_client() is not None
        assert me(live).status_code == 200
        assert me(revoked).status_code == 401


def test_redis_flushed_revoked_refused_valid_accepted(redis, issued):
    live, revoked = issued
    assert me(live).status_code == 200
    redis.flushdb()
    assert me(revoked).status_code == 401
    assert me(live).status_code == 200
    redis.flushdb()
    assert me(live).status_code == 200
    assert me(revoked).status_code == 401


def test_redis_unreachable_during_global_logout_still_refuses(
    redis, devices, issued, django_capture_on_commit_callbacks
):
    """Redis down while the user logs out everywhere: the revocation lands in PostgreSQL, and
    every process that cannot reach Redis asks PostgreSQL."""
    live, _ = issued
    laptop, _ = devices
    with override_settings(CACHES=DEAD_REDIS):
        with django_capture_on_commit_callbacks(execute=True):
            response = laptop.api.post("/api/sessions/logout-all", **bearer(live))
        assert response.status_code == 204
        assert me(live).status_code == 401


def test_a_token_whose_user_is_gone_is_refused(redis, user, issued):
    live, _ = issued
    user.delete()
    assert me(live).status_code == 401
