"""The security audit log: one append-only table, written by `audit.record(...)`.

`record` is re-exported here so that callers write `audit.record(event=..., ...)`; see
audit/recording.py for its contract.
"""

# record()'s default actor: the logged-in user of the request being answered (audit.middleware).
FROM_REQUEST = object()


def record(**kwargs):
    """Record a security event (audit.recording.record; imported lazily so that importing the
    package does not load its models before the app registry is ready)."""
    from .recording import record as _record

    return _record(**kwargs)
