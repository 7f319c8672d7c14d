from django.urls import path

from core.middleware import protocol_endpoint

from . import registration, views

app_name = "oauth"
urlpatterns = [
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    # Called by clients with what the request carries (client authentication, a token), never a
    # cookie: no browser middleware (core.middleware).
    path("token/", protocol_endpoint(views.TokenView.as_view()), name="token"),
    path("revoke/", protocol_endpoint(views.RevokeTokenView.as_view()), name="revoke"),
    path("introspect/", protocol_endpoint(views.IntrospectTokenView.as_view()), name="introspect"),
    path("userinfo/", protocol_endpoint(views.UserInfoView.as_view()), name="userinfo"),
    path("logout/", views.end_session, name="logout"),
    path("logout/confirm/", views.confirm_logout, name="logout-confirm"),
    # Dynamic client registration (RFC 7591) and client configuration (RFC 7592).
    path("register/", protocol_endpoint(registration.register), name="register"),
    path("register/<str:client_id>/", protocol_endpoint(registration.configure), name="client-configuration"),
]
