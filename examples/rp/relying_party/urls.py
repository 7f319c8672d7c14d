from django.urls import path
from mozilla_django_oidc import views as oidc

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login", oidc.OIDCAuthenticationRequestView.as_view(), name="oidc_authentication_init"),
    # The demo client's registered redirect URI is exactly http://127.0.0.1:8765/callback.
    path("callback", oidc.OIDCAuthenticationCallbackView.as_view(), name="oidc_authentication_callback"),
    path("logout", oidc.OIDCLogoutView.as_view(), name="oidc_logout"),
]
