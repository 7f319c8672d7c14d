"""The authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0). Pure."""

from django.conf import settings
from django.urls import get_script_prefix, reverse

from oauth import keys, prompts, registration
from oauth.claims import ACR_VALUES


def _url(view_name):
    # From the URLconf, so that an advertised endpoint cannot drift from what is served.
    # ISSUER already includes any path the server is mounted under (SCRIPT_NAME).
    return settings.ISSUER + reverse(view_name).removeprefix(get_script_prefix().rstrip("/"))


# Every claim we issue: in ID tokens (OpenID Connect Core 2; `sid`: the SSO session, Front- and
# Back-Channel Logout) and from UserInfo, by scope (oauth.validators.Validator.get_additional_claims).
ID_TOKEN_CLAIMS = [
    "iss",
    "sub",
    "aud",
    "azp",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "amr",
    "acr",
    "jti",
    "sid",
]
# Every claim accounts.claims.user_claims can release (OpenID Connect Core 5.1), by scope.
USERINFO_CLAIMS = [
    "name",
    "given_name",
    "middle_name",
    "family_name",
    "nickname",
    "preferred_username",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "address",
    "roles",
    "permissions",
]


def _grant_types_supported():
    # The password grant (RFC 9700 2.4: MUST NOT be used) only when the operator turned it on.
    grants = ["authorization_code", "refresh_token", "client_credentials"]
    return [*grants, "password"] if settings.OAUTH_PASSWORD_GRANT_ENABLED else grants


def server_metadata():
    """One document for both RFC 8414 and OpenID Connect Discovery 1.0 (RFC 8414 registers
    the OpenID fields too), listing only what this server really does."""
    issuer = settings.ISSUER
    auth_methods = ["client_secret_basic", "client_secret_post"]
    metadata = {
        "issuer": issuer,
        "authorization_endpoint": _url("oauth:authorize"),
        "token_endpoint": _url("oauth:token"),
        "userinfo_endpoint": _url("oauth:userinfo"),
        "jwks_uri": _url("jwks"),
        "revocation_endpoint": _url("oauth:revoke"),
        "introspection_endpoint": _url("oauth:introspect"),
        "end_session_endpoint": _url("oauth:logout"),
        "scopes_supported": list(settings.OAUTH_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": _grant_types_supported(),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [keys.ALGORITHM],
        "claims_supported": [*ID_TOKEN_CLAIMS, *USERINFO_CLAIMS],
        "acr_values_supported": list(ACR_VALUES),
        "prompt_values_supported": list(prompts.SUPPORTED),
        "token_endpoint_auth_methods_supported": [*auth_methods, "none"],
        "revocation_endpoint_auth_methods_supported": [*auth_methods, "none"],
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "frontchannel_logout_supported": False,
        "frontchannel_logout_session_supported": False,
        # OpenID Connect Back-Channel Logout 1.0 (oauth/backchannel.py): logout tokens carry `sid`.
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }
    if registration.registration_open():
        # RFC 8414 2 / OpenID Connect Discovery 3: advertised only while it registers someone
        # (CLIENT_REGISTRATION token or open), so that no client tries an endpoint that is closed.
        metadata["registration_endpoint"] = _url("oauth:register")
    return metadata
