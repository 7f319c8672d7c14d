"""core.lru: a bounded, thread-safe LRU."""

import threading

from core.lru import LRU


def test_get_returns_what_was_put_or_the_default():
    lru = LRU(2)
    lru.put("a", 1)
    assert lru.get("a") == 1
    assert lru.get("missing") is None
    assert lru.get("missing", "none") == "none"


def test_the_least_recently_used_entry_goes_first():
    lru = LRU(3)
    for key in "abc":
        lru.put(key, key.upper())
    lru.get("a")  # a hit: a is now the most recently used
    lru.put("d", "D")
    assert lru.keys() == ["c", "a", "d"]
    assert "b" not in lru and lru.get("b") is None


def test_putting_an_existing_key_replaces_its_value_and_counts_as_a_use():
    lru = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    lru.put("a", 3)
    lru.put("c", 4)
    assert lru.keys() == ["a", "c"] and lru.get("a") == 3


def test_discard_and_clear_forget():
    lru = LRU(3)
    lru.put("a", 1)
    lru.put("b", 2)
    lru.discard("a")
    lru.discard("never there")
    assert list(lru) == ["b"] and lru.values() == [2]
    lru.clear()
    assert len(lru) == 0


def test_a_smaller_maxsize_applies_at_the_next_put():
    lru = LRU(4)
    for n in range(4):
        lru.put(n, n)
    lru.maxsize = 2
    lru.put(4, 4)
    assert lru.keys() == [3, 4]


def test_concurrent_use_stays_bounded_and_consistent():
    lru = LRU(16)
    errors = []

    def hammer(offset):
        try:
            for n in range(2000):
                key = (offset + n) % 40
                lru.put(key, key * 2)
                value = lru.get(key)
                assert value is None or value == key * 2
                if n % 7 == 0:
                    lru.discard(key)
        except AssertionError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(lru) <= 16
    assert all(lru.get(key) in (None, key * 2) for key in range(40))
