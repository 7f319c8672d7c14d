"""PostgreSQL stopped, and PostgreSQL too slow (statements cut by the statement timeout), while
the server serves: every endpoint answers a clean 503 with Retry-After, in JSON or HTML as the
endpoint speaks, never a 500; nothing is half-written; the server recovers without a restart."""

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .checks import HTML, JSON, assert_nothing_half_written, assert_unavailable
from .flows import TIMEOUT, Browser, authorize_params, bearer, me

pytestmark = pytest.mark.timeout(300)  # the first test also waits for the world to start


def everything(world):
    """One request per endpoint family, each as a real caller makes it: (name, kind, send)."""
    url = world.url
    browser = world.browser()
    client = world.client()
    tokens = client.tokens(browser)
    access, refresh = tokens["access_token"], tokens["refresh_token"]
    stranger = Browser(url)
    stranger.csrf_token()  # the login page, while the database still answers
    password = secrets.token_urlsafe(12)
    newcomer = f"newcomer-{secrets.token_hex(4)}"
    params = authorize_params(client.client_id, "openid profile", "x" * 43)
    return [
        ("GET /api/me", JSON, lambda: me(url, access)),
        ("GET userinfo", JSON, lambda: requests.get(f"{url}/oauth/userinfo/", headers=bearer(access), timeout=TIMEOUT)),
        (
            "GET /api/sessions/",
            JSON,
            lambda: requests.get(f"{url}/api/sessions/", headers=bearer(access), timeout=TIMEOUT),
        ),
        ("refresh", JSON, lambda: client.refresh(refresh)),
        ("introspection", JSON, lambda: client.introspect(access)),
        ("revocation", JSON, lambda: client.revoke(access)),
        (
            "POST /api/users/",
            JSON,
            lambda: requests.post(
                f"{url}/api/users/",
                json={"username": newcomer, "email": f"{newcomer}@example.com", "password": password},
                timeout=TIMEOUT,
            ),
        ),
        ("authorization endpoint", HTML, lambda: browser.get("/oauth/authorize/", params=params)),
        ("profile page", HTML, lambda: browser.get("/accounts/profile/")),
        (
            "RP-initiated logout",
            HTML,
            lambda: browser.get("/oauth/logout/", params={"id_token_hint": tokens["id_token"]}),
        ),
        ("logout", HTML, lambda: browser.post("/accounts/logout/")),
        ("login POST", HTML, lambda: stranger.start_login(world.new_user())),
        (
            "registration form",
            HTML,
            lambda: stranger.post(
                "/accounts/register/",
                {"username": newcomer, "email": f"{newcomer}@example.com", "password": password},
            ),
        ),
    ], (browser, client, tokens)


def test_postgres_stopped_answers_503_everywhere_and_recovers(faults):
    requests_, (browser, client, tokens) = everything(faults)
    faults.pg.stop()
    try:
        for name, kind, send in requests_:
            assert_unavailable(send(), kind), name
        assert requests.get(f"{faults.url}/health/ready", timeout=TIMEOUT).status_code == 503
        assert requests.get(f"{faults.url}/health/live", timeout=TIMEOUT).status_code == 200
    finally:
        faults.pg.start()
    # Recovered without a restart: the same browser, token and refresh token work again.
    assert requests.get(f"{faults.url}/health/ready", timeout=TIMEOUT).status_code == 200
    assert me(faults.url, tokens["access_token"]).status_code == 200
    assert browser.get("/accounts/profile/").status_code == 200
    assert client.refresh(tokens["refresh_token"]).status_code == 200
    assert client.tokens(faults.browser())["access_token"]
    assert "Internal Server Error" not in faults.server.log_text()
    assert_nothing_half_written(faults)


class TablesLocked:
    """Hold ACCESS EXCLUSIVE locks on every table from a connection of our own: a statement
    touching one waits until the server's statement timeout cancels it."""

    def __init__(self, world):
        self.conn = world.pg.connect(autocommit=False)
        tables = [row[0] for row in self.conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        self.conn.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.conn.rollback()
        self.conn.close()


def test_postgres_too_slow_answers_503_everywhere_and_recovers(faults):
    requests_, (browser, client, tokens) = everything(faults)
    with TablesLocked(faults), ThreadPoolExecutor(len(requests_)) as pool:
        started = time.monotonic()
        answers = list(pool.map(lambda request: request[2](), requests_))
        assert time.monotonic() - started < 15  # each cut by the statement timeout, not the worker's
    for (name, kind, _), response in zip(requests_, answers, strict=True):
        assert_unavailable(response, kind), name
    assert me(faults.url, tokens["access_token"]).status_code == 200
    assert browser.get("/accounts/profile/").status_code == 200
    assert client.refresh(tokens["refresh_token"]).status_code == 200
    assert "Internal Server Error" not in faults.server.log_text()
    assert_nothing_half_written(faults)


def test_writes_cut_by_the_timeout_leave_nothing_half_written(faults):
    """Code redemptions and refreshes that the database stalls in the middle: whatever the
    outcome of each, no token without its pair, no redeemed code without its tokens."""
    client = faults.client()
    browser = faults.browser()
    codes = [browser.authorize(client.client_id) for _ in range(4)]
    pairs = [client.tokens(browser) for _ in range(4)]
    results = []

    def send(call):
        results.append(call().status_code)

    with faults.pg.connect(autocommit=False) as conn:
        # Writes to the refresh-token table wait; reads and the other writes go through.
        conn.execute("LOCK TABLE oauth_refreshtoken IN EXCLUSIVE MODE")
        calls = [lambda c=c: client.exchange(*c) for c in codes]
        calls += [lambda p=p: client.refresh(p["refresh_token"]) for p in pairs]
        threads = [threading.Thread(target=send, args=(call,)) for call in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        conn.rollback()
    assert sorted(set(results)) == [503], results
    assert_nothing_half_written(faults)
    # The stalled requests changed nothing: the same refresh tokens work now.
    assert all(client.refresh(p["refresh_token"]).status_code == 200 for p in pairs)
