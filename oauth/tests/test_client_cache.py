"""Clients cached per process (oauth.client_cache): a hit costs no SQL, and a changed, deleted or
re-keyed client is refused at once in this process, within the check interval in the others
(Redis), within the TTL when nothing told this process."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from conftest import require_redis
from oauth import client_cache, flows
from oauth.checks import client_cache_check
from oauth.models import Client
from sso import revocation
from tests.e2e.helpers import assert_oauth_error, client_credentials_token, creds, introspect, post_token, revoke

pytestmark = pytest.mark.django_db

CLIENT_CREDENTIALS = {"grant_type": "client_credentials"}


def token_status(pair):
    return post_token(CLIENT_CREDENTIALS, auth=pair).status_code


def client_reads(function):
    with CaptureQueriesContext(connection) as captured:
        function()
    return [q["sql"] for q in captured.captured_queries if 'FROM "oauth_client"' in q["sql"]]


def test_a_hit_costs_no_query_and_hands_out_a_private_copy(service, django_assert_num_queries):
    client, _ = service
    first = client_cache.get(client.client_id)
    with django_assert_num_queries(0):
        second = client_cache.get(client.client_id)
    assert first.pk == second.pk == client.pk and first is not second and first._state is not second._state
    second.name = "changed by one request"
    assert client_cache.get(client.client_id).name == client.name


def test_unknown_clients_are_not_cached(db):
    assert client_cache.get("nobody") is None
    assert len(client_reads(lambda: client_cache.get("nobody"))) == 1


@pytest.mark.rfc("6749", "2.3.1")
def test_token_introspection_and_revocation_read_a_cached_client_once(service, make_client):
    caller = make_client(name="Resource server", grant_types=["client_credentials"], can_introspect_any=True)
    token = client_credentials_token(service)["access_token"]
    assert client_reads(lambda: client_credentials_token(service)) == []
    assert len(client_reads(lambda: introspect(token, creds(caller)))) == 1  # the caller, first met
    assert client_reads(lambda: introspect(token, creds(caller))) == []
    assert client_reads(lambda: revoke(token, creds(service))) == []


@pytest.mark.rfc("6749", "2.3.1")
def test_a_rotated_secret_takes_effect_at_once(service):
    client, old = service
    assert token_status(creds(service)) == 200  # cached, with the old secret's hash
    new = flows.rotate_client_secret(client=client, actor=None)
    assert_oauth_error(post_token(CLIENT_CREDENTIALS, auth=(client.client_id, old)), "invalid_client", status=401)
    assert token_status((client.client_id, new)) == 200


@pytest.mark.rfc("6749", "5.2")
def test_a_deleted_client_is_refused_at_once(service):
    client, _ = service
    assert token_status(creds(service)) == 200
    Client.objects.get(pk=client.pk).delete()
    assert_oauth_error(post_token(CLIENT_CREDENTIALS, auth=creds(service)), "invalid_client", status=401)


@pytest.mark.rfc("6749", "5.2")
def test_a_client_whose_owner_is_deleted_is_refused_at_once(service, user):
    client, _ = service
    client.user = user
    client.save()
    assert token_status(creds(service)) == 200
    user.delete()  # cascades to the client: its post_delete is sent too
    assert not Client.objects.filter(pk=client.pk).exists()
    assert_oauth_error(post_token(CLIENT_CREDENTIALS, auth=creds(service)), "invalid_client", status=401)


@pytest.mark.rfc("6749", "5.2")
def test_a_grant_taken_away_is_refused_at_once(service):
    client, _ = service
    assert token_status(creds(service)) == 200
    client.grant_types = "authorization_code"
    client.redirect_uris = "https://app.example/cb"
    client.save()  # as the admin does
    assert_oauth_error(post_token(CLIENT_CREDENTIALS, auth=creds(service)), "unauthorized_client")


def test_a_bulk_update_is_seen_after_changed(service):
    """Queryset.update() sends no signal: its caller says so (client_cache.changed)."""
    client, _ = service
    assert token_status(creds(service)) == 200
    Client.objects.filter(pk=client.pk).update(grant_types="authorization_code")
    client_cache.changed()
    assert_oauth_error(post_token(CLIENT_CREDENTIALS, auth=creds(service)), "unauthorized_client")


def test_an_entry_expires_after_the_ttl(service, settings):
    """What bounds a change no signal and no Redis told this process of (another process
    without Redis, a bulk update): the entry's TTL."""
    settings.OAUTH_CLIENT_CACHE_SECONDS = 1
    settings.OAUTH_CLIENT_CACHE_CHECK_SECONDS = 1
    client, _ = service
    assert client_cache.get(client.client_id).grant_types == "client_credentials"
    Client.objects.filter(pk=client.pk).update(grant_types="authorization_code")
    assert client_cache.get(client.client_id).grant_types == "client_credentials"  # within the TTL
    time.sleep(1.05)
    assert client_cache.get(client.client_id).grant_types == "authorization_code"


def test_the_cache_can_be_turned_off(service, settings):
    settings.OAUTH_CLIENT_CACHE_SECONDS = 0
    client, _ = service
    client_cache.get(client.client_id)
    assert len(client_reads(lambda: client_cache.get(client.client_id))) == 1


# --- across processes, through Redis --------------------------------------------------------


@pytest.fixture
def redis():
    require_redis()
    return revocation.redis_client()


def test_a_change_publishes_a_new_generation_after_the_commit(service, redis, django_capture_on_commit_callbacks):
    client, _ = service
    before = redis.get(client_cache.generation_key())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.save()
    assert redis.get(client_cache.generation_key()) == before  # nothing before the commit
    for callback in callbacks:
        callback()
    after = redis.get(client_cache.generation_key())
    assert after is not None and after != before


def test_another_process_change_is_seen_within_the_check_interval(service, redis, settings):
    """Another process changed the client: the row (no signal here) and the generation it wrote
    after its commit. This process refuses the client once its check interval has passed."""
    settings.OAUTH_CLIENT_CACHE_SECONDS = 60
    settings.OAUTH_CLIENT_CACHE_CHECK_SECONDS = 0.5
    client, _ = service
    assert token_status(creds(service)) == 200
    assert token_status(creds(service)) == 200  # a cache hit: no read of the generation yet
    Client.objects.filter(pk=client.pk).update(grant_types="authorization_code")
    redis.set(client_cache.generation_key(), b"another process's change")
    time.sleep(0.55)
    assert_oauth_error(post_token(CLIENT_CREDENTIALS, auth=creds(service)), "unauthorized_client")


def test_a_deleted_generation_key_forgets_too(service, redis, settings):
    """Redis flushed, evicted, failed over: a missing (or older) value is a change, never
    "nothing changed"."""
    settings.OAUTH_CLIENT_CACHE_CHECK_SECONDS = 0
    client, _ = service
    redis.set(client_cache.generation_key(), b"seen")
    client_cache.get(client.client_id)
    assert client_reads(lambda: client_cache.get(client.client_id)) == []
    redis.delete(client_cache.generation_key())
    assert len(client_reads(lambda: client_cache.get(client.client_id))) == 1


def test_the_generation_is_read_at_most_once_per_interval(service, redis, settings):
    settings.OAUTH_CLIENT_CACHE_SECONDS = 60
    settings.OAUTH_CLIENT_CACHE_CHECK_SECONDS = 30
    client, _ = service
    client_cache.get(client.client_id)
    redis.set(client_cache.generation_key(), b"moved")
    # Within the interval the move is not seen (the price of no Redis round trip per request).
    assert client_reads(lambda: client_cache.get(client.client_id)) == []
    settings.OAUTH_CLIENT_CACHE_CHECK_SECONDS = 0
    assert len(client_reads(lambda: client_cache.get(client.client_id))) == 1


@pytest.mark.parametrize(
    ("ttl", "check", "ok"),
    [(10, 1, True), (0, 1, True), (0, 0, True), (300, 300, True), (301, 1, False), (-1, 0, False), (5, 6, False)],
)
def test_the_bounds_are_checked(settings, ttl, check, ok):
    settings.OAUTH_CLIENT_CACHE_SECONDS = ttl
    settings.OAUTH_CLIENT_CACHE_CHECK_SECONDS = check
    assert [e.id for e in client_cache_check(None)] == ([] if ok else ["oauth.E007"])


def test_a_redis_that_cannot_be_read_means_ask_the_database(service, redis, settings, caplog):
    """Redis unreachable (a refused connection, not a mock): the generation cannot be read, so
    the process forgets its clients and reads the row, and says so in the log."""
    settings.OAUTH_CLIENT_CACHE_CHECK_SECONDS = 0
    client, _ = service
    client_cache.get(client.client_id)
    assert client_reads(lambda: client_cache.get(client.client_id)) == []
    unreachable = {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/8"}
    with override_settings(CACHES={"default": unreachable}):
        assert len(client_reads(lambda: client_cache.get(client.client_id))) == 1
        assert len(client_reads(lambda: client_cache.get(client.client_id))) == 1
    assert "Client cache: Redis read failed" in caplog.text
