"""Failed client authentications are limited per client_id and per client IP (oauth.client_throttle):
429 `invalid_client` with `Retry-After`, never cached; a success costs no round trip to the
counter store. On the embedded default (Django's cache) and, with REDIS_URL, on Redis."""

import pytest
from django.core.cache import caches

from conftest import require_redis
from oauth import client_throttle
from tests.e2e.helpers import assert_oauth_error, creds, introspect, post_token, revoke

pytestmark = pytest.mark.django_db

CLIENT_CREDENTIALS = {"grant_type": "client_credentials"}


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.CLIENT_AUTH_FAILURE_LIMIT = 3
    settings.CLIENT_AUTH_IP_FAILURE_LIMIT = 5
    settings.CLIENT_AUTH_FAILURE_WINDOW_SECONDS = 300


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, moved by hand."""

    class Clock:
        now = 1_800_000_000.0  # a window boundary (divisible by 300)

        def time(self):
            return self.now

    fake = Clock()
    monkeypatch.setattr(client_throttle, "time", fake)
    return fake


def wrong(client_id, ip="203.0.113.1"):
    return post_token(CLIENT_CREDENTIALS, auth=(client_id, "wrong secret"), REMOTE_ADDR=ip)


def right(pair, ip="203.0.113.1"):
    return post_token(CLIENT_CREDENTIALS, auth=creds(pair), REMOTE_ADDR=ip)


def assert_throttled(response, max_retry_after=300):
    body = assert_oauth_error(response, "invalid_client", status=429)
    assert "Too many failed client authentications" in body["error_description"]
    assert 1 <= int(response["Retry-After"]) <= max_retry_after
    return body


@pytest.mark.rfc("6749", "5.2")
def test_failures_over_the_client_limit_answer_429_but_the_right_secret_still_works(service, clock):
    client_id = service[0].client_id
    for i in range(3):  # each from its own IP: only the per-client count reaches its limit
        assert_oauth_error(wrong(client_id, ip=f"203.0.113.{i + 10}"), "invalid_client", status=401)
    clock.now += 100
    response = wrong(client_id, ip="203.0.113.20")
    assert_throttled(response)
    assert response["Retry-After"] == "200"  # the end of the fixed window
    # client_ids are public: the real client is not locked out by someone else's failures.
    assert right(service, ip="203.0.113.20").status_code == 200


@pytest.mark.rfc("6749", "5.2")
def test_an_ip_over_its_limit_is_refused_even_with_the_right_secret(service):
    for i in range(5):
        assert_oauth_error(wrong(f"guess-{i}"), "invalid_client", status=401)
    assert_throttled(wrong("guess-5"))
    assert_throttled(right(service))
    assert right(service, ip="198.51.100.9").status_code == 200  # another address is not


@pytest.mark.rfc("6749", "5.2")
def test_the_client_recovers_after_the_window(service, clock):
    for i in range(6):
        wrong(f"guess-{i}")
    assert_throttled(right(service))
    clock.now += 300
    assert right(service).status_code == 200
    assert_oauth_error(wrong("guess-7"), "invalid_client", status=401)  # a new window counts anew


@pytest.mark.rfc("6749", "5.2")
def test_successes_do_not_count_and_do_not_touch_the_counters(service, monkeypatch):
    def no_counting(*args, **kwargs):
        raise AssertionError("a success must not reach the counter store")

    monkeypatch.setattr(client_throttle, "_increment", no_counting)
    for _ in range(8):
        assert right(service).status_code == 200


@pytest.mark.rfc("7662", "2.3")
def test_introspection_failures_are_counted(service):
    client_id = service[0].client_id
    for _ in range(3):
        assert_oauth_error(introspect("x", (client_id, "wrong")), "invalid_client", status=401)
    assert_throttled(introspect("x", (client_id, "wrong")))


@pytest.mark.rfc("7009", "2.2.1")
def test_revocation_failures_are_counted(service):
    client_id = service[0].client_id
    for _ in range(3):
        assert revoke("x", (client_id, "wrong")).status_code == 401
    assert_throttled(revoke("x", (client_id, "wrong")))


@pytest.mark.rfc("6749", "5.2")
@pytest.mark.usefixtures("password_grant_enabled")
def test_other_errors_are_not_counted(service):
    for _ in range(6):
        assert_oauth_error(post_token({"grant_type": "password"}, auth=creds(service)), "invalid_request")
    assert_oauth_error(wrong(service[0].client_id), "invalid_client", status=401)


@pytest.mark.rfc("6749", "5.2")
def test_an_unreachable_counter_store_keeps_the_401(service, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def unreachable(*args, **kwargs):
        raise RedisConnectionError("down")

    monkeypatch.setattr(client_throttle, "_increment", unreachable)
    for _ in range(6):
        assert_oauth_error(wrong(service[0].client_id), "invalid_client", status=401)
    assert right(service).status_code == 200


def test_the_counters_live_on_redis_for_one_window(service, clock):
    require_redis()
    from django_redis import get_redis_connection

    wrong(service[0].client_id)
    redis = get_redis_connection("default")
    keys = redis.keys(caches["default"].make_key("oauth:client-auth-failures:*"))
    assert len(keys) == 2  # one per client_id, one per IP
    for key in keys:
        assert redis.get(key) == b"1"
        assert 0 < redis.ttl(key) <= 300
    assert service[0].client_id.encode() not in b"".join(keys)  # hashed


def _lockout_events():
    from audit.models import SecurityEvent

    return list(SecurityEvent.objects.filter(event="client.auth_locked_out").order_by("pk"))


def test_a_client_lockout_is_recorded_once_in_the_audit_log(service, clock):
    client_id = service[0].client_id
    for i in range(3):
        wrong(client_id, ip=f"203.0.113.{i + 10}")
    assert _lockout_events() == []  # at the limit, not over it
    for i in range(4):  # over it: only the first of these starts the lockout
        assert_throttled(wrong(client_id, ip=f"203.0.113.{i + 30}"))
    [event] = _lockout_events()
    assert event.client_id == client_id and event.outcome == "failure"
    assert event.ip_address == "203.0.113.30" and event.actor_id is None
    assert event.detail == {"by": "client_id", "limit": 3, "window_seconds": 300}
    assert "wrong secret" not in str(event.detail)
    clock.now += 300  # the next window: a new lockout is a new event
    for i in range(4):
        wrong(client_id, ip=f"203.0.113.{i + 50}")
    assert len(_lockout_events()) == 2


def test_an_ip_lockout_is_recorded_once_in_the_audit_log(service):
    for i in range(5):
        wrong(f"guess-{i}")
    assert_throttled(wrong("guess-5"))
    assert_throttled(wrong("guess-6"))  # refused before authentication: not counted again
    assert_throttled(right(service))
    events = _lockout_events()
    assert [e.detail["by"] for e in events] == ["ip"]
    assert events[0].ip_address == "203.0.113.1" and events[0].client_id == "guess-5"
