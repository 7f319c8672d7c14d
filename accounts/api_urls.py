from django.urls import path

from . import views
from .mfa import api as mfa_api

urlpatterns = [
    path("users/", views.RegistrationAPIView.as_view(), name="api-users"),
    path("me/totp/", mfa_api.TOTPView.as_view(), name="api-me-totp"),
    path("me/totp/verify", mfa_api.TOTPVerifyView.as_view(), name="api-me-totp-verify"),
]
