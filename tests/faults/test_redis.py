"""Redis stopped, restarted empty, and restarted from an older snapshot, while the server
serves (DESIGN.md, "How a request flows", step 4; sso/revocation.py): logins, tokens and
revocation keep answering correctly, and nothing revoked is accepted beyond the window
(SSO_REVOCATION_CACHE_SECONDS, shortened to REVOCATION_WINDOW_SECONDS for these tests)."""

import time

import pytest
import requests

from .checks import assert_nothing_half_written
from .conftest import REVOCATION_WINDOW_SECONDS
from .flows import TIMEOUT, accepted, bearer, me

pytestmark = pytest.mark.timeout(300)  # the first test also waits for the world to start

PURGED = "Redis lost revocation writes"  # sso/revocation.py's warning when it purges


def log_out(browser):
    response = browser.post("/accounts/logout/")
    assert response.status_code == 302, response.status_code


def test_redis_stopped_then_restarted_empty(faults):
    client = faults.client()
    browser = faults.browser()
    before = client.tokens(browser)
    assert accepted(faults.url, before["access_token"])  # its facts are now in Redis
    faults.redis.stop()
    try:
        # Logins, codes, tokens, refreshes: all answer, from PostgreSQL alone.
        other = faults.browser()
        during = client.tokens(other)
        assert accepted(faults.url, during["access_token"])
        assert accepted(faults.url, before["access_token"])
        refreshed = client.refresh(before["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text
        refreshed = refreshed.json()
        assert not accepted(faults.url, before["access_token"])  # rotation revoked it
        assert accepted(faults.url, refreshed["access_token"])
        # Revocation is honoured at once: every process asks PostgreSQL.
        assert client.revoke(during["access_token"]).status_code == 200
        assert not accepted(faults.url, during["access_token"])
        assert client.introspect(during["access_token"]).json() == {"active": False}
        userinfo = requests.get(
            f"{faults.url}/oauth/userinfo/", headers=bearer(refreshed["access_token"]), timeout=TIMEOUT
        )
        assert userinfo.status_code == 200
        log_out(browser)
        assert not accepted(faults.url, refreshed["access_token"])  # its session ended
    finally:
        faults.redis.restart()  # empty: what it held is gone
    assert not accepted(faults.url, before["access_token"])
    assert not accepted(faults.url, during["access_token"])
    assert not accepted(faults.url, refreshed["access_token"])
    assert client.refresh(refreshed["refresh_token"]).status_code == 400
    after = client.tokens(other)
    assert accepted(faults.url, after["access_token"])
    assert accepted(faults.url, after["access_token"])  # now from Redis again
    assert "Internal Server Error" not in faults.server.log_text()
    assert_nothing_half_written(faults)


def test_an_older_snapshot_cannot_resurrect_a_revocation_beyond_the_window(faults):
    """The snapshot holds "live" marks of a token and a session revoked since. Every fast-path
    key lives at most the window after it was written, and Redis keeps each key's absolute
    expiry in its dump: so a restored mark dies at most the window after it was written,
    which is before the revocation plus the window. Sooner in practice: a server process that
    saw the revocations finds Redis' revocation counter lower than it knows, and purges the
    stale keys (sso/revocation.py, "Redis rolled back")."""
    client = faults.client()
    browser = faults.browser()
    marked_at = time.time()
    revoked = client.tokens(browser)  # to be revoked at the revocation endpoint
    logged_out = client.tokens(browser)  # to lose its session at logout
    for tokens in (revoked, logged_out):
        assert accepted(faults.url, tokens["access_token"])
    faults.redis.snapshot("older.rdb")
    assert client.revoke(revoked["access_token"]).status_code == 200
    log_out(browser)
    assert not accepted(faults.url, revoked["access_token"])
    assert not accepted(faults.url, logged_out["access_token"])
    purges = faults.server.log_text().count(PURGED)

    faults.redis.restart(from_snapshot="older.rdb")
    restored_at = time.time()
    stale = [key for key in faults.redis.client().keys("*sso:*") if faults.redis.client().get(key) == b"1"]
    assert stale, "the snapshot should hold live marks (else this test proves nothing)"
    deadline = marked_at + REVOCATION_WINDOW_SECONDS + 1  # +1: Redis expires keys to the millisecond
    seen = []
    while time.time() < deadline + 1:
        pair = accepted(faults.url, revoked["access_token"]), accepted(faults.url, logged_out["access_token"])
        seen.append((time.time() - restored_at, *pair))
        time.sleep(0.1)
    late = [(at, a, b) for at, a, b in seen if at + restored_at > deadline and (a or b)]
    assert not late, f"accepted after the window: {late}"
    # The server noticed the rollback and purged the stale keys: refused well before the window.
    assert faults.server.log_text().count(PURGED) > purges
    assert not [(at, a, b) for at, a, b in seen if at > 1.5 and (a or b)], seen
    # The logout revoked the session's refresh tokens in PostgreSQL, whatever Redis says.
    assert client.refresh(logged_out["refresh_token"]).status_code == 400
    assert_nothing_half_written(faults)


def test_redis_restarted_from_its_own_last_dump_keeps_revocations(faults):
    """A snapshot taken after the revocation holds its "-" markers: refused at once."""
    client = faults.client()
    browser = faults.browser()
    tokens = client.tokens(browser)
    assert accepted(faults.url, tokens["access_token"])
    assert client.revoke(tokens["access_token"]).status_code == 200
    faults.redis.snapshot("latest.rdb")
    faults.redis.restart(from_snapshot="latest.rdb")
    assert not accepted(faults.url, tokens["access_token"])
    assert me(faults.url, client.tokens(browser)["access_token"]).status_code == 200


def test_redis_that_hangs_costs_time_never_correctness(faults):
    """Redis frozen (accepting nothing, answering nothing): each call waits out the 1 s socket
    timeout, then the server asks PostgreSQL. Slower, never wrong, never a 5xx."""
    client = faults.client()
    browser = faults.browser()
    tokens = client.tokens(browser)
    assert accepted(faults.url, tokens["access_token"])
    faults.redis.freeze()
    try:
        started = time.monotonic()
        assert accepted(faults.url, tokens["access_token"])
        assert time.monotonic() - started < 10
        refreshed = client.refresh(tokens["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text
        refreshed = refreshed.json()
        assert client.revoke(refreshed["access_token"]).status_code == 200
        assert not accepted(faults.url, refreshed["access_token"])
        other = faults.browser()
        assert client.tokens(other)["access_token"]
    finally:
        faults.redis.thaw()
    assert not accepted(faults.url, refreshed["access_token"])
    assert accepted(faults.url, client.tokens(browser)["access_token"])
    assert "Internal Server Error" not in faults.server.log_text()
