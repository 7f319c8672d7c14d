"""Batched deletion, and the registry of what `manage.py purge_expired` removes.

A purger is a callable `purger(*, now, batch_size) -> int` that deletes rows that are no longer
needed at `now`, at most `batch_size` per short transaction (so no table is locked for long),
and returns how many it deleted. Each app registers its own in AppConfig.ready():

    from core import purge
    purge.register("oauth.tokens", purge_expired_tokens)
"""

import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections, transaction

_purgers = {}
# While `recording()` is active: one (rows deleted, seconds) pair per batch transaction.
_batches = ContextVar("purge_batches", default=None)
# While `pacing()` is active: seconds to sleep after each batch that deleted rows.
_pause = ContextVar("purge_pause", default=0.0)


def register(name, purger):
    """Add (or replace) the purger called `name`."""
    _purgers[name] = purger


def registered():
    """The registered purgers, by name, in registration order."""
    return dict(_purgers)


@contextmanager
def recording():
    """Collect `(rows, seconds)` for every batch transaction `delete_in_batches` runs inside the
    block (the last one, which finds nothing left, included): `purge_expired -v 2` reports them."""
    batches = []
    token = _batches.set(batches)
    try:
        yield batches
    finally:
        _batches.reset(token)


@contextmanager
def pacing(seconds):
    """Sleep `seconds` after every batch `delete_in_batches` runs inside the block (`purge_expired
    --pause`): a purge on a busy server then takes longer and leaves the CPU and the disk to the
    requests between its batches."""
    token = _pause.set(max(0.0, float(seconds)))
    try:
        yield
    finally:
        _pause.reset(token)


def delete_in_batches(queryset, *, batch_size, collect=True):
    """Delete the rows of `queryset`, at most `batch_size` per short transaction; return the count.

    Each batch takes the next rows in primary-key order after the last batch's (keyset
    pagination: rows the filter keeps, and the dead rows of earlier batches, are read once per
    run, not once per batch) and locks them with FOR UPDATE SKIP LOCKED: a row a request holds
    is left for the next run, and a request waits on the purge for one batch at most.

    `collect=False` deletes each batch with one statement, `DELETE ... WHERE pk IN (<the locked
    batch>) RETURNING pk`, without Django's collector: no pre/post_delete signals, no on_delete
    handling (cascades, SET_NULL), no model instances. Only for rows that need none of that;
    the caller says why.
    """
    deleted, last_pk = 0, None
    while True:
        started = time.monotonic()
        batch = queryset if last_pk is None else queryset.filter(pk__gt=last_pk)
        batch = batch.select_for_update(skip_locked=True, of=("self",)).order_by("pk")
        batch = batch.values_list("pk", flat=True)[:batch_size]
        with transaction.atomic(using=batch.db):
            rows, last_pk = _delete_collected(batch) if collect else _delete_raw(batch)
        _record(rows, time.monotonic() - started)
        if last_pk is None:
            return deleted
        deleted += rows
        if _pause.get():
            time.sleep(_pause.get())


def _delete_collected(batch):
    """(rows deleted, cascades included; the batch's last pk or None)."""
    pks = list(batch)
    if not pks:
        return 0, None
    return batch.model._base_manager.using(batch.db).filter(pk__in=pks).delete()[0], pks[-1]


def _delete_raw(batch):
    """(rows deleted; the batch's last pk or None), in one statement (no pk list round trip)."""
    connection = connections[batch.db]
    select, params = batch.query.get_compiler(batch.db).as_sql()
    table, pk = (connection.ops.quote_name(name) for name in (batch.model._meta.db_table, batch.model._meta.pk.column))
    # Identifiers quoted by the backend, the batch's query compiled by Django, values as parameters.
    sql = f"DELETE FROM {table} WHERE {pk} IN ({select}) RETURNING {pk}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pks = [row[0] for row in cursor.fetchall()]
    return len(pks), max(pks, default=None)


def _record(rows, seconds):
    batches = _batches.get()
    if batches is not None:
        batches.append((rows, seconds))
