"""Limits on failed client authentications at the token, revocation and introspection endpoints.

Failures are counted in fixed windows of CLIENT_AUTH_FAILURE_WINDOW_SECONDS, per client_id
(CLIENT_AUTH_FAILURE_LIMIT) and per client IP (CLIENT_AUTH_IP_FAILURE_LIMIT, the project's
counting key: IPv6 per /64). A failure over either limit is answered 429 `invalid_client` with
`Retry-After` (the end of the window) instead of 401.

Only failures are counted, and a success costs no round trip to Redis at all:
- per client_id, a failure over the limit is 429, but a request with the right secret still
  succeeds. client_ids are public (every authorization URL carries one): if the limit refused
  the right secret too, anyone could lock a confidential client (a resource server
  introspecting) out of its tokens with a few bad requests per window (SECURITY.md: a lockout
  must not be a cheap way to lock others out). Guessing a secret is not what this limit stops:
  our secrets are machine-generated (oauth.flows), far beyond online guessing.
- per IP, an address over its limit is refused (429) before authentication, the right secret
  included, so that one address cannot keep trying. Each process learns of it from the shared
  count at its next failure from that address and remembers it until the window ends (a bounded
  in-process map, `_blocked`), which spares every request a read: a successful request never
  talks to Redis here, and an address over the limit gets at most one verified try per process.

Counting: Redis (REDIS_URL) INCR + EXPIRE NX in one pipelined round trip; Django's cache on the
embedded default (add + incr). The keys hash the client_id (it is attacker-chosen). If the
counter store fails, the failed request keeps its 401: it is refused either way.
"""

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

import audit
from audit import events
from core import client_ip
from sso.revocation import redis_client

log = logging.getLogger(__name__)

_BLOCKED_MAX = 10_000  # addresses remembered per process (each for at most one window)
# counting key -> Unix time its block ends, in this process
_blocked: dict[str, float] = {}


@dataclass(frozen=True)
class Refusal:
    """Too many failed client authentications: retry in `retry_after` seconds."""

    retry_after: int

    @property
    def description(self):
        return f"Too many failed client authentications. Retry in {self.retry_after} seconds."


def blocked(request):
    """A Refusal if this process knows the client's IP is over its limit, else None (no I/O)."""
    ip = client_ip.counting_key(request)
    until = _blocked.get(ip) if ip else None
    if until is None:
        return None
    now = time.time()
    if until <= now:
        _blocked.pop(ip, None)
        return None
    return Refusal(max(1, math.ceil(until - now)))


def failed(request, client_id):
    """Count one failed client authentication; a Refusal if it is over a limit, else None."""
    window = max(1, int(settings.CLIENT_AUTH_FAILURE_WINDOW_SECONDS))
    now = time.time()
    index = int(now // window)
    ip = client_ip.counting_key(request)
    limits = {}
    if ip:
        limits[_key("ip", ip, index)] = settings.CLIENT_AUTH_IP_FAILURE_LIMIT
    if client_id:
        limits[_key("client", client_id, index)] = settings.CLIENT_AUTH_FAILURE_LIMIT
    if not limits:
        return None
    try:
        counts = dict(zip(limits, _increment(list(limits), window), strict=True))
    except (RedisError, ConnectionInterrupted):
        log.warning("The client authentication limit is skipped: the cache is unreachable.")
        return None
    over = [key for key, limit in limits.items() if counts[key] > limit]
    if not over:
        return None
    end = (index + 1) * window
    _record_lockouts(request, client_id, ip, index, window, counts, limits)
    if ip and _key("ip", ip, index) in over:
        _remember(ip, end)
    log.warning("Client authentication refused: %d failures in this window (limit reached).", max(counts.values()))
    return Refusal(max(1, math.ceil(end - now)))


def _record_lockouts(request, client_id, ip, index, window, counts, limits):
    """The audit log's client.auth_locked_out, once per lockout: by the failure that first went
    over a limit in this window. The count is shared by every process, so exactly one request
    sees it at limit + 1; the failures after it are not recorded again."""
    kinds = {_key("ip", ip, index): "ip"} if ip else {}
    if client_id:
        kinds[_key("client", client_id, index)] = "client_id"
    for key, kind in kinds.items():
        if counts[key] == limits[key] + 1:
            audit.record(
                event=events.CLIENT_AUTH_LOCKED_OUT,
                request=request,
                actor=None,
                client_id=client_id or "",
                outcome=events.FAILURE,
                detail={"by": kind, "limit": limits[key], "window_seconds": window},
            )


def reset():
    """Forget this process's blocked addresses (tests)."""
    _blocked.clear()


def _key(kind, value, index):
    digest = hashlib.sha256(str(value).encode()).hexdigest()[:32]
    return f"oauth:client-auth-failures:{kind}:{digest}:{index}"


def _increment(keys, window):
    """The counts of `keys` after adding one to each (each key lives one window)."""
    redis = redis_client()
    if redis is not None:
        pipe = redis.pipeline(transaction=False)
        for key in keys:
            raw = caches["default"].make_key(key)  # the raw client: the cache's prefix by hand
            pipe.incr(raw)
            pipe.expire(raw, window, nx=True)
        return pipe.execute()[0::2]
    cache = caches["default"]
    counts = []
    for key in keys:
        cache.add(key, 0, timeout=window)
        counts.append(_incr(cache, key, window))
    return counts


def _incr(cache, key, window):
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def _remember(ip, until):
    if len(_blocked) >= _BLOCKED_MAX:
        now = time.time()
        for stale in [k for k, end in _blocked.items() if end <= now]:
            del _blocked[stale]
        while len(_blocked) >= _BLOCKED_MAX:
            _blocked.pop(next(iter(_blocked)))
    _blocked[ip] = until
