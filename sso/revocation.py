"""The revocation store: is this access token still acceptable?

PostgreSQL holds the truth: the token's row (owned by oauth, asked through the `token_is_live`
callable the caller passes), `SSOSession.revoked_at` and the expiry times of the token's `sid`,
and the user's `UserNotBefore`. Redis holds a fast path with allow-list semantics: one key per
fact, read together in ONE round trip (one MGET), so that a valid token costs no SQL at all.

Keys (under the default cache's key prefix, `<prefix>:1:sso:`):
- `live:jti:<jti>`  `1` while the token is live (written at issuance by `mark_token_live`);
- `sid:<sid>`       the session's user id while it is active;
- `nbf:<user_id>`   the user's not-before as Unix time (`0`: none).
A revoked token or session is written as `-` (see "races" below).

Reading (`is_token_acceptable`):
- a key that says valid (and, for `nbf`, a token issued at or after it) is accepted;
- a key that says `-`, or a token issued before `nbf`, is refused;
- a missing key (never written, expired, flushed, evicted, lost in a fail-over) means "ask
  PostgreSQL", then re-cache the answer: never "accept";
- a Redis error (connection refused, timeout, any RedisError) means "ask PostgreSQL" for every
  fact: slower, never wrong. We talk to Redis through django-redis' raw client, so the
  backend's IGNORE_EXCEPTIONS (which turns a failed read into None) cannot apply here.
- without Redis (the embedded default's in-process cache) every check goes to the database:
  an in-process cache could not see a revocation made by another process.

Revoking (sso.flows, and oauth through `forget_token`) writes PostgreSQL first and, once that
transaction has committed, overwrites the Redis keys (`-` for a token or session, the new value
for `nbf`). Between the commit and the Redis write (milliseconds) another process may still
read the old key: that is the only window in normal operation.

Races. A reader that missed a key reads PostgreSQL and then re-caches what it read. Had a
revocation committed in between, a plain SET would put "valid" back for a revoked thing. So
readers re-cache with SET NX (only if absent) while revocations overwrite with a plain SET of
`-` that stays for the cache window: a stale re-cache either lands before the revocation's
write (and is overwritten) or after it (and is refused by NX). A reader whose PostgreSQL read
took longer than half the cache window does not re-cache at all, so its stale answer can
never outlive the `-` marker that guards it.

When the Redis write of a revocation fails (Redis unreachable from the revoking process but
still answering others, or coming back from a partition with its data), the old "valid" key
cannot be removed by anyone. Every key is therefore short-lived: its TTL is capped at
SSO_REVOCATION_CACHE_SECONDS (default 60 s), also for tokens that live longer. The worst case
is bounded: a revocation whose Redis write failed is honoured everywhere at most
SSO_REVOCATION_CACHE_SECONDS later (at once by processes that cannot reach Redis, since they
ask PostgreSQL). The failure is logged at ERROR. The price of the cap is one SQL query per
token, session and user per window on a busy API; the steady-state request stays at one MGET.

Redis rolled back. Redis restarted from an older snapshot (or a replica promoted with
older data) brings back "valid" keys of things revoked since, each until its original expiry:
the cap above bounds that too. To shorten it, every revocation also increments a counter
(`revocations`, no TTL) in the same pipeline, and every read fetches the counter in its MGET
(no extra round trip). Each process remembers the highest value it has seen; a lower one (or
none at all) means Redis lost writes this process knows were made. That process then deletes
every fast-path key but the revoked markers (SCAN, once: the rare event a restart is) and puts
the counter back, so the stale keys are gone for every process and are re-read from
PostgreSQL. A process that saw no revocation since the snapshot cannot notice: for it, the cap
still bounds the stale answer.

Tokens and not-before. A token is refused when `issued_at < not_before`. JWT `iat` is usually
whole seconds while not-before is exact, so a token minted in the same second as a bump but
after it is refused as well: fail-safe, and the client's next token works.
"""

import logging
import math
import threading
import time
from datetime import datetime

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone
from redis.exceptions import RedisError

from .models import SSOSession, UserNotBefore

logger = logging.getLogger(__name__)

VALID = b"1"
REVOKED = b"-"
_NO_NOT_BEFORE = b"0"


def cache_seconds():
    """The TTL cap of every fast-path key: the worst-case delay of a revocation Redis missed."""
    return max(1, int(settings.SSO_REVOCATION_CACHE_SECONDS))


def redis_client():
    """The raw Redis client behind the default cache, or None when it is not django-redis."""
    try:
        from django_redis import get_redis_connection
        from django_redis.cache import RedisCache
    except ImportError:  # pragma: no cover - django-redis is a runtime dependency
        return None
    if not isinstance(caches["default"], RedisCache):
        return None
    return get_redis_connection("default")


def _key(name):
    return caches["default"].make_key(f"sso:{name}")


def _epoch(value):
    if value is None:
        return float("-inf")  # no issue time: refused by any not-before, even "none" (0)
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def _ttl(until=None, now=None):
    """Seconds a fast-path key may live: up to `until` (epoch), never above the cap."""
    cap = cache_seconds()
    if until is None:
        return cap
    remaining = math.floor(until - (now if now is not None else time.time()))
    return min(cap, remaining)


# --- Facts: how each one is read from Redis and from PostgreSQL -------------------------------


class _TokenIsLive:
    def __init__(self, jti, token_is_live):
        self.key = _key(f"live:jti:{jti}")
        self.token_is_live = token_is_live

    def from_cache(self, value):
        return {VALID: True, REVOKED: False}.get(value)

    def from_database(self):
        """(verdict, value to re-cache, ttl)."""
        live = bool(self.token_is_live())
        return live, VALID if live else REVOKED, _ttl()


class _SessionIsActive:
    def __init__(self, sid, user_id):
        self.sid = sid
        self.user_id = user_id
        self.key = _key(f"sid:{sid}")

    def from_cache(self, value):
        if value is None:
            return None
        if value == REVOKED:
            return False
        return self.user_id is None or value == str(self.user_id).encode()

    def from_database(self):
        now = timezone.now()
        row = (
            SSOSession.objects.active(now)
            .filter(sid=self.sid)
            .values_list("user_id", "idle_expires_at", "expires_at")
            .first()
        )
        if row is None:
            return False, REVOKED, _ttl()
        user_id, idle_expires_at, expires_at = row
        active = self.user_id is None or user_id == self.user_id
        until = min(idle_expires_at, expires_at).timestamp()
        return active, str(user_id).encode(), _ttl(until, now.timestamp())


class _IssuedAfterNotBefore:
    def __init__(self, user_id, issued_at):
        self.user_id = user_id
        self.issued_at = _epoch(issued_at)
        self.key = _key(f"nbf:{user_id}")

    def from_cache(self, value):
        if value is None:
            return None
        try:
            return self.issued_at >= float(value)
        except ValueError:
            return None

    def from_database(self):
        not_before = UserNotBefore.objects.filter(user_id=self.user_id).values_list("not_before", flat=True).first()
        epoch = not_before.timestamp() if not_before is not None else 0.0
        return self.issued_at >= epoch, _encode_epoch(epoch), _ttl()


def _encode_epoch(epoch):
    return repr(float(epoch)).encode() if epoch else _NO_NOT_BEFORE


# --- Reading --------------------------------------------------------------------------------


def is_token_acceptable(*, jti, sid, user_id, issued_at, token_is_live):
    """True when the token `jti` is live, its session `sid` active and it was issued at or after
    the user's not-before; False otherwise.

    `sid` and `user_id` may be None (a client-credentials token has neither). `issued_at` is the
    token's `iat` (Unix time) or a datetime. `token_is_live` is a zero-argument callable that asks
    PostgreSQL whether the token's row still exists; it is called only when Redis cannot answer.
    Costs one Redis MGET and no SQL when Redis holds all three facts.
    """
    if not jti:
        return False  # every token of ours has a jti; one without is not ours to accept
    facts = [_TokenIsLive(jti, token_is_live)]
    if sid:
        facts.append(_SessionIsActive(sid, user_id))
    if user_id is not None:
        facts.append(_IssuedAfterNotBefore(user_id, issued_at))
    return _decide(facts)


def is_session_active(*, sid, user_id=None):
    """True while the SSO session `sid` (of `user_id`, when given) is neither revoked nor
    expired: for binding refresh tokens and authorization requests to their session. Same
    fast path as `is_token_acceptable`: one MGET when Redis knows, else PostgreSQL."""
    return bool(sid) and _decide([_SessionIsActive(sid, user_id)])


def is_issued_after_not_before(*, user_id, issued_at):
    """True when something issued to `user_id` at `issued_at` (Unix time or datetime) is not
    older than the user's not-before: for credentials that carry no jti, such as refresh
    tokens. Same fast path: one GET when Redis knows, else PostgreSQL."""
    return _decide([_IssuedAfterNotBefore(user_id, issued_at)])


def _decide(facts):
    client = redis_client()
    cached = _read(client, [fact.key for fact in facts] + [_key(COUNTER)]) if client is not None else None
    if cached is None:
        return all(fact.from_database()[0] for fact in facts)
    *cached, counter = cached
    if _rolled_back(counter):
        _purge(client)
        cached = [None] * len(facts)  # what it said came from before the purge
    verdicts = [fact.from_cache(value) for fact, value in zip(facts, cached, strict=True)]
    if False in verdicts:
        return False
    return _ask_database(client, [fact for fact, verdict in zip(facts, verdicts, strict=True) if verdict is None])


def _read(client, keys):
    try:
        return client.mget(keys)
    except RedisError as exc:
        logger.warning("Revocation store: Redis read failed (%s); asking the database.", type(exc).__name__)
        return None


# --- Redis rolled back: the revocation counter ------------------------------------------------

COUNTER = "revocations"
_seen_lock = threading.Lock()
_seen = 0  # the highest revocation count this process has seen in (or written to) Redis

# Put the counter back to at least ARGV[1] (never lower: other processes may have counted on).
_RAISE_COUNTER = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
"""


def _saw(count):
    global _seen
    with _seen_lock:
        _seen = max(_seen, count)


def _rolled_back(counter):
    """Whether Redis' revocation count went below what this process saw (Redis lost writes)."""
    try:
        count = int(counter or 0)
    except ValueError:
        count = 0
    with _seen_lock:
        return count < _seen


def _purge(client):
    """Delete every fast-path key (Redis lost revocations: its "valid" keys may be stale), then
    raise the counter back so that other processes do not purge again."""
    pattern = _key("*")
    counter = _key(COUNTER)
    logger.warning(
        "Revocation store: Redis lost revocation writes (restarted empty or from an older snapshot?); "
        "deleting its fast-path keys, PostgreSQL answers until they are cached again."
    )
    try:
        batch = []
        for key in client.scan_iter(match=pattern, count=1000):
            if key != counter.encode():
                batch.append(key)
            if len(batch) >= 1000:
                _delete_all_but_revoked(client, batch)
                batch = []
        if batch:
            _delete_all_but_revoked(client, batch)
        with _seen_lock:
            seen = _seen
        client.eval(_RAISE_COUNTER, 1, counter, seen)
    except RedisError as exc:
        logger.warning("Revocation store: Redis purge failed (%s).", type(exc).__name__)


def _delete_all_but_revoked(client, keys):
    # A revoked marker is right whenever it was written, and may guard a revocation made
    # since the restart against a stale re-cache (see "Races"): it stays.
    stale = [key for key, value in zip(keys, client.mget(keys), strict=True) if value != REVOKED]
    if stale:
        client.delete(*stale)


def forget_seen_revocations():
    """Forget the revocation count this process saw: for tests that empty Redis between cases
    (in a server, an emptied Redis is what the counter is there to notice)."""
    global _seen
    with _seen_lock:
        _seen = 0


def _ask_database(client, facts):
    """Ask PostgreSQL about the facts Redis did not know (stopping at the first refusal), and
    re-cache the answers unless the reads were slow enough to have raced a revocation."""
    started = time.monotonic()
    answers, acceptable = [], True
    for fact in facts:
        verdict, value, ttl = fact.from_database()
        answers.append((fact.key, value, ttl))
        if not verdict:
            acceptable = False
            break
    if time.monotonic() - started < cache_seconds() / 2:
        _recache(client, answers)
    return acceptable


def _recache(client, answers):
    writes = [(key, value, ttl) for key, value, ttl in answers if ttl > 0]
    if not writes:
        return
    try:
        with client.pipeline(transaction=False) as pipe:
            for key, value, ttl in writes:
                pipe.set(key, value, ex=ttl, nx=True)
            pipe.execute()
    except RedisError as exc:
        logger.warning("Revocation store: Redis re-cache failed (%s).", type(exc).__name__)


# --- Writing --------------------------------------------------------------------------------


def mark_token_live(jti, expires_at):
    """At issuance (after the token's row is written): cache that `jti` is live.

    `expires_at` is a datetime or Unix time; the key lives until then, capped at the window.
    A failure only costs a database query later, so it is logged and swallowed.
    """
    ttl = _ttl(_epoch(expires_at))
    if ttl > 0:
        _write("mark a token live", [(_key(f"live:jti:{jti}"), VALID, ttl, True)], _prefix(jti))


def mark_session_active(sid, user_id, until):
    """At login: cache that session `sid` of `user_id` is active until `until` (capped)."""
    ttl = _ttl(_epoch(until))
    if ttl > 0:
        _write("mark a session active", [(_key(f"sid:{sid}"), str(user_id).encode(), ttl, True)], _prefix(sid))


def forget_token(jti):
    """On revocation, after the commit: the token `jti` is no longer valid."""
    _write("forget a token", [(_key(f"live:jti:{jti}"), REVOKED, cache_seconds(), False)], _prefix(jti))


def forget_sessions(sids):
    """After the commit that revoked the sessions `sids`: they are no longer active."""
    writes = [(_key(f"sid:{sid}"), REVOKED, cache_seconds(), False) for sid in sids]
    if writes:
        _write("forget sessions", writes, ", ".join(_prefix(sid) for sid in sids))


def set_not_before(user_id, not_before):
    """After the commit that moved the user's not-before: publish the new value."""
    value = _encode_epoch(_epoch(not_before))
    _write("set a not-before", [(_key(f"nbf:{user_id}"), value, cache_seconds(), False)], f"user {user_id}")


def _prefix(secret):
    """Enough of a sid or jti to correlate logs, not enough to use it."""
    return f"{str(secret)[:8]}…"


def _write(what, writes, shown):
    client = redis_client()
    if client is None:
        return
    revoking = any(not only_if_absent for *_, only_if_absent in writes)
    try:
        with client.pipeline(transaction=False) as pipe:
            for key, value, ttl, only_if_absent in writes:
                pipe.set(key, value, ex=ttl, nx=only_if_absent)
            if revoking:
                pipe.incr(_key(COUNTER))
            results = pipe.execute()
        if revoking:
            _saw(int(results[-1]))
    except RedisError as exc:
        if revoking:
            logger.error(
                "Revocation store: Redis write failed (%s) while trying to %s [%s]; PostgreSQL holds the "
                "revocation and every process honours it within %s s.",
                type(exc).__name__,
                what,
                shown,
                cache_seconds(),
            )
        else:
            logger.warning("Revocation store: Redis write failed (%s) while trying to %s.", type(exc).__name__, what)
