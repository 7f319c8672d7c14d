from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from . import flows, lockout, login_context, stages, throttling
from .forms import LoginForm, PasswordChangeForm, RegistrationForm
from .serializers import RegistrationSerializer, UserSerializer
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
    login: it records a new auth_time (accounts.sessions), which the endpoint then sees.
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


@never_cache
@login_required
def profile(request):
    return render(request, "accounts/profile.html", {"user": request.user})


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
            user = flows.register_user(**form.cleaned_data)
        except flows.RegistrationError as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    form.add_error(field, message)
        else:
            auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return HttpResponseRedirect(reverse(settings.LOGIN_REDIRECT_URL))
    return render(request, "accounts/register.html", {"form": form}, status=400 if form.errors else 200)


class RegistrationAPIView(APIView):
    """`POST /api/users/`: self-registration. 201 with the user, 400 with field errors."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = [throttling.RegistrationThrottle]

    def post(self, request):
        if not settings.REGISTRATION_OPEN:
            return Response({"detail": "Self-registration is closed on this server."}, status=status.HTTP_403_FORBIDDEN)
        serializer = RegistrationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = flows.register_user(**serializer.validated_data)
        except flows.RegistrationError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)
