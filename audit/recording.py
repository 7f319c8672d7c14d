"""`record(...)`: write one security event, inside the caller's transaction.

The row is written with the connection the caller is using, in whatever transaction is open:
an event of a change that rolls back rolls back with it, so the log never shows a change that
did not happen. Outside a transaction (autocommit) it is committed at once.

Writing an event never breaks the request that caused it: the row is built from values
normalised here (text truncated to its column, the detail made JSON and stripped of secrets),
so the INSERT can fail only when the database does. In autocommit that failure is logged and
the request goes on. Inside a transaction it is not caught: PostgreSQL has then aborted the
caller's transaction, whose change cannot commit either, and hiding the error would only move
it to the caller's next statement (a savepoint would catch it, at the price of two more
statements for every event).
"""

import json
import logging
import re

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, router, transaction

from core import client_ip

from . import FROM_REQUEST, events
from .middleware import current_request
from .models import SecurityEvent

log = logging.getLogger(__name__)

# A detail key containing one of these names a secret: it is dropped, whatever its value.
SECRET_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "code",
    "otp",
    "assertion",
    "verifier",
    "authorization",
    "cookie",
    "credential",
    "private",
    "key",
    "hash",
    "signature",
)
# A value that looks like a JWT (or any JOSE compact serialization) is dropped too.
_JOSE = re.compile(r"eyJ[\w-]*\.[\w-]*\.")
MAX_TEXT = 500  # characters of one string value in the detail
MAX_ITEMS = 50  # entries of one object or list in the detail
MAX_DEPTH = 4


def record(
    *,
    event,
    request=None,
    actor=FROM_REQUEST,
    subject=None,
    client_id="",
    outcome=events.SUCCESS,
    detail=None,
    ip_address=None,
    user_agent=None,
):
    """Record that `event` (an audit.events constant) happened; return the SecurityEvent.

    `actor` is the user who acted (None: nobody logged in, a command, the system; by default the
    logged-in user of the request), `subject` the user acted upon (defaults to an actor given
    explicitly: a user acting on their own account). `request` (a Django or DRF request; by
    default the one being answered, audit.middleware) gives the client's IP address
    (core.client_ip) and user agent unless `ip_address` / `user_agent` are given. `detail` is a
    small JSON object; keys that name a secret (see SECRET_KEY_PARTS) and values that look like a
    JWT are left out.
    Returns None when the event could not be written outside a transaction (logged)."""
    if event not in events.DESCRIPTIONS:
        raise ValueError(f"Unknown audit event type: {event!r}")
    if subject is None and actor is not FROM_REQUEST:
        subject = actor
    request = request if request is not None else current_request()
    if actor is FROM_REQUEST:
        actor = getattr(request, "user", None)
    row = SecurityEvent(
        event=event,
        outcome=outcome,
        actor_id=_pk(actor),
        actor_username=_username(actor),
        subject_id=_pk(subject),
        subject_username=_username(subject),
        client_id=_text(client_id, 100),
        ip_address=ip_address if ip_address is not None else _ip(request),
        user_agent=_text(user_agent if user_agent is not None else _agent(request), 255),
        detail=clean_detail(detail or {}),
    )
    using = router.db_for_write(SecurityEvent)
    if transaction.get_connection(using).in_atomic_block:
        row.save(using=using, force_insert=True)
        return row
    try:
        row.save(using=using, force_insert=True)
    except DatabaseError:
        log.exception("Could not record the audit event %s.", event)
        return None
    return row


def clean_detail(detail):
    """`detail` as plain JSON (dates and the like as strings), without secrets, bounded in size."""
    try:
        # No NaN or infinity (PostgreSQL's jsonb refuses them), no circular reference.
        plain = json.loads(json.dumps(detail, cls=_Encoder, allow_nan=False))
    except (ValueError, RecursionError):
        log.warning("An audit event's detail could not be made JSON; it is left out.")
        return {"unrecorded": True}
    cleaned = _clean(plain, depth=0)
    return cleaned if isinstance(cleaned, dict) else {"value": cleaned}


def is_secret_key(key):
    folded = str(key).lower()
    return any(part in folded for part in SECRET_KEY_PARTS)


def _clean(value, *, depth):
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return {}
        items = [(_text(k, MAX_TEXT), v) for k, v in value.items() if not is_secret_key(k)][:MAX_ITEMS]
        return {k: c for k, v in items if (c := _clean(v, depth=depth + 1)) is not _DROP}
    if isinstance(value, list):
        if depth >= MAX_DEPTH:
            return []
        return [c for v in value[:MAX_ITEMS] if (c := _clean(v, depth=depth + 1)) is not _DROP]
    if isinstance(value, str):
        # Printable only: PostgreSQL's jsonb refuses a NUL, and a log is read by people.
        return _DROP if _JOSE.search(value) else _text(value, MAX_TEXT)
    return value


_DROP = object()


class _Encoder(DjangoJSONEncoder):
    def default(self, o):
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _pk(user):
    pk = getattr(user, "pk", None)
    return pk if isinstance(pk, int) else None


def _username(user):
    if user is None or _pk(user) is None:
        return ""
    return _text(user.get_username(), 150)


def _ip(request):
    return client_ip.address(request) if request is not None else None


def _agent(request):
    return request.META.get("HTTP_USER_AGENT", "") if request is not None else ""


def _text(value, limit):
    text = "" if value is None else str(value)
    return "".join(c if c.isprintable() else "\ufffd" for c in text)[:limit]
