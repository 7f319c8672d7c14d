from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from . import flows, throttling
from .forms import LoginForm, RegistrationForm
from .serializers import RegistrationSerializer, UserSerializer


class LoginView(auth_views.LoginView):
    """Password login; Django cycles the session key on login (no fixation)."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = False


class LogoutView(auth_views.LogoutView):
    """POST-only logout (Django 5), CSRF-protected."""

    template_name = "accounts/logged_out.html"


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
