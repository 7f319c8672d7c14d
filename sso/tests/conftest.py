"""Fixtures for the SSO tests: browsers that log in, sessions, and Redis in three states."""

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from conftest import PASSWORD, require_redis
from sso import revocation
from sso.flows import SID_SESSION_KEY
from sso.models import SSOSession

LOGIN = "/accounts/login/"
PROFILE = "/accounts/profile/"


def log_in(user, *, device="Firefox on Linux", ip="203.0.113.7"):
    """A browser (Django test client) that logged in through the login form."""
    browser = Client(HTTP_USER_AGENT=device, REMOTE_ADDR=ip)
    response = browser.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return browser


def session_of(browser):
    """The SSOSession bound to this browser."""
    return SSOSession.objects.get(sid=browser.session[SID_SESSION_KEY])


def is_logged_in(browser):
    return browser.get(PROFILE).status_code == 200


def make_session(user, **fields):
    """An SSOSession row made directly (no browser), active unless `fields` say otherwise."""
    now = timezone.now()
    values = {
        "created_at": now,
        "last_seen_at": now,
        "idle_expires_at": now + timedelta(hours=8),
        "expires_at": now + timedelta(days=14),
        "amr": ["pwd"],
        "authenticated_at": now,
    }
    values.update(fields)
    return SSOSession.objects.create(user=user, **values)


class CountingRedis:
    """Wraps the raw Redis client and records each command sent (a pipeline counts once)."""

    def __init__(self, real):
        self.real = real
        self.commands = []

    def __getattr__(self, name):
        attr = getattr(self.real, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            self.commands.append(name)
            return attr(*args, **kwargs)

        return call


@pytest.fixture
def redis(db):
    """The real Redis behind the default cache, emptied; skips without REDIS_URL."""
    require_redis()
    client = revocation.redis_client()
    assert client is not None, "REDIS_URL is set but the default cache is not django-redis"
    client.flushdb()
    revocation.forget_seen_revocations()
    yield client
    client.flushdb()
    revocation.forget_seen_revocations()


@pytest.fixture
def counting_redis(redis, monkeypatch):
    counter = CountingRedis(redis)
    monkeypatch.setattr(revocation, "redis_client", lambda: counter)
    return counter


DEAD_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "KEY_PREFIX": "identity",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
    }
}


@pytest.fixture
def dead_redis(db):
    """The default cache is django-redis on a port where nothing listens."""
    with override_settings(CACHES=DEAD_REDIS):
        assert revocation.redis_client() is not None
        yield


@pytest.fixture
def locmem(db):
    """The embedded default: no Redis at all."""
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        assert revocation.redis_client() is None
        yield
