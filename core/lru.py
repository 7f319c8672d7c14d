"""A bounded, thread-safe, least-recently-used mapping for per-process memos.

An OrderedDict under one lock: a hit moves the key to the end, an insert past `maxsize` drops
the oldest. Every operation holds the lock briefly and does no I/O. Measured against
cachetools.LRUCache under a threading.Lock: see the commit that introduced this module.
"""

import threading
from collections import OrderedDict


class LRU:
    """At most `maxsize` entries; `get` and `put` count as a use."""

    def __init__(self, maxsize):
        self.maxsize = maxsize
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, default=None):
        """The value for `key` (now the most recently used), or `default`."""
        with self._lock:
            try:
                self._entries.move_to_end(key)
            except KeyError:
                return default
            return self._entries[key]

    def put(self, key, value):
        """Remember `value` for `key`, dropping the least recently used entries beyond maxsize."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def discard(self, key):
        """Forget `key`, if it is remembered."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self):
        """Forget everything."""
        with self._lock:
            self._entries.clear()

    def keys(self):
        """A snapshot of the keys, least recently used first."""
        with self._lock:
            return list(self._entries)

    def values(self):
        """A snapshot of the values, least recently used first."""
        with self._lock:
            return list(self._entries.values())

    def __len__(self):
        return len(self._entries)

    def __iter__(self):
        return iter(self.keys())

    def __contains__(self, key):
        with self._lock:
            return key in self._entries
