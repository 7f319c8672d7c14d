from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core import openapi

from . import claims, flows, lockout, login_context, stages, throttling, verification
from .forms import LoginForm, PasswordChangeForm, PasswordResetForm, ProfileForm, RegistrationForm, SetPasswordForm
from .mfa import api as mfa_api
from .mfa import flows as mfa_flows
from .serializers import SelfRegistrationSerializer, UserSerializer
from .signals import password_change_by

# A longer login_hint cannot be a username (150 characters at most): it is ignored.
MAX_LOGIN_HINT_LENGTH = 150


def login_hint(next_url):
    """The OpenID Connect `login_hint` of the authorization request in `next_url`, or None.

    Only a prefill: the template escapes it, and a hint that could not be a username is dropped.
    """
    values = parse_qs(urlsplit(next_url or "").query).get("login_hint", [])
    hint = values[0].strip() if len(values) == 1 else ""
    if not hint or len(hint) > MAX_LOGIN_HINT_LENGTH or not hint.isprintable():
        return None
    return hint


class LoginView(auth_views.LoginView):
    """Password login; Django cycles the session key on login (no fixation).

    A login asked for by the authorization endpoint (prompt=login, max_age) is an ordinary
    login: Django's `user_logged_in` signal lets the SSO session record it as the new login
    time (the `auth_time` claim), which the endpoint then sees.
    Failed attempts are counted and locked out by django-axes (accounts.lockout): a locked-out
    attempt is answered 429 by its middleware, whatever the password.
    """

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = False

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        # Validating the form authenticates: the lockout check, the password check and the
        # counting of a failure, done one attempt at a time per (username, client IP).
        with lockout.browser_login_attempt(request):
            valid = form.is_valid()
        return self.form_valid(form) if valid else self.form_invalid(form)

    def form_valid(self, form):
        # The password was right: the login stages (accounts.stages) may ask for more first.
        return stages.begin(self.request, user=form.get_user(), redirect_to=self.get_success_url())

    def get_initial(self):
        initial = super().get_initial()
        hint = login_hint(self.get_redirect_url())
        if hint:
            initial["username"] = hint
        return initial

    def get_context_data(self, **kwargs):
        # "Log in to continue to <client>": see accounts.login_context.
        extra = login_context.context(self.request, self.get_redirect_url())
        self.img_origins = extra.pop("img_origins", [])
        return {**super().get_context_data(**kwargs), **extra}

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if getattr(self, "img_origins", None):
            # django-csp: this response's img-src also allows the client's logo.
            response._csp_update = {"img-src": list(self.img_origins)}
        return response


class LogoutView(auth_views.LogoutView):
    """POST-only logout (Django 5), CSRF-protected; then the "you are logged out" page
    (LOGOUT_REDIRECT_URL), reached by a GET so that reloading it posts nothing again."""


@never_cache
def logged_out(request):
    """`/accounts/logged-out/`: says so. `?everywhere=1` after "log out everywhere"."""
    return render(request, "accounts/logged_out.html", {"everywhere": request.GET.get("everywhere") == "1"})


@never_cache
def home(request):
    """`/`: what this server is, for a visitor; a signed-in person goes to their account."""
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("accounts:profile"))
    return render(request, "accounts/home.html")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's password (the old one is asked). This browser stays logged in; every other
    session of the user ends and every earlier token is refused (see `signals.password_changed`)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password-change-done")
    form_class = PasswordChangeForm  # the current password is checked under the login lockout

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        with password_change_by(self.request):  # the save announces the change (signals.py)
            return super().form_valid(form)  # and keeps this session (new key, new hash)


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


# --- Password reset (Django's views and token, default_token_generator) -----------------------


class PasswordResetView(auth_views.PasswordResetView):
    """`/accounts/password/reset/`: ask for a reset link. The answer is the same page whether or
    not an account has the address, and comes as fast (accounts.flows.request_password_reset);
    requests are throttled per client IP and per address (429)."""

    template_name = "accounts/password_reset.html"
    form_class = PasswordResetForm
    success_url = reverse_lazy("accounts:password-reset-sent")

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        if not throttling.password_reset_allowed(self.request, email=email):
            form.add_error(None, "Too many password reset requests. Try again later.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        flows.request_password_reset(email=email)
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link in the mail. Django's view moves the token from the URL into the session and
    redirects to a URL without it (no token in a Referer or in the history of the page with the
    form). A completed reset ends every session and refuses every earlier token of the user
    (accounts.flows.reset_password); nobody is logged in: the person logs in with the new
    password, which also checks it works."""

    template_name = "accounts/password_reset_confirm.html"
    form_class = SetPasswordForm
    success_url = reverse_lazy("accounts:password-reset-complete")
    post_reset_login = False

    def get_user(self, uidb64):
        return flows.user_for_reset_uid(uidb64)

    def form_valid(self, form):
        flows.reset_password(request=self.request, user=self.user, password=form.cleaned_data["new_password1"])
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        return HttpResponseRedirect(self.get_success_url())

    def render_to_response(self, context, **kwargs):
        if not context.get("validlink"):
            kwargs["status"] = 400  # an invalid, expired or used link
        elif context["form"].errors:
            kwargs["status"] = 400
        return super().render_to_response(context, **kwargs)


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# --- Email verification ----------------------------------------------------------------------

VERIFY_SESSION_KEY = "identity_verify_email_token"
MAX_TOKEN_LENGTH = 512  # ours are about 150 characters


@never_cache
def verify_email_link(request, token):
    """`/accounts/verify-email/<token>/`, the link in the mail: as Django's password reset does,
    the token moves into the session and the browser goes on to a URL without it."""
    if len(token) > MAX_TOKEN_LENGTH:
        return _invalid_verification(request)
    try:
        verification.user_for_token(token)
    except verification.InvalidToken:
        return _invalid_verification(request)
    request.session[VERIFY_SESSION_KEY] = token
    return HttpResponseRedirect(reverse("accounts:verify-email-confirm"))


@csrf_protect
@never_cache
def verify_email_confirm(request):
    """`/accounts/verify-email/`: "this address belongs to this account", confirmed by a POST.

    A click is asked for because mail scanners follow every link they see: a GET that verified
    would let anyone who registered with someone else's address have it verified by that
    person's mail filter."""
    token = request.session.get(VERIFY_SESSION_KEY, "")
    try:
        user = verification.user_for_token(token) if request.method != "POST" else flows.verify_email(token=token)
    except verification.InvalidToken:
        return _invalid_verification(request)
    if request.method != "POST":
        return render(request, "accounts/verify_email.html", {"account": user})
    request.session.pop(VERIFY_SESSION_KEY, None)
    messages.success(request, f"Your email address {user.email} is verified.")
    if request.user.is_authenticated and request.user.pk == user.pk:
        return HttpResponseRedirect(reverse("accounts:profile"))
    return HttpResponseRedirect(reverse("accounts:login"))


def _invalid_verification(request):
    return render(request, "accounts/verify_email_invalid.html", status=400)


@require_POST
@csrf_protect
@never_cache
@login_required
def resend_verification(request):
    """`POST /accounts/verify-email/resend/`: mail the verification link again (throttled per user)."""
    user = request.user
    if user.email_verified or not user.email:
        note = "Your email address is already verified." if user.email else "Add an email address first."
        messages.info(request, note)
        return HttpResponseRedirect(reverse("accounts:profile"))
    if not throttling.verification_email_allowed(request, user=user):
        context = {"form": ProfileForm(initial=_profile_initial(user)), "resend_error": True}
        return render(request, "accounts/profile.html", context, status=429)
    flows.send_verification_email(user=user)
    messages.success(request, f"We sent a new verification link to {user.email}.")
    return HttpResponseRedirect(reverse("accounts:profile"))


# --- The profile -----------------------------------------------------------------------------


def _profile_initial(user):
    return {name: getattr(user, name) for name in claims.EDITABLE_FIELDS}


@csrf_protect
@never_cache
@login_required
def profile(request):
    """`/accounts/profile/`: the account, and the form that changes the name and the address."""
    user = request.user
    form = ProfileForm(request.POST if request.method == "POST" else None, initial=_profile_initial(user))
    if request.method == "POST" and form.is_valid():
        # Each new address asked for sends a mail (to it, or to the account that has it): at
        # most VERIFICATION_EMAIL_RATE per user, counted whoever has the address.
        email = form.cleaned_data["email"]
        if email and email != user.email and not throttling.verification_email_allowed(request, user=user):
            form.add_error("email", EMAIL_CHANGE_THROTTLED)
            return render(request, "accounts/profile.html", {"form": form}, status=429)
        asked = flows.update_profile(user=user, **form.cleaned_data)
        # The same note whether or not another account has the address (flows.update_profile).
        note = f" {EMAIL_CHANGE_NOTE.format(email=asked)}" if asked else ""
        messages.success(request, "Your changes have been saved." + note)
        return HttpResponseRedirect(reverse("accounts:profile"))
    return render(request, "accounts/profile.html", {"form": form}, status=400 if form.errors else 200)


# The same notes whether or not the address already has an account (flows.sign_up,
# flows.update_profile).
EMAIL_CHANGE_NOTE = "We sent a link to {email}: your address changes to it when you follow the link."
EMAIL_CHANGE_THROTTLED = "Too many changes of address were asked for. Try again later."
SIGN_UP_NOTE = "We sent a message to {email}: follow its link to add the address to your account."


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def register(request):
    if not settings.REGISTRATION_OPEN:
        return render(request, "accounts/registration_closed.html", status=403)
    # Bound on every POST, even an empty one, so that missing fields are errors (400).
    form = RegistrationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and not throttling.registration_allowed(request):
        form.add_error(None, "Too many registrations from your network. Try again later.")
        return render(request, "accounts/register.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        try:
            user = flows.sign_up(**form.cleaned_data)
        except flows.RegistrationError as exc:
            for field, errors in exc.errors.items():
                for message in errors:
                    form.add_error(field, message)
        else:
            messages.info(request, SIGN_UP_NOTE.format(email=form.cleaned_data["email"]))
            # Logged in through the login stages, as after a password: MFA_REQUIRED=all sends
            # the new user to set up a second factor first.
            user.backend = "django.contrib.auth.backends.ModelBackend"
            return stages.begin(request, user=user, redirect_to=reverse(settings.LOGIN_REDIRECT_URL))
    return render(request, "accounts/register.html", {"form": form}, status=400 if form.errors else 200)


class _RegisteredSerializer(UserSerializer):
    totp = mfa_api.EnrolmentSerializer(required=False, help_text='With `"totp": true`: the authenticator app\'s data.')

    class Meta:
        ref_name = "RegisteredUser"  # its OpenAPI component


@extend_schema_view(
    post=extend_schema(
        tags=["accounts"],
        summary="Register (self-service)",
        auth=[],
        request=SelfRegistrationSerializer,
        responses={
            201: _RegisteredSerializer,
            **openapi.errors(400, 403, 429, e403="Self-registration is closed on this server."),
        },
        examples=[
            OpenApiExample(
                "Register",
                value={"username": "ada", "email": "ada@example.com", "password": "correct horse battery staple"},
                request_only=True,
            ),
            OpenApiExample(
                "Registered",
                value={
                    "sub": "3f0c9a7e-2c1b-4c55-9c43-7d6c1b3f2a10",
                    "username": "ada",
                    "email": "ada@example.com",
                    "email_verified": False,
                    "date_joined": "2026-01-31T12:00:00Z",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
)
class RegistrationAPIView(APIView):
    """`POST /api/users/`: self-registration. 201 with the user, 400 with field errors; with
    `"totp": true`, the answer also carries the authenticator app's enrolment data."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = [throttling.RegistrationThrottle]

    def post(self, request):
        if not settings.REGISTRATION_OPEN:
            return Response({"detail": "Self-registration is closed on this server."}, status=status.HTTP_403_FORBIDDEN)
        serializer = SelfRegistrationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        details = dict(serializer.validated_data)
        with_totp = details.pop("totp")
        try:
            user = flows.sign_up(**details)
        except flows.RegistrationError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        # The address asked for, which joins the account once verified (flows.sign_up): the
        # same answer whether or not another account has it.
        body = {**UserSerializer(user).data, "email": details["email"]}
        if with_totp:
            # An unconfirmed device: confirmed later with POST /api/me/totp/verify.
            body["totp"] = mfa_api.enrolment_data(mfa_flows.enrolment(mfa_flows.start_totp(user=user)))
        response = Response(body, status=status.HTTP_201_CREATED)
        if with_totp:
            response["Cache-Control"] = "no-store"
        return response
