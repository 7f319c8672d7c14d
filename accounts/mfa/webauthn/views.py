"""Passkey pages and the JSON endpoints of the ceremonies (static/passkeys.js).

Each ceremony is two requests: a POST (CSRF-protected, no body) answers the options of
navigator.credentials.create() or .get() as JSON and keeps their challenge in the session;
then the page's form posts the browser's answer (`credential`, JSON) as an ordinary form, and
is answered with a redirect (303 after a credential POST), or the page with its error.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import stages

from .. import flows as mfa_flows
from ..forms import CodeForm
from ..stage import KEY
from . import flows
from .ceremony import CeremonyError
from .forms import PasskeyNameForm, RemovePasskeyForm


def _see_other(url):
    return _after_post(HttpResponseRedirect(url))


def _after_post(response):
    """A redirect after a credential POST is a 303 (RFC 9700 4.12: never a 307)."""
    if response.status_code == 302:
        response.status_code = 303
    return response


# --- Account pages ----------------------------------------------------------------------


@never_cache
@login_required
def passkeys(request):
    """`/accounts/passkeys/`: the user's passkeys, and adding one."""
    context = {"passkeys": flows.passkeys(request.user), "form": PasskeyNameForm()}
    return render(request, "mfa/passkeys.html", context)


@never_cache
@login_required
@require_POST
def registration_options(request):
    return JsonResponse(flows.begin_registration(request, user=request.user))


@never_cache
@login_required
@require_POST
def add(request):
    form = PasskeyNameForm(request.POST)
    name = form.cleaned_data["name"] if form.is_valid() else ""
    try:
        passkey = flows.register(request, user=request.user, response_json=request.POST.get("credential"), name=name)
    except CeremonyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Passkey “{passkey.name}” added.")
    return _see_other(reverse("mfa:passkeys"))


@never_cache
@login_required
@require_POST
def rename(request, pk):
    form = PasskeyNameForm(request.POST)
    try:
        flows.rename(user=request.user, pk=pk, name=form.cleaned_data["name"] if form.is_valid() else "")
    except CeremonyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Passkey renamed.")
    return _see_other(reverse("mfa:passkeys"))


@sensitive_post_parameters("password", "code")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def remove(request, pk):
    """Remove a passkey: the password, or a current code (app or recovery), is asked again."""
    passkey = flows.passkeys(request.user).filter(pk=pk).first()
    if passkey is None:
        return redirect("mfa:passkeys")
    form = RemovePasskeyForm(request.POST or None, user=request.user, request=request)
    if request.method == "POST" and form.is_valid():
        flows.remove(user=request.user, pk=pk, by=request.user)
        messages.success(request, f"Passkey “{passkey.name}” removed.")
        return _see_other(reverse("mfa:passkeys"))
    status = 400 if request.method == "POST" else 200
    context = {"passkey": passkey, "form": form, "has_codes": mfa_flows.has_totp(request.user)}
    return render(request, "mfa/passkey_remove.html", context, status=status)


# --- Login ------------------------------------------------------------------------------


@never_cache
@require_POST
def login_options(request):
    """Options for a passwordless login (any discoverable passkey of this site)."""
    return JsonResponse(flows.begin_authentication(request))


@never_cache
@require_POST
def login(request):
    """`/accounts/login/passkey/`: a passwordless login; the other login stages still run."""
    redirect_to = _redirect_target(request)
    try:
        passkey, amr = flows.authenticate(request, response_json=request.POST.get("credential"))
    except CeremonyError as exc:
        messages.error(request, str(exc))
        login_url = reverse("accounts:login")
        if request.POST.get(REDIRECT_FIELD_NAME):
            login_url += "?" + _next_query(request.POST[REDIRECT_FIELD_NAME])
        return _see_other(login_url)
    user = passkey.user
    user.backend = settings.AUTHENTICATION_BACKENDS[-1]
    return _after_post(stages.begin(request, user=user, redirect_to=redirect_to, amr=amr))


@never_cache
@require_POST
def second_factor_options(request):
    """Options for the code step's passkey: the pending login's user's passkeys."""
    login = stages.pending(request, stage=KEY)
    if login is None:
        return JsonResponse({"error": "Your login timed out. Log in again."}, status=400)
    return JsonResponse(flows.begin_authentication(request, user=login.user))


@never_cache
@require_POST
def second_factor(request):
    """`/accounts/login/code/passkey/`: the code step passed with a passkey."""
    login = stages.pending(request, stage=KEY)
    if login is None:
        messages.info(request, "Your login timed out. Log in again.")
        return redirect("accounts:login")
    try:
        _, amr = flows.authenticate(request, user=login.user, response_json=request.POST.get("credential"))
    except CeremonyError as exc:
        codes = mfa_flows.has_totp(login.user) or mfa_flows.remaining_recovery_codes(login.user) > 0
        context = {"form": CodeForm(), "passkey": True, "codes": codes, "error": str(exc)}
        return render(request, "mfa/authenticate.html", context, status=400)
    return _after_post(stages.advance(request, stage=KEY, amr=amr))


def _redirect_target(request):
    target = request.POST.get(REDIRECT_FIELD_NAME, "")
    hosts = {request.get_host()}
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts=hosts, require_https=request.is_secure())
    return target if safe and target else resolve_url(settings.LOGIN_REDIRECT_URL)


def _next_query(target):
    return urlencode({REDIRECT_FIELD_NAME: target})
