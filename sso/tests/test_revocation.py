"""The revocation store: Redis fast path with allow-list semantics, PostgreSQL as the truth."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from sso import flows, revocation
from sso.models import SSOSession

from .conftest import make_session

pytestmark = pytest.mark.django_db


class TokenRow:
    """Stands in for oauth's "does the token's row exist?" query, and counts its calls."""

    def __init__(self, live=True):
        self.live = live
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.live


def check(session, row, *, issued_at=None, jti="jti-1"):
    return revocation.is_token_acceptable(
        jti=jti,
        sid=session.sid if session else None,
        user_id=session.user_id if session else None,
        issued_at=time.time() if issued_at is None else issued_at,
        token_is_live=row,
    )


def issue(session, jti="jti-1", lifetime=900):
    """What oauth does at issuance: the token is live until it expires."""
    revocation.mark_token_live(jti, timezone.now() + timedelta(seconds=lifetime))


# --- Without Redis: the database answers ---------------------------------------------------


def test_embedded_default_asks_the_database(locmem, user, django_assert_num_queries):
    session, row = make_session(user), TokenRow()
    issue(session)  # a no-op without Redis
    with django_assert_num_queries(2):  # the session and the not-before; the token via `row`
        assert check(session, row)
    assert row.calls == 1


def test_embedded_default_refuses_what_was_revoked(locmem, user, django_capture_on_commit_callbacks):
    session = make_session(user)
    assert not check(session, TokenRow(live=False))
    issued = time.time()
    with django_capture_on_commit_callbacks(execute=True):
        flows.bump_not_before(user=user)
    assert not check(session, TokenRow(), issued_at=issued - 1)
    with django_capture_on_commit_callbacks(execute=True):
        flows.end_session(user=user, session_id=session.public_id)
    assert not check(session, TokenRow(), issued_at=time.time() + 1)


def test_expired_sessions_are_refused(locmem, user):
    idle = make_session(user, idle_expires_at=timezone.now() - timedelta(seconds=1))
    absolute = make_session(user, expires_at=timezone.now() - timedelta(seconds=1))
    assert not check(idle, TokenRow())
    assert not check(absolute, TokenRow())


def test_a_token_of_another_users_session_is_refused(locmem, user, make_user):
    session = make_session(user)
    assert not revocation.is_token_acceptable(
        jti="j", sid=session.sid, user_id=make_user().pk, issued_at=time.time(), token_is_live=TokenRow()
    )


def test_client_credentials_tokens_have_only_the_token_check(locmem, django_assert_num_queries):
    row = TokenRow()
    with django_assert_num_queries(0):
        assert check(None, row)
    assert row.calls == 1
    assert not check(None, TokenRow(live=False))


def test_not_before_accepts_tokens_issued_at_or_after_it(locmem, user, django_capture_on_commit_callbacks):
    session = make_session(user)
    with django_capture_on_commit_callbacks(execute=True):
        not_before = flows.bump_not_before(user=user)
    assert not check(session, TokenRow(), issued_at=not_before.timestamp() - 0.001)
    assert check(session, TokenRow(), issued_at=not_before.timestamp())
    assert check(session, TokenRow(), issued_at=not_before + timedelta(seconds=1))  # a datetime works too


def test_not_before_never_moves_back(user):
    first = flows.bump_not_before(user=user)
    user.not_before.not_before = first + timedelta(hours=1)
    user.not_before.save()
    assert flows.bump_not_before(user=user) == first + timedelta(hours=1)


# --- Redis up: one MGET, no SQL -----------------------------------------------------------


def test_a_valid_token_costs_one_mget_and_no_sql(
    redis, counting_redis, user, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session = make_session(user)
        revocation.mark_session_active(session.sid, user.pk, session.idle_expires_at)
        flows.bump_not_before(user=user)  # publishes the not-before
    issue(session)
    row = TokenRow()
    counting_redis.commands.clear()
    with django_assert_num_queries(0):
        assert check(session, row, issued_at=time.time() + 1)
    assert counting_redis.commands == ["mget"]
    assert row.calls == 0


def test_missing_keys_are_read_from_the_database_and_cached_again(
    redis, counting_redis, user, django_assert_num_queries
):
    session, row = make_session(user), TokenRow()
    with django_assert_num_queries(2):  # nothing cached yet: session and not-before from SQL
        assert check(session, row)
    assert row.calls == 1
    counting_redis.commands.clear()
    with django_assert_num_queries(0):
        assert check(session, row)
    assert counting_redis.commands == ["mget"]
    assert row.calls == 1


def test_a_flushed_redis_falls_back_to_the_database(redis, user, django_assert_num_queries):
    session, row = make_session(user), TokenRow()
    issue(session)
    assert check(session, row)
    assert row.calls == 0  # marked live at issuance
    redis.flushdb()
    with django_assert_num_queries(2):
        assert check(session, row)
    assert row.calls == 1  # the flushed token key was asked about, then cached again
    with django_assert_num_queries(0):
        assert check(session, row)


def test_a_flushed_redis_never_turns_a_revocation_into_an_acceptance(redis, user, django_capture_on_commit_callbacks):
    session = make_session(user)
    issue(session)
    assert check(session, TokenRow())
    with django_capture_on_commit_callbacks(execute=True):
        flows.end_session(user=user, session_id=session.public_id)
    redis.flushdb()
    assert not check(session, TokenRow())
    redis.flushdb()
    with django_capture_on_commit_callbacks(execute=True):
        flows.bump_not_before(user=user)
    redis.flushdb()
    fresh = make_session(user)
    assert not check(fresh, TokenRow(), issued_at=time.time() - 5)


def test_revocations_are_refused_from_redis_alone(
    redis, user, django_assert_num_queries, django_capture_on_commit_callbacks
):
    session = make_session(user)
    issue(session, jti="a")
    issue(session, jti="b")
    assert check(session, TokenRow(), jti="a")
    revocation.forget_token("a")
    with django_assert_num_queries(0):
        assert not check(session, TokenRow(), jti="a")
    issued = time.time()
    with django_capture_on_commit_callbacks(execute=True):
        flows.bump_not_before(user=user)
    with django_assert_num_queries(0):
        assert not check(session, TokenRow(), jti="b", issued_at=issued - 1)
    with django_capture_on_commit_callbacks(execute=True):
        flows.end_session(user=user, session_id=session.public_id)
    with django_assert_num_queries(0):
        assert not check(session, TokenRow(), jti="b", issued_at=time.time() + 1)


def test_a_token_never_marked_live_is_asked_about(redis, user):
    session = make_session(user)
    row = TokenRow(live=False)  # revoked (its row deleted) before the fast path heard of it
    assert not check(session, row)
    assert row.calls == 1
    assert not check(session, row)
    assert row.calls == 1  # the refusal is cached too


def test_a_stale_recache_cannot_resurrect_a_revoked_session(redis, user, django_capture_on_commit_callbacks):
    session = make_session(user)
    fact = revocation._SessionIsActive(session.sid, user.pk)
    verdict, value, ttl = fact.from_database()  # a reader read "active"...
    assert verdict
    with django_capture_on_commit_callbacks(execute=True):  # ...then the session ended...
        flows.end_session(user=user, session_id=session.public_id)
    revocation._recache(redis, [(fact.key, value, ttl)])  # ...and the reader re-caches late
    assert redis.get(fact.key) == revocation.REVOKED
    assert not check(session, TokenRow())


def test_a_stale_recache_cannot_undo_a_not_before_bump(redis, user, django_capture_on_commit_callbacks):
    session = make_session(user)
    fact = revocation._IssuedAfterNotBefore(user.pk, time.time())
    _, value, ttl = fact.from_database()
    with django_capture_on_commit_callbacks(execute=True):
        flows.bump_not_before(user=user)
    revocation._recache(redis, [(fact.key, value, ttl)])
    assert not check(session, TokenRow(), issued_at=time.time() - 5)


def test_every_key_lives_at_most_the_cache_window(redis, user, settings, django_capture_on_commit_callbacks):
    settings.SSO_REVOCATION_CACHE_SECONDS = 30
    session = make_session(user)
    revocation.mark_token_live("long", timezone.now() + timedelta(days=1))
    revocation.mark_session_active(session.sid, user.pk, session.expires_at)
    with django_capture_on_commit_callbacks(execute=True):
        flows.bump_not_before(user=user)
    check(session, TokenRow(), jti="other")
    counter = revocation._key(revocation.COUNTER).encode()
    keys = [key for key in redis.keys("*sso:*") if key != counter]  # the counter says no verdict
    assert len(keys) >= 4
    assert all(0 < redis.ttl(key) <= 30 for key in keys)


def test_a_session_key_never_outlives_the_session(redis, user):
    session = make_session(user, idle_expires_at=timezone.now() + timedelta(seconds=5))
    assert check(session, TokenRow())
    assert 0 < redis.ttl(revocation._SessionIsActive(session.sid, user.pk).key) <= 5


def test_a_failed_redis_write_during_revocation_is_logged_and_bounded(
    redis, user, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    session = make_session(user)
    issue(session)
    assert check(session, TokenRow())
    key = revocation._SessionIsActive(session.sid, user.pk).key

    class Unreachable:
        def pipeline(self, **kwargs):
            from redis.exceptions import ConnectionError

            raise ConnectionError("partitioned")

    monkeypatch.setattr(revocation, "redis_client", lambda: Unreachable())
    with django_capture_on_commit_callbacks(execute=True):
        flows.end_session(user=user, session_id=session.public_id)  # the logout itself succeeds
    assert SSOSession.objects.get(pk=session.pk).revoked_at is not None
    assert "Redis write failed" in caplog.text and session.sid not in caplog.text
    # The stale "active" key is still there for readers that can reach Redis, but not for long.
    assert 0 < redis.ttl(key) <= revocation.cache_seconds()


# --- Redis down: the database answers, never wrongly ----------------------------------------


def test_redis_down_valid_tokens_are_accepted(dead_redis, user, caplog, django_assert_num_queries):
    session = make_session(user)
    issue(session)  # a failed write at issuance is only logged
    row = TokenRow()
    with django_assert_num_queries(2):
        assert check(session, row)
    assert row.calls == 1
    assert "Redis read failed" in caplog.text


def test_redis_down_revoked_things_are_refused(dead_redis, user, django_capture_on_commit_callbacks):
    session = make_session(user)
    assert not check(session, TokenRow(live=False))
    issued = time.time()
    with django_capture_on_commit_callbacks(execute=True):
        flows.bump_not_before(user=user)  # the Redis write fails: PostgreSQL has it
    assert not check(session, TokenRow(), issued_at=issued - 1)
    with django_capture_on_commit_callbacks(execute=True):
        flows.end_session(user=user, session_id=session.public_id)
    assert not check(session, TokenRow(), issued_at=time.time() + 1)


def test_redis_down_does_not_break_browser_logins_or_logouts(dead_redis, user, django_capture_on_commit_callbacks):
    from .conftest import is_logged_in, log_in

    with django_capture_on_commit_callbacks(execute=True):
        browser = log_in(user)
    assert is_logged_in(browser)
    with django_capture_on_commit_callbacks(execute=True):
        flows.logout_everywhere(user=user)
    assert not is_logged_in(browser)


# --- Edges --------------------------------------------------------------------------------


def test_a_token_without_jti_or_iat_is_refused(locmem, user):
    session = make_session(user)
    assert not revocation.is_token_acceptable(
        jti=None, sid=session.sid, user_id=user.pk, issued_at=time.time(), token_is_live=TokenRow()
    )
    assert not revocation.is_token_acceptable(
        jti="j", sid=session.sid, user_id=user.pk, issued_at=None, token_is_live=TokenRow()
    )


def test_session_activity_on_its_own(locmem, user, make_user, django_capture_on_commit_callbacks):
    session = make_session(user)
    assert revocation.is_session_active(sid=session.sid)
    assert revocation.is_session_active(sid=session.sid, user_id=user.pk)
    assert not revocation.is_session_active(sid=session.sid, user_id=make_user().pk)
    assert not revocation.is_session_active(sid="unknown")
    assert not revocation.is_session_active(sid="")
    with django_capture_on_commit_callbacks(execute=True):
        flows.end_session(user=user, session_id=session.public_id)
    assert not revocation.is_session_active(sid=session.sid)


def test_session_activity_from_redis(redis, counting_redis, user, django_assert_num_queries):
    session = make_session(user)
    assert revocation.is_session_active(sid=session.sid, user_id=user.pk)
    counting_redis.commands.clear()
    with django_assert_num_queries(0):
        assert revocation.is_session_active(sid=session.sid, user_id=user.pk)
    assert counting_redis.commands == ["mget"]


# --- Redis rolled back (restarted empty or from an older snapshot) --------------------------


def test_redis_rolled_back_past_a_revocation_is_noticed_and_purged(
    redis, user, caplog, django_capture_on_commit_callbacks
):
    """An older snapshot holds the "valid" marks of a token and a session revoked since: the
    revocation counter, lower than this process saw, says so, and the stale keys are purged."""
    session = make_session(user)
    revocation.mark_session_active(session.sid, user.pk, session.idle_expires_at)
    issue(session)
    assert check(session, TokenRow())
    snapshot = {key: (redis.get(key), redis.pttl(key)) for key in redis.keys("*")}
    with django_capture_on_commit_callbacks(execute=True):
        flows.end_session(user=user, session_id=session.public_id)
    revocation.forget_token("jti-1")
    assert not check(session, TokenRow(live=False))
    redis.flushdb()  # restored from the snapshot: the old values, with their expiry
    for key, (value, ttl) in snapshot.items():
        redis.set(key, value, px=ttl)
    assert not check(session, TokenRow(live=False))
    assert "Redis lost revocation writes" in caplog.text
    assert redis.get(revocation._key("live:jti:jti-1")) != revocation.VALID  # purged, then re-read
    assert int(redis.get(revocation._key(revocation.COUNTER))) == 2  # put back for the others
    caplog.clear()
    assert not check(session, TokenRow(live=False))
    assert "Redis lost" not in caplog.text  # once


def test_a_counter_at_or_above_what_was_seen_purges_nothing(redis, user, django_capture_on_commit_callbacks):
    session = make_session(user)
    issue(session)
    with django_capture_on_commit_callbacks(execute=True):
        flows.bump_not_before(user=user)
    assert check(session, TokenRow(), issued_at=time.time() + 1)
    redis.incr(revocation._key(revocation.COUNTER))  # another process revoked something
    assert check(session, TokenRow(), issued_at=time.time() + 1)
    assert redis.get(revocation._key("live:jti:jti-1")) == revocation.VALID
