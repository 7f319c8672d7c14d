"""SSO session use cases: start, check, end one, end all, move the user's not-before.

Every function that ends sessions writes PostgreSQL (the truth) in one transaction and, once it
has committed, updates the revocation store's Redis keys and sends `sso.signals.sessions_ended`.
Logs name users by primary key and sessions by public id or a sid prefix, never a whole sid.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.utils import timezone

import audit
from accounts.stages import AMR_REQUEST_ATTRIBUTE
from audit import events
from core import client_ip

from . import revocation
from .models import USER_AGENT_MAX_LENGTH, SSOSession, UserNotBefore
from .signals import sessions_ended

logger = logging.getLogger(__name__)

# The Django session key under which the browser's SSO session id is kept (server-side only).
SID_SESSION_KEY = "identity_sso_sid"
# accounts.stages sets AMR_REQUEST_ATTRIBUTE on the request before calling
# django.contrib.auth.login: the methods that authenticated the user, e.g. ["otp", "pwd"]
# (default ["pwd"]).

# The request attribute holding the SSOSession this request was checked (or started) with.
SESSION_REQUEST_ATTRIBUTE = "_sso_session"
# last_seen_at (and the idle expiry) move at most this often.
TOUCH_INTERVAL = timedelta(seconds=60)


def _idle():
    return timedelta(seconds=settings.SSO_SESSION_IDLE_SECONDS)


def _absolute():
    return timedelta(seconds=settings.SSO_SESSION_ABSOLUTE_SECONDS)


# --- Starting and checking ------------------------------------------------------------------


def start_session(*, request, user, amr=None):
    """Bind an SSO session to the browser that just logged in (Django has cycled its key).

    A browser that logs in again as the same user (re-authentication, a step-up) keeps its
    session, which records the methods of this login (a step-up's include the session's
    earlier ones, accounts.stages); otherwise a new session with a new sid starts.
    """
    now = timezone.now()
    amr = list(amr or getattr(request, AMR_REQUEST_ATTRIBUTE, None) or ["pwd"])
    current = _session_for(request, now)
    if current is not None and current.user_id == user.pk:
        current.amr = sorted(set(amr))  # this login's methods
        current.authenticated_at = current.last_seen_at = now
        current.idle_expires_at = min(now + _idle(), current.expires_at)
        current.save(update_fields=["amr", "authenticated_at", "last_seen_at", "idle_expires_at"])
        setattr(request, SESSION_REQUEST_ATTRIBUTE, current)
        return current
    session = SSOSession.objects.create(
        user=user,
        created_at=now,
        last_seen_at=now,
        ip=client_ip.address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH],
        amr=amr,
        authenticated_at=now,
        idle_expires_at=now + min(_idle(), _absolute()),
        expires_at=now + _absolute(),
    )
    request.session[SID_SESSION_KEY] = session.sid
    setattr(request, SESSION_REQUEST_ATTRIBUTE, session)
    transaction.on_commit(
        lambda: revocation.mark_session_active(session.sid, user.pk, session.idle_expires_at), robust=True
    )
    logger.info("SSO session %s started for user %s (amr %s).", session.public_id, user.pk, ",".join(amr))
    return session


def _session_for(request, now):
    sid = request.session.get(SID_SESSION_KEY) if hasattr(request, "session") else None
    if not sid:
        return None
    return SSOSession.objects.active(now).filter(sid=sid).first()


def current_sid(request):
    """The sid bound to this browser's Django session, or None."""
    return request.session.get(SID_SESSION_KEY) if hasattr(request, "session") else None


def auth_time(request):
    """Unix time at which the user of this browser's SSO session last authenticated (its
    `authenticated_at`), or None when no active SSO session is bound to the browser.

    No query for a request the middleware already checked (or a login just started)."""
    sid = current_sid(request)
    if not sid:
        return None
    session = getattr(request, SESSION_REQUEST_ATTRIBUTE, None)
    if session is None or session.sid != sid:
        session = SSOSession.objects.active(timezone.now()).filter(sid=sid).first()
    return int(session.authenticated_at.timestamp()) if session is not None else None


def current_amr(request):
    """The authentication methods (RFC 8176) of this browser's active SSO session, or None.

    The session SSOSessionMiddleware checked on this request (or a login just started), when
    there is one (no query)."""
    session = getattr(request, SESSION_REQUEST_ATTRIBUTE, None)
    if session is None or session.sid != current_sid(request):
        session = _session_for(request, timezone.now())
    return list(session.amr) if session is not None and session.amr else None


def enforce_browser_session(request):
    """Log the browser out unless its SSO session is active; note activity once a minute.

    Called by SSOSessionMiddleware for requests whose Django session is authenticated.
    """
    now = timezone.now()
    sid = request.session.get(SID_SESSION_KEY)
    session = SSOSession.objects.filter(sid=sid).first() if sid else None
    user_id = request.session.get(SESSION_KEY)
    if session is None or not session.is_active(now) or str(session.user_id) != str(user_id):
        reason = "missing" if session is None else "ended"
        logger.info("Browser of user %s logged out: its SSO session is %s.", user_id, reason)
        auth.logout(request)
        return False
    setattr(request, SESSION_REQUEST_ATTRIBUTE, session)
    if now - session.last_seen_at >= TOUCH_INTERVAL:
        SSOSession.objects.active(now).filter(pk=session.pk).update(
            last_seen_at=now, idle_expires_at=min(now + _idle(), session.expires_at)
        )
    return True


def list_sessions(*, user):
    """The user's active sessions, most recently seen first."""
    return list(SSOSession.objects.active(timezone.now()).filter(user=user).order_by("-last_seen_at"))


# --- Ending ---------------------------------------------------------------------------------


def logout(request):
    """Log this browser out: its SSO session ends (through the `user_logged_out` receiver)."""
    auth.logout(request)


def end_browser_session(*, request, user):
    """`user_logged_out`: end the SSO session bound to this browser, if any."""
    sid = current_sid(request)
    if sid and user is not None:
        sessions = SSOSession.objects.filter(user=user, sid=sid)
        _end(user=user, sessions=sessions, everywhere=False, why="logout", event=events.LOGOUT, actor=user)


def end_session(*, user, session_id):
    """End one of `user`'s sessions, named by its public id. Ending an ended session is a no-op.

    Raises SSOSession.DoesNotExist when `user` has no such session (another user's included).
    """
    session = SSOSession.objects.get(user=user, public_id=session_id)
    sessions = SSOSession.objects.filter(pk=session.pk)
    _end(user=user, sessions=sessions, everywhere=False, why="ended by request", event=events.SESSION_ENDED)
    return session


def logout_everywhere(*, user, except_sid=None, why="logout everywhere"):
    """End every session of `user` (but `except_sid`, when given) and move the user's not-before
    to now, so that every token issued to the user until now is refused. Returns the ended sids."""
    sessions = SSOSession.objects.filter(user=user)
    if except_sid:
        sessions = sessions.exclude(sid=except_sid)
    return _end(user=user, sessions=sessions, everywhere=True, why=why, event=events.LOGOUT_EVERYWHERE)


def bump_not_before(*, user, why="not-before moved"):
    """Refuse every token issued to `user` until now; sessions stay. Returns the new not-before."""
    with transaction.atomic():
        not_before = _move_not_before(user, timezone.now())
        transaction.on_commit(lambda: _announce(user, [], not_before), robust=True)
    logger.info("Not-before of user %s moved to %s (%s).", user.pk, not_before.isoformat(), why)
    return not_before


def _end(*, user, sessions, everywhere, why, event, actor=audit.FROM_REQUEST):
    with transaction.atomic():
        now = timezone.now()
        ended = list(sessions.filter(revoked_at__isnull=True).select_for_update().values_list("sid", "public_id"))
        sids = [sid for sid, _ in ended]
        SSOSession.objects.filter(sid__in=sids, revoked_at__isnull=True).update(revoked_at=now)
        not_before = _move_not_before(user, now) if everywhere else None
        if sids or everywhere:
            detail = {"reason": why, "sessions": [str(public_id) for _, public_id in ended]}
            audit.record(event=event, actor=actor, subject=user, detail=detail)
        if sids or everywhere:
            transaction.on_commit(lambda: _announce(user, sids, not_before), robust=True)
    for _, public_id in ended:
        logger.info("SSO session %s of user %s ended (%s).", public_id, user.pk, why)
    if everywhere:
        logger.info("User %s logged out everywhere (%s): %d session(s) ended.", user.pk, why, len(sids))
    return sids


def _move_not_before(user, now):
    """Set the user's not-before to `now`, never backwards. Returns the value in force."""
    moved = UserNotBefore.objects.filter(user=user, not_before__lt=now).update(not_before=now)
    if not moved:
        with transaction.atomic():  # a savepoint: a concurrent creator may win the race
            UserNotBefore.objects.get_or_create(user=user, defaults={"not_before": now})
    return UserNotBefore.objects.get(user=user).not_before


def _announce(user, sids, not_before):
    """After the commit: update the fast path first (that is what makes tokens die), then tell
    the apps above us."""
    revocation.forget_sessions(sids)
    if not_before is not None:
        revocation.set_not_before(user.pk, not_before)
    everywhere = not_before is not None
    for receiver, result in sessions_ended.send_robust(sender=SSOSession, user=user, sids=sids, everywhere=everywhere):
        if isinstance(result, Exception):
            logger.error("sessions_ended receiver %r failed for user %s", receiver, user.pk, exc_info=result)
