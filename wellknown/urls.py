from django.urls import path

from core.middleware import protocol_endpoint

from . import views

# Public documents and probes, read by programs: no browser middleware (core.middleware).
urlpatterns = [
    path(
        ".well-known/openid-configuration", protocol_endpoint(views.openid_configuration), name="openid-configuration"
    ),
    path(
        ".well-known/oauth-authorization-server",
        protocol_endpoint(views.authorization_server_metadata),
        name="oauth-authorization-server",
    ),
    path(".well-known/jwks.json", protocol_endpoint(views.jwks), name="jwks"),
    path("health/live", protocol_endpoint(views.live), name="health-live"),
    path("health/ready", protocol_endpoint(views.ready), name="health-ready"),
]
