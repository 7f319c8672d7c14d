"""The authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0). Pure."""

from django.conf import settings
from django.urls import get_script_prefix, reverse


def _url(view_name):
    # From the URLconf, so that an advertised endpoint cannot drift from what is served.
    # ISSUER already includes any path the server is mounted under (SCRIPT_NAME).
    return settings.ISSUER + reverse(view_name).removeprefix(get_script_prefix().rstrip("/"))


def server_metadata():
    issuer = settings.ISSUER
    auth_methods = ["client_secret_basic", "client_secret_post"]
    return {
        "issuer": issuer,
        "authorization_endpoint": _url("oauth:authorize"),
        "token_endpoint": _url("oauth:token"),
        "jwks_uri": _url("jwks"),
        "revocation_endpoint": _url("oauth:revoke"),
        "introspection_endpoint": _url("oauth:introspect"),
        "scopes_supported": list(settings.OAUTH_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "password"],
        "token_endpoint_auth_methods_supported": [*auth_methods, "none"],
        "revocation_endpoint_auth_methods_supported": [*auth_methods, "none"],
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
    }
