from typing import NamedTuple

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import devices, flows, session_apps
from .models import SSOSession


class SessionRow(NamedTuple):
    """One row of the sessions page."""

    session: SSOSession
    current: bool
    device: str
    apps: list


@never_cache
@login_required
def sessions_page(request):
    """`/accounts/sessions/`: the user's active sessions (device, IP, start, last use, the apps
    used in each, from the apps above sso through sso.session_apps), with buttons to end them."""
    current = flows.current_sid(request)
    sessions = flows.list_sessions(user=request.user)
    apps = session_apps.apps_by_session(user=request.user, sids=[session.sid for session in sessions])
    rows = [
        SessionRow(session, session.sid == current, devices.describe(session.user_agent), apps.get(session.sid, []))
        for session in sessions
    ]
    return render(request, "sso/sessions.html", {"sessions": rows})


@require_POST
@login_required
def end_session(request, public_id):
    """End one session (CSRF-checked POST). Ending this browser's own session logs it out."""
    try:
        session = flows.end_session(user=request.user, session_id=public_id)
    except SSOSession.DoesNotExist:
        raise Http404("No such session.") from None
    if session.sid == flows.current_sid(request):
        flows.logout(request)
        return HttpResponseRedirect(reverse("accounts:logged-out"))
    return HttpResponseRedirect(reverse("sso:sessions"))


@require_POST
@login_required
def logout_everywhere(request):
    """End every session of the user, this browser's included (CSRF-checked POST)."""
    flows.logout_everywhere(user=request.user)
    flows.logout(request)
    return HttpResponseRedirect(reverse("accounts:logged-out") + "?everywhere=1")
