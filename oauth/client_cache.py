"""Clients cached per process: the token, introspection, revocation and authorization endpoints
load the calling client (Validator._load_application) from here instead of one SELECT per
request.

What is cached: the whole Client row (its hashed secret included), by client_id, for at most
OAUTH_CLIENT_CACHE_SECONDS (default 10 s; 0 turns the cache off), in a bounded LRU of
MAX_CLIENTS entries. Each lookup hands out a copy of the cached instance, so that nothing one
request sets on its client is seen by another. Unknown client ids are not cached (nobody can
fill the cache with them, and a new client works at once).

Invalidation. Every save or delete of a Client (the admin, create_client, registration over
HTTP, rotate_client_secret, a cascade from a deleted owner) reaches `changed` through
post_save/post_delete (oauth.apps): this process forgets the cached clients at once, again when
the transaction commits, and after the commit writes a new random value to one Redis key (the
generation). Every process reads that key at most once per OAUTH_CLIENT_CACHE_CHECK_SECONDS
(default 1 s), before a lookup, and forgets every cached client when the value differs from the
one it saw last. A random value rather than a counter: a Redis flushed, failed over or restored
from a snapshot shows a different value (or none), which also means "forget", never "keep".
The check costs one GET per process per interval, not one round trip per request; the
protocol endpoints have no Redis read of their own before the client is needed to piggyback on
(the revocation store's MGET serves bearer checks, and the token endpoint's live mark is a
write made after the client was used).

The bound, stated once (docs/configuration.md repeats it):
- in the process that made the change: at once (on save, and again on commit);
- in every other process, with Redis: within OAUTH_CLIENT_CACHE_CHECK_SECONDS (1 s) of the
  commit: a deleted client, a rotated secret, a removed grant type or redirect URI is refused
  everywhere within a second;
- when the Redis write of the generation failed (logged at ERROR), or a process cannot read
  Redis (it then forgets its clients and tries again next interval), or several processes run
  without Redis (the embedded default's in-process cache is not shared): within
  OAUTH_CLIENT_CACHE_SECONDS (10 s) of the commit, the entries' TTL.
A bulk `Client.objects.update()` or raw SQL sends no signal: call `changed()` after it.
"""

import logging
import secrets
import threading
import time

from django.conf import settings
from django.core.cache import caches
from django.db import router, transaction
from django.db.models.base import ModelState
from redis.exceptions import RedisError

from core.lru import LRU
from sso import revocation

from .models import Client

logger = logging.getLogger(__name__)

MAX_CLIENTS = 1000
_UNSEEN = object()

_entries = LRU(MAX_CLIENTS)  # client_id -> (loaded at, monotonic; Client)
_lock = threading.Lock()
# Bumped by every local invalidation: a lookup that loaded a row before an invalidation it did
# not see (another thread's save) does not cache what it loaded.
_epoch = 0
_seen = _UNSEEN  # the generation value last read from Redis
_checked_at = float("-inf")  # monotonic time of the last read


def ttl_seconds():
    return settings.OAUTH_CLIENT_CACHE_SECONDS


def check_seconds():
    return settings.OAUTH_CLIENT_CACHE_CHECK_SECONDS


def generation_key():
    return caches["default"].make_key("oauth:clients:generation")


def get(client_id):
    """The client `client_id` (a private copy), or None when there is none. From the cache when
    it holds a fresh entry and no other process changed a client since; else one SELECT."""
    ttl = ttl_seconds()
    if ttl <= 0:
        return _load(client_id)
    _check_generation()
    now = time.monotonic()
    entry = _entries.get(client_id)
    if entry is not None and now - entry[0] < ttl:
        return _private_copy(entry[1])
    epoch = _epoch
    client = _load(client_id)
    if client is not None:
        with _lock:
            if epoch == _epoch:
                _entries.put(client_id, (now, client))
        client = _private_copy(client)
    return client


def changed(using=None):
    """A client was saved or deleted (or updated in bulk): every process forgets its cached
    clients (this one at once; the others within the bound above)."""
    _forget()
    transaction.on_commit(_publish, using=using, robust=True)


def clear():
    """Forget the cached clients and the generation seen (tests; a process that forked)."""
    global _seen, _checked_at
    with _lock:
        _forget_locked()
        _seen = _UNSEEN
        _checked_at = float("-inf")


def client_changed(sender, instance, using=None, raw=False, **kwargs):
    """post_save / post_delete of a Client (connected in OAuthConfig.ready)."""
    changed(using=using or router.db_for_write(Client))


def _private_copy(client):
    """A copy of the cached `client` for one request: its own field values (shallow, as
    copy.copy) and its own ModelState, so that related objects one request loads through it
    stay with that request. A quarter of copy.copy's cost (no pickling protocol)."""
    new = Client.__new__(Client)
    new.__dict__.update(client.__dict__)
    state = new._state = ModelState()
    state.db, state.adding = client._state.db, False
    return new


def _load(client_id):
    try:
        return Client.objects.get(client_id=client_id)
    except Client.DoesNotExist:
        return None


def _forget():
    with _lock:
        _forget_locked()


def _forget_locked():
    global _epoch
    _epoch += 1
    _entries.clear()


def _publish():
    _forget()  # again: a lookup between the save and the commit may have cached the old row
    redis = revocation.redis_client()
    if redis is None:
        return
    try:
        redis.set(generation_key(), secrets.token_hex(16))
    except RedisError as exc:
        logger.error(
            "Client cache: Redis write failed (%s); other processes see the client change within %s s.",
            type(exc).__name__,
            ttl_seconds(),
        )


def _check_generation():
    """At most once per interval: forget every cached client if the generation moved."""
    global _seen, _checked_at
    now = time.monotonic()
    if now - _checked_at < check_seconds():
        return
    redis = revocation.redis_client()
    if redis is None:
        _checked_at = now
        return
    try:
        value = redis.get(generation_key())
    except RedisError as exc:
        logger.warning("Client cache: Redis read failed (%s); cached clients forgotten.", type(exc).__name__)
        value = _UNSEEN
    with _lock:
        if value is _UNSEEN or value != _seen:
            _forget_locked()
        _seen = value
        _checked_at = now
