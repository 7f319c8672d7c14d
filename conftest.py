"""Shared fixtures: users, clients, and helpers to walk the OAuth flows."""

import base64
import os
import re
import secrets
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import factory
import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client as BrowserClient

from oauth import client_cache, client_throttle, keys, pkce, tokens
from oauth.flows import create_client
from sso import revocation

PASSWORD = "correct horse battery staple"
REDIRECT_URI = "https://app.example.com/callback"

# The one spelling of the `rfc` marker: @pytest.mark.rfc("7636", "4.6") for an RFC (its number),
# @pytest.mark.rfc("OIDC-Core", "3.1.2.1") for an OpenID Connect specification; both strings.
RFC_MARKER_SPEC = re.compile(r"[0-9]{4}|OIDC-[A-Za-z-]+")

# The OIDF certification plans run against a live server of their own, by `make conformance`
# (tests/conformance/pytest.ini), not in `make test`.
collect_ignore = ["tests/conformance"]


def pytest_collection_modifyitems(items):
    for item in items:
        for mark in item.iter_markers("rfc"):
            spec = mark.args[0] if mark.args else None
            well_formed = len(mark.args) == 2 and all(isinstance(arg, str) for arg in mark.args) and not mark.kwargs
            if not (well_formed and RFC_MARKER_SPEC.fullmatch(spec)):
                raise pytest.UsageError(
                    f'{item.nodeid}: write the rfc marker as rfc("7636", "4.6") or rfc("OIDC-Core", "3.1"), '
                    f"not rfc{mark.args!r}"
                )


# CI's PostgreSQL + Redis run sets this: there, a test that needs a service it cannot find
# fails instead of skipping, so every test skipped on the embedded default runs somewhere.
REQUIRE_SERVICES = os.environ.get("IDENTITY_REQUIRE_SERVICES") == "1"


def _unavailable(reason):
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason}, but IDENTITY_REQUIRE_SERVICES=1 says it must be there")
    pytest.skip(reason)


def require_postgres(reason="needs PostgreSQL (set DATABASE_URL)"):
    """Skip (or, under IDENTITY_REQUIRE_SERVICES=1, fail) unless the database is PostgreSQL."""
    if connection.vendor != "postgresql":
        _unavailable(reason)


def require_redis(reason="needs Redis (set REDIS_URL)"):
    """Skip (or, under IDENTITY_REQUIRE_SERVICES=1, fail) unless REDIS_URL is set."""
    if not os.environ.get("REDIS_URL"):
        _unavailable(reason)


@pytest.fixture(autouse=True)
def _required_services(request):
    """Tests marked `postgres` need PostgreSQL (row locks, SKIP LOCKED, several processes);
    `@pytest.mark.postgres("why")` says what for, in the skip message on the embedded default."""
    marker = request.node.get_closest_marker("postgres")
    if marker:
        why = f": {marker.args[0]}" if marker.args else ""
        require_postgres(f"needs PostgreSQL{why} (set DATABASE_URL; CI's PostgreSQL run has it)")


def run_concurrently(function, count):
    """Run `function` in `count` threads released together; returns (results, errors).

    Each thread closes its own database connections when done."""
    barrier = threading.Barrier(count, timeout=30)
    results, errors = [], []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            result = function()
            with lock:
                results.append(result)
        except Exception as exc:  # handed back to the test, which asserts on it
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.fixture(autouse=True)
def _fast_hashers_and_clean_cache(settings):
    # Argon2 costs ~100 ms a hash: fine for people, slow for a test suite. The client-secret
    # hasher stays as configured, because its speed is part of what we test.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "oauth.hashers.ClientSecretHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
    cache.clear()
    client_throttle.reset()
    revocation.forget_seen_revocations()  # the cache was emptied on purpose, not rolled back
    client_cache.clear()  # a rolled-back client row sends no post_delete
    yield
    cache.clear()
    client_throttle.reset()
    revocation.forget_seen_revocations()
    client_cache.clear()


@pytest.fixture(autouse=True)
def _mail_sent_within_its_test():
    """accounts.mail sends from a background thread: a test's mail lands in its own outbox,
    never in the next test's."""
    yield
    from accounts.mail import wait_until_sent

    wait_until_sent()


@pytest.fixture(autouse=True)
def _fresh_keys():
    keys.reset()
    tokens.forget_verified_tokens()
    yield
    keys.reset()
    tokens.forget_verified_tokens()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.User"

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    # Hashed before the first save: a later save after set_password is a password change.
    password = factory.django.Password(PASSWORD)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def make_user(db):
    return UserFactory


@pytest.fixture
def live_server_hygiene(monkeypatch):
    """For tests against the live_server (tests/e2e/live, tests/browser, schemathesis): the server
    answers each HTTP connection in its own thread, which with CONN_MAX_AGE would keep its own
    database connection (blocking the test database's teardown on PostgreSQL), and a thread still
    running when the next test flushes the database fails. So no persistent connections, and each
    test waits (2 s at most) for the server's request threads to finish."""
    for alias in connections:
        monkeypatch.setitem(connections.settings[alias], "CONN_MAX_AGE", 0)
    yield
    deadline = time.monotonic() + 2
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(timeout=max(0, deadline - time.monotonic()))


@pytest.fixture
def password_grant_enabled(settings):
    """The deprecated password grant turned on (OAUTH_PASSWORD_GRANT_ENABLED, off by default)."""
    settings.OAUTH_PASSWORD_GRANT_ENABLED = True


@pytest.fixture
def mfa_not_required(settings):
    """MFA_REQUIRED=none: staff reach the admin console with the password alone. For tests of
    the admin that are not about two-factor authentication (accounts/mfa/policy.py)."""
    settings.MFA_REQUIRED = "none"


@pytest.fixture
def make_client(db):
    """create_client with test defaults; returns (client, secret)."""

    def make(**kwargs):
        kwargs.setdefault("name", "Test app")
        kwargs.setdefault("grant_types", ["authorization_code", "refresh_token"])
        if "authorization_code" in kwargs["grant_types"]:
            kwargs.setdefault("redirect_uris", [REDIRECT_URI])
        return create_client(**kwargs)

    return make


@pytest.fixture
def confidential(make_client):
    return make_client()


@pytest.fixture
def public(make_client):
    return make_client(public=True)[0]


@pytest.fixture
def service(make_client):
    return make_client(name="Service", grant_types=["client_credentials"], scopes="profile read")


def form_post(browser, url, data, **headers):
    """POST an application/x-www-form-urlencoded body, as OAuth clients do."""
    return browser.post(url, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded", **headers)


def basic(client_id, secret):
    raw = f"{client_id}:{secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def new_verifier():
    verifier = secrets.token_urlsafe(48)
    return verifier, pkce.s256(verifier)


class Flow:
    """Drives the authorization code flow through Django's test client, as a browser would."""

    def __init__(self, user, oauth_client, secret=None, redirect_uri=REDIRECT_URI):
        self.browser = BrowserClient()
        self.browser.force_login(user)
        self.client = oauth_client
        self.secret = secret
        self.redirect_uri = redirect_uri
        self.api = BrowserClient()

    def authorize_params(self, scope="profile", state="xyz", challenge=None, **extra):
        params = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(extra)
        return {k: v for k, v in params.items() if v is not None}

    def code(self, scope="profile", **extra):
        """Consent and return (code, verifier)."""
        verifier, challenge = new_verifier()
        params = self.authorize_params(scope=scope, challenge=challenge, **extra)
        response = self.browser.get("/oauth/authorize/", params)
        if response.status_code != 302:  # 302: a trusted client, or consent already given
            assert response.status_code == 200, response.content
            form = {**params, "allow": "Authorize"}
            response = self.browser.post("/oauth/authorize/", form)
            assert response.status_code == 302, response.content
        query = parse_qs(urlsplit(response["Location"]).query)
        return query["code"][0], verifier

    def token(self, **data):
        headers = {}
        if self.secret:
            headers["HTTP_AUTHORIZATION"] = basic(self.client.client_id, self.secret)
        else:
            data.setdefault("client_id", self.client.client_id)
        return form_post(self.api, "/oauth/token/", data, **headers)

    def exchange(self, code, verifier):
        return self.token(
            grant_type="authorization_code", code=code, redirect_uri=self.redirect_uri, code_verifier=verifier
        )

    def tokens(self, scope="profile"):
        code, verifier = self.code(scope=scope)
        response = self.exchange(code, verifier)
        assert response.status_code == 200, response.content
        return response.json()

    def refresh(self, refresh_token, **extra):
        return self.token(grant_type="refresh_token", refresh_token=refresh_token, **extra)


@pytest.fixture
def flow(user, confidential):
    client, secret = confidential
    return Flow(user, client, secret)


@pytest.fixture
def public_flow(user, public):
    return Flow(user, public)


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def shown_once(response, html_id):
    """The value an admin shown-once page (core.admin.shown_once_page) shows under `html_id`."""
    return {key: value for _, value, key in response.context["values"]}[html_id]
