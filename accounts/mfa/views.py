"""Two-factor pages: the code step of a login, and the account's two-factor settings."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import stages

from . import flows, ip_throttle, trust
from .forms import ConfirmTOTPForm, PasswordForm, TrustedCodeForm
from .stage import KEY
from .webauthn import flows as webauthn_flows


def _code_form_response(request, template, context, check, on_success):
    """A code form's answer: `check(code)` (a flows call, under the per-IP limit); its MFAError
    on the form (400), its Throttled as 429 with Retry-After, else `on_success(result)`. A GET
    shows the form."""
    form = context["form"]
    if request.method == "POST" and form.is_valid():
        try:
            result = ip_throttle.guarded(request, lambda: check(form.cleaned_data["code"]))
        except flows.Throttled as exc:
            form.add_error(None, str(exc))
            response = render(request, template, context, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        except flows.MFAError as exc:
            form.add_error("code", str(exc))
        else:
            return on_success(result)
    return render(request, template, context, status=400 if request.method == "POST" else 200)


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def authenticate(request):
    """`/accounts/login/code/`: after the password, a code from the app or a recovery code.
    Nothing of the session exists until it is right (accounts.stages)."""
    login = stages.pending(request, stage=KEY)
    if login is None:
        messages.info(request, "Your login timed out. Log in again.")
        return redirect("accounts:login")
    form = TrustedCodeForm(request.POST or None, trust_days=settings.MFA_TRUST_BROWSER_DAYS)

    def logged_in(method):
        response = stages.advance(request, stage=KEY, amr=["otp"])
        return trust.remember(response, user=login.user) if form.cleaned_data.get("trust") else response

    return _code_form_response(
        request,
        "mfa/authenticate.html",
        {"form": form, **_second_factors(login.user)},
        check=lambda code: flows.verify(user=login.user, code=code),
        on_success=logged_in,
    )


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def enrol(request):
    """`/accounts/login/2fa/`: a login that must include a second factor, of a user who has none
    yet: set up an authenticator app (as on the account page); its confirmed code is the second
    factor of this login, which then completes, and the recovery codes are shown once, with the
    way on."""
    login = stages.pending(request, stage=KEY)
    if login is None:
        messages.info(request, "Your login timed out. Log in again.")
        return redirect("accounts:login")
    user = login.user
    if flows.is_enabled(user):
        return redirect("mfa:authenticate")
    device = flows.pending_totp(user) if request.method == "POST" else None
    if device is None:
        device = flows.start_totp(user=user)

    def logged_in(codes):
        onward = stages.advance(request, stage=KEY, amr=["otp"])
        context = {"codes": codes, "first": True, "continue_to": onward["Location"]}
        return render(request, "mfa/recovery_codes.html", context)

    return _code_form_response(
        request,
        "mfa/setup.html",
        {"form": ConfirmTOTPForm(request.POST or None), "enrolment": flows.enrolment(device), "at_login": True},
        check=lambda code: flows.confirm_totp(user=user, code=code),
        on_success=logged_in,
    )


def _second_factors(user):
    """What the code step offers: a code (app or recovery code) and/or a passkey."""
    passkey = webauthn_flows.has_passkeys(user)
    # A user with no second factor at all (removed since the password step) sees the page an
    # authenticator-app user sees: the page never tells which users have a device.
    codes = flows.has_totp(user) or flows.remaining_recovery_codes(user) > 0 or not passkey
    return {"codes": codes, "passkey": passkey}


@require_http_methods(["POST"])
def cancel(request):
    """Give up a pending login (its code step)."""
    stages.abandon(request)
    return redirect("accounts:login")


@never_cache
@login_required
def overview(request):
    """`/accounts/2fa/`: whether two-factor authentication is on, and what to do about it."""
    user = request.user
    context = {
        "enabled": flows.has_totp(user),
        "remaining": flows.remaining_recovery_codes(user),
        "passkeys": webauthn_flows.passkeys(user).count(),
    }
    return render(request, "mfa/overview.html", context)


@sensitive_post_parameters("code")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def setup(request):
    """`/accounts/2fa/totp/`: scan the QR code (or type the secret), then confirm a current code.
    The device is used only once confirmed; the recovery codes are shown once, on this answer."""
    user = request.user
    if flows.has_totp(user):
        return redirect("mfa:overview")
    device = flows.pending_totp(user) if request.method == "POST" else None
    if device is None:
        device = flows.start_totp(user=user)
    return _code_form_response(
        request,
        "mfa/setup.html",
        {"form": ConfirmTOTPForm(request.POST or None), "enrolment": flows.enrolment(device)},
        check=lambda code: flows.confirm_totp(user=user, code=code),
        on_success=lambda codes: render(request, "mfa/recovery_codes.html", {"codes": codes, "first": True}),
    )


@never_cache
@login_required
@require_http_methods(["POST"])
def regenerate(request):
    """New recovery codes (the old ones stop working), shown once."""
    try:
        codes = flows.regenerate_recovery_codes(user=request.user)
    except flows.MFAError as exc:
        messages.error(request, str(exc))
        return redirect("mfa:overview")
    return render(request, "mfa/recovery_codes.html", {"codes": codes, "first": False})


@sensitive_post_parameters("password")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def disable(request):
    """Turn two-factor authentication off: the password is asked again."""
    if not flows.is_enabled(request.user):
        return redirect("mfa:overview")
    form = PasswordForm(request.POST or None, user=request.user, request=request)
    if request.method == "POST" and form.is_valid():
        flows.disable(user=request.user, by=request.user)
        messages.success(request, "Two-factor authentication is off.")
        return redirect("mfa:overview")
    status = 400 if request.method == "POST" else 200
    return render(request, "mfa/disable.html", {"form": form}, status=status)
