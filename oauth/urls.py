from django.urls import path

from . import registration, views

app_name = "oauth"
urlpatterns = [
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke/", views.RevokeTokenView.as_view(), name="revoke"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
    path("userinfo/", views.UserInfoView.as_view(), name="userinfo"),
    path("logout/", views.end_session, name="logout"),
    path("logout/confirm/", views.confirm_logout, name="logout-confirm"),
    # Dynamic client registration (RFC 7591) and client configuration (RFC 7592).
    path("register/", registration.register, name="register"),
    path("register/<str:client_id>/", registration.configure, name="client-configuration"),
]
