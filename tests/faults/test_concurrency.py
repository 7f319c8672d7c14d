"""Concurrency on PostgreSQL, against the live server (two gunicorn workers of ten threads
each: twenty requests really at once, on twenty database connections). The same races are
checked in-process, with eight threads, in tests/e2e/rfc6749 and accounts/mfa/tests; here they
go through HTTP, the WSGI server and the connection handling production has."""

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from .checks import assert_nothing_half_written
from .flows import Browser, accepted

pytestmark = pytest.mark.timeout(300)  # the first test also waits for the world to start

ATTEMPTS = 20


def together(calls):
    """Run the zero-argument callables in threads released at once; their results, in order."""
    barrier = threading.Barrier(len(calls), timeout=30)
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # handed back to the test, which asserts on it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def outcome(response):
    if isinstance(response, Exception):
        return repr(response)
    return response.status_code, response.json().get("error") if response.status_code == 400 else None


@pytest.mark.rfc("6749", "4.1.2")
def test_twenty_redemptions_of_one_code_have_one_winner_whose_tokens_are_revoked(faults):
    client = faults.client()
    code, verifier = faults.browser().authorize(client.client_id)
    responses = together([lambda: client.exchange(code, verifier)] * ATTEMPTS)
    outcomes = [outcome(r) for r in responses]
    assert sorted(outcomes, key=str) == sorted([(200, None)] + [(400, "invalid_grant")] * (ATTEMPTS - 1), key=str)
    winner = next(r.json() for r in responses if r.status_code == 200)
    # The code was used more than once: what it granted is revoked (RFC 6749 4.1.2, 10.5).
    assert not accepted(faults.url, winner["access_token"])
    assert client.refresh(winner["refresh_token"]).status_code == 400
    assert_nothing_half_written(faults)


@pytest.mark.rfc("9700", "4.14.2")
def test_twenty_refreshes_of_one_token_make_one_pair_and_a_replay_revokes_the_family(faults):
    client = faults.client()
    first = client.tokens(faults.browser())
    responses = together([lambda: client.refresh(first["refresh_token"])] * ATTEMPTS)
    outcomes = [outcome(r) for r in responses]
    assert sorted(outcomes, key=str) == sorted([(200, None)] + [(400, "invalid_grant")] * (ATTEMPTS - 1), key=str)
    family = faults.sql(
        "SELECT count(*) FILTER (WHERE revoked IS NULL), count(*) FROM oauth_refreshtoken WHERE token_family = "
        "(SELECT token_family FROM oauth_refreshtoken WHERE token_checksum = %s)",
        (hashlib.sha256(first["refresh_token"].encode()).hexdigest(),),
    )[0]
    assert family[0] <= 1 and family[1] == 2, family  # never two successors, never two live chains
    # The losers replayed a used refresh token: reuse detection revoked the whole family.
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert client.refresh(first["refresh_token"]).status_code == 400
    assert client.refresh(winner["refresh_token"]).status_code == 400
    assert not accepted(faults.url, winner["access_token"])
    assert not accepted(faults.url, first["access_token"])
    assert_nothing_half_written(faults)


def test_logout_everywhere_racing_refreshes_leaves_no_token_alive(faults):
    client = faults.client()
    username = faults.new_user()
    browsers = [faults.browser(username) for _ in range(3)]
    pairs = [client.tokens(browsers[i % 3]) for i in range(ATTEMPTS - 1)]
    calls = [lambda: browsers[0].post("/accounts/sessions/logout-everywhere/")]
    calls += [lambda p=p: client.refresh(p["refresh_token"]) for p in pairs]
    responses = together(calls)
    assert not isinstance(responses[0], Exception) and responses[0].status_code == 302, responses[0]
    refreshed = []
    for response in responses[1:]:
        assert not isinstance(response, Exception), response
        assert response.status_code in (200, 400), (response.status_code, response.text)
        if response.status_code == 200:
            refreshed.append(response.json())
    # Whatever the order: every token of the user, old or just refreshed, is dead.
    for tokens in pairs + refreshed:
        assert not accepted(faults.url, tokens["access_token"]), tokens
        assert client.refresh(tokens["refresh_token"]).status_code == 400
    live = faults.sql(
        "SELECT count(*) FROM oauth_refreshtoken r JOIN accounts_user u ON u.id = r.user_id "
        "WHERE u.username = %s AND r.revoked IS NULL",
        (username,),
    )[0][0]
    assert live == 0
    assert_nothing_half_written(faults)


def test_one_recovery_code_used_twenty_times_at_once_logs_in_once(faults):
    mfa = faults.data["mfa"]
    browsers = [Browser(faults.url) for _ in range(ATTEMPTS)]
    for browser in browsers:
        browser.csrf_token()
    # Logins of one (username, IP) are serialized by design (accounts/lockout.py): a few at a
    # time, so that none waits past the statement timeout these tests give the server.
    with ThreadPoolExecutor(2) as pool:
        started = list(pool.map(lambda b: b.start_login(mfa["username"]), browsers))
    assert all(r.status_code == 302 and "/login/code/" in r.headers["Location"] for r in started), started
    code = mfa["recovery_codes"][0]
    responses = together([lambda b=b: b.post("/accounts/login/code/", {"code": code}) for b in browsers])
    statuses = sorted(r.status_code if not isinstance(r, Exception) else repr(r) for r in responses)
    assert statuses.count(302) == 1, statuses
    assert set(statuses) - {302} <= {400, 429}, statuses
    winner = browsers[next(i for i, r in enumerate(responses) if r.status_code == 302)]
    assert winner.get("/accounts/profile/").status_code == 200
    assert all(b.get("/accounts/profile/").status_code == 302 for b in browsers if b is not winner)
