"""Scale-out (issue 4, item 9): two app processes sharing PostgreSQL and Redis behave as one.
A logout through one is honoured by the other at once.

Two `manage.py runserver --noreload` processes serve the test database (committed data:
transactional test) with the test's Redis; the test talks to them over HTTP only.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.contrib.auth.hashers import make_password
from django.db import connection

from conftest import PASSWORD, require_postgres, require_redis
from tests.e2e.helpers import creds

ROOT = Path(__file__).resolve().parents[3]
ISSUER = "http://127.0.0.1:8000"  # shared by both processes: tokens of one verify at the other


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def servers(transactional_db, settings):
    require_postgres("two processes need a shared PostgreSQL (set DATABASE_URL)")
    require_redis("two processes need a shared Redis (set REDIS_URL)")
    settings.ISSUER = ISSUER
    settings.ACCESS_TOKEN_AUDIENCE = f"{ISSUER}/api"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "ISSUER": ISSUER,
        "DEBUG": "true",
        "CONN_MAX_AGE": "0",
        "LOG_LEVEL": "WARNING",
        "OAUTH_PASSWORD_GRANT_ENABLED": "true",  # the test's tokens come from the password grant
    }
    processes, urls = [], []
    for _ in range(2):
        port = free_port()
        processes.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            wait_until_up(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def wait_until_up(url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/health/live", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass  # not listening yet
        time.sleep(0.1)
    raise AssertionError(f"{url} did not start")


def password_tokens(url, user, pair):
    response = requests.post(
        f"{url}/oauth/token/",
        data={"grant_type": "password", "username": user.username, "password": PASSWORD, "scope": "profile"},
        auth=creds(pair),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def me(url, token):
    return requests.get(f"{url}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_a_global_logout_through_one_process_is_honoured_by_the_other_at_once(servers, user, password_client):
    one, other = servers
    # The tests hash passwords with MD5 for speed; the servers only know production hashers.
    user.password = make_password(PASSWORD, hasher="argon2")
    user.save(update_fields=["password"])
    first = password_tokens(one, user, password_client)
    second = password_tokens(other, user, password_client)
    for url in servers:  # both processes have seen (and cached) both tokens as valid
        assert me(url, first["access_token"]).status_code == 200
        assert me(url, second["access_token"]).status_code == 200

    response = requests.post(
        f"{one}/api/sessions/logout-all", headers={"Authorization": f"Bearer {first['access_token']}"}, timeout=10
    )
    assert response.status_code == 204

    for url in (other, one):
        for tokens in (first, second):
            refused = me(url, tokens["access_token"])
            assert refused.status_code == 401, (url, refused.text)
    response = requests.post(
        f"{other}/oauth/token/",
        data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        auth=creds(password_client),
        timeout=10,
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def client_credentials_status(url, auth):
    response = requests.post(f"{url}/oauth/token/", data={"grant_type": "client_credentials"}, auth=auth, timeout=10)
    return response.status_code


def refused_within(url, auth, seconds):
    """Seconds until `url` refuses `auth` (401), polling; fails after `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if client_credentials_status(url, auth) == 401:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{url} still accepts the client after {seconds} s")


def test_a_changed_or_deleted_client_is_refused_by_every_process_within_the_check_interval(servers, service):
    """Clients are cached per process (oauth.client_cache); an operator's change (here, from a
    third process: this test) is announced through Redis after its commit, and every process
    reads that at most OAUTH_CLIENT_CACHE_CHECK_SECONDS (1 s) later: the documented bound. The
    slack covers a loaded machine (polling, request time); the TTL (10 s) would be far later."""
    from django.conf import settings as django_settings

    from oauth import flows

    bound = django_settings.OAUTH_CLIENT_CACHE_CHECK_SECONDS + 1.5
    client, old = service
    for url in servers:  # both processes have cached the client with its old secret's hash
        assert client_credentials_status(url, creds(service)) == 200
        assert client_credentials_status(url, creds(service)) == 200
    new = flows.rotate_client_secret(client=client, actor=None)
    for url in servers:
        assert refused_within(url, (client.client_id, old), bound) < bound
        assert client_credentials_status(url, (client.client_id, new)) == 200
    client.delete()
    for url in servers:
        assert refused_within(url, (client.client_id, new), bound) < bound
