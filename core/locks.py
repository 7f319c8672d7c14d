"""PostgreSQL advisory locks, and the one table of their ids.

Every advisory lock the project takes is named here, so that two never share an id by accident.
A lock is transaction-scoped (`pg_advisory_xact_lock`): it is released when the transaction
ends, whatever happens. SQLite needs none: its transactions start with BEGIN IMMEDIATE (see
settings), so writers already queue.

Two key spaces, apart from each other in PostgreSQL: one-bigint locks (a single id) and two-int
locks (a class, and a key within it, e.g. a hash of what is locked).
"""

import hashlib

from django.db.transaction import TransactionManagementError

# One-bigint locks. Arbitrary values, but the same in every process.
SIGNING_KEYS = 7_331_002  # writers of the signing-key table (bootstrap, rotation, import)

# Two-int lock classes (the first key; the second is per object).
# One password login at a time: per (username, client IP) at the login page, per
# (username, client_id) in the password grant.
LOGIN_ATTEMPT = 7_331_010


def xact_lock(connection, lock_id, key=None):
    """Take the advisory lock `lock_id` (or the pair `lock_id, key`) until the current
    transaction ends; nothing on a database other than PostgreSQL."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("An advisory lock needs a transaction.")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if key is None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
        else:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [lock_id, key])


def key_of(text):
    """A stable signed 32-bit key for `text` (the second key of a two-int lock)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big", signed=True)
