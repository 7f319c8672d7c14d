"""OpenID Connect Back-Channel Logout 1.0: telling clients that a user's session ended.

When sessions end (oauth.logout), every client with a `backchannel_logout_uri` that holds
tokens or grants of those sessions gets an outbox row (BackchannelLogout), written in the
transaction that revokes the tokens. After the commit a small pool of threads POSTs the
logout tokens (`application/x-www-form-urlencoded`, `logout_token=<JWT>`), off the user's
request: a slow or unreachable client never delays a logout. A 2xx answer is delivered;
anything else is retried with exponential backoff, in this process (a timer) and by
`manage.py deliver_backchannel_logouts` (cron), until BACKCHANNEL_LOGOUT_MAX_ATTEMPTS.

Several processes may deliver at once: a delivery first claims its rows in a short
transaction (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite serializes writers) and
leases them (next_attempt_at moves past the attempt's timeout), so no row is sent twice at
once and a process that dies mid-delivery only delays the row until its lease ends.

The logout token (section 2.4): header `typ: logout+jwt`, RS256, `kid`; claims `iss`, `aud`
(the client_id), `iat`, `exp` (2 minutes), `jti`, `sub`, `sid` (unless the logout covers
every session of the user) and `events`; never a `nonce`. It is signed at each attempt.
Logs name clients and outbox rows, never a token or a whole sid.
"""

import heapq
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

import requests
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from .jws import sign
from .models import BackchannelLogout

log = logging.getLogger(__name__)

LOGOUT_TOKEN_TYPE = "logout+jwt"
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_LIFETIME = 120
BACKOFF_BASE_SECONDS = 15
BACKOFF_MAX_SECONDS = 3600
BATCH_SIZE = 100


# --- Building -------------------------------------------------------------------------------


def logout_token_claims(*, issuer, client_id, subject, sid, jti, now):
    """The claims of a logout token (Back-Channel Logout 1.0, section 2.4). Pure."""
    claims = {
        "iss": issuer,
        "aud": client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_LIFETIME,
        "jti": jti,
        "sub": subject,
        "events": {LOGOUT_EVENT: {}},
    }
    if sid:
        claims["sid"] = sid
    return claims


def logout_token(row, *, now=None):
    """Sign the logout token of outbox `row` (with the current signing key)."""
    claims = logout_token_claims(
        issuer=settings.ISSUER,
        client_id=row.client.client_id,
        subject=row.subject,
        sid=row.sid,
        jti=row.jti,
        now=int(time.time()) if now is None else now,
    )
    return sign(claims, typ=LOGOUT_TOKEN_TYPE)


def enqueue(*, subject, targets, everywhere):
    """Write the outbox rows for one ending of sessions; returns their ids.

    `targets` maps each client to notify to the ended sids it holds tokens or grants of.
    A logout of one session names it (`sid`); a logout everywhere sends one token per client
    without `sid` (every session of the user), except to clients that require a `sid`, which
    get one token per ended session they took part in.
    """
    now = timezone.now()
    rows = []
    for client, sids in targets.items():
        scoped = [""] if everywhere and not client.backchannel_logout_session_required else sorted(sids)
        rows += [
            BackchannelLogout(
                client=client, subject=subject, sid=sid, jti=secrets.token_urlsafe(24), next_attempt_at=now
            )
            for sid in scoped
        ]
    BackchannelLogout.objects.bulk_create(rows)
    return [row.pk for row in rows]


# --- Delivering -----------------------------------------------------------------------------


@dataclass
class Report:
    """What one delivery run did (outbox row ids)."""

    delivered: list = field(default_factory=list)
    retrying: dict = field(default_factory=dict)  # id -> seconds until the next attempt
    given_up: list = field(default_factory=list)

    def __str__(self):
        return f"{len(self.delivered)} delivered, {len(self.retrying)} to retry, {len(self.given_up)} given up"


def backoff(attempts):
    """Seconds to wait after the `attempts`-th failed attempt: 15, 30, 60, ... at most 1 h."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1), BACKOFF_MAX_SECONDS)


def _lease():
    # Longer than one attempt can take, so that nobody else picks the row meanwhile.
    return timedelta(seconds=2 * settings.BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS + 30)


def _claim(*, ids, limit, now):
    """Take up to `limit` due rows (of `ids`, when given) for this process, and lease them."""
    with transaction.atomic():
        due = BackchannelLogout.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=now)
        if ids is not None:
            due = due.filter(pk__in=ids)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        rows = list(due.select_related("client").order_by("next_attempt_at", "pk")[:limit])
        if rows:
            BackchannelLogout.objects.filter(pk__in=[row.pk for row in rows]).update(
                attempts=F("attempts") + 1, next_attempt_at=now + _lease()
            )
    for row in rows:
        row.attempts += 1
    return rows


def _post(row):
    """One attempt: None when the client answered 2xx, else a short reason (no secrets)."""
    uri = row.client.backchannel_logout_uri
    if not uri:
        return "the client has no back-channel logout URI any more"
    try:
        response = requests.post(
            uri,
            data={"logout_token": logout_token(row)},
            timeout=settings.BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return type(exc).__name__
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


def _record(row, error, report):
    now = timezone.now()
    pending = BackchannelLogout.objects.filter(pk=row.pk, delivered_at__isnull=True)
    if error is None:
        pending.update(delivered_at=now, next_attempt_at=None, last_error="")
        report.delivered.append(row.pk)
        log.info("Back-channel logout %s delivered to client %s.", row.pk, row.client.client_id)
    elif row.attempts >= settings.BACKCHANNEL_LOGOUT_MAX_ATTEMPTS:
        pending.update(next_attempt_at=None, last_error=error[:300])
        report.given_up.append(row.pk)
        log.error(
            "Back-channel logout %s to client %s given up after %d attempts (%s).",
            row.pk,
            row.client.client_id,
            row.attempts,
            error,
        )
    else:
        delay = backoff(row.attempts)
        pending.update(next_attempt_at=now + timedelta(seconds=delay), last_error=error[:300])
        report.retrying[row.pk] = delay
        log.warning(
            "Back-channel logout %s to client %s failed (%s); attempt %d, retrying in %d s.",
            row.pk,
            row.client.client_id,
            error,
            row.attempts,
            delay,
        )


def deliver_due(*, ids=None, limit=BATCH_SIZE, now=None):
    """Attempt every due outbox row (of `ids`, when given), at most `limit`. Returns a Report.

    Idempotent and safe to run in several processes at once (rows are claimed and leased).
    """
    report = Report()
    for row in _claim(ids=ids, limit=limit, now=now or timezone.now()):
        _record(row, _post(row), report)
    return report


# --- In the background, after the commit ----------------------------------------------------

_lock = threading.Lock()
_executor = None
_timers = []  # heap of (when, ids): in-process retries
_timer_thread = None
_wakeup = threading.Condition(_lock)


def deliver_soon(ids):
    """After the commit that wrote outbox rows `ids`: attempt them now, each in a worker thread.

    Called through transaction.on_commit. When the connection is still inside a transaction
    (only tests capturing on-commit callbacks do that), another thread could not see the
    rows yet: they stay for the next delivery run.
    """
    if not ids or connection.in_atomic_block:
        return
    # One task per row: a client that hangs holds one worker for at most the timeout, and the
    # other clients of the same logout are not queued behind it.
    for pk in ids:
        _submit([pk])


def _submit(ids):
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=max(1, settings.BACKCHANNEL_LOGOUT_WORKERS), thread_name_prefix="backchannel-logout"
            )
        executor = _executor
    executor.submit(_deliver_in_background, ids)


def _deliver_in_background(ids):
    try:
        report = deliver_due(ids=ids)
        for pk, delay in report.retrying.items():
            _retry_later([pk], delay)
    except Exception:
        # A worker thread has nobody to raise to; the rows stay due for the command.
        log.exception("Back-channel logout delivery failed; the outbox keeps the rows for a retry.")
    finally:
        connections.close_all()  # this thread's connections only


def _retry_later(ids, delay):
    global _timer_thread
    with _wakeup:
        heapq.heappush(_timers, (time.monotonic() + delay, ids))
        if _timer_thread is None:
            _timer_thread = threading.Thread(target=_run_timers, name="backchannel-logout-retry", daemon=True)
            _timer_thread.start()
        _wakeup.notify()


def _run_timers():
    while True:
        with _wakeup:
            while not _timers or _timers[0][0] > time.monotonic():
                _wakeup.wait(timeout=(_timers[0][0] - time.monotonic()) if _timers else None)
            _, ids = heapq.heappop(_timers)
        _submit(ids)


def shutdown(wait=True):
    """Forget pending in-process retries and stop the worker threads (tests; the outbox keeps
    every undelivered row, so nothing is lost)."""
    global _executor
    with _wakeup:
        _timers.clear()
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=wait)
