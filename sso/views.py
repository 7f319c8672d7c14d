from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import flows
from .models import SSOSession


@never_cache
@login_required
def sessions_page(request):
    """`/accounts/sessions/`: the user's active sessions, with buttons to end them."""
    current = flows.current_sid(request)
    sessions = [(session, session.sid == current) for session in flows.list_sessions(user=request.user)]
    return render(request, "sso/sessions.html", {"sessions": sessions})


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
