"""The OAuth 2.0 / OpenID Connect endpoints in the OpenAPI description (drf-spectacular).

django-oauth-toolkit's endpoints are Django views, which drf-spectacular cannot see: they are
described here by hand (form bodies, each grant's parameters, the RFC error bodies) and merged
into the generated schema by `add_protocol_endpoints`, a postprocessing hook named in
SPECTACULAR_SETTINGS. `AccessTokenScheme` describes our DRF authentication class, so every API
operation states which scopes its access token must carry.

The schema is generated per request, so the parts that follow a setting follow it: the password
grant is described (deprecated) only while OAUTH_PASSWORD_GRANT_ENABLED is on, as discovery's
grant_types_supported lists it; the registration endpoint's security follows CLIENT_REGISTRATION.

tests/e2e/openapi checks that every URL pattern under /oauth/ is described here.
"""

from django.conf import settings
from django.urls import reverse
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from core.openapi import BEARER, SESSION


class AccessTokenScheme(OpenApiAuthenticationExtension):
    """oauth.authentication.JWTAccessTokenAuthentication: our RS256 JWT access tokens (RFC 9068)
    in `Authorization: Bearer`. An operation's requirement lists the view's `required_scopes`."""

    target_class = "oauth.authentication.JWTAccessTokenAuthentication"
    name = BEARER

    def get_security_definition(self, auto_schema):
        scopes = dict(settings.OAUTH_SCOPES)
        return {
            "type": "oauth2",
            "description": (
                "An access token of this server (an RS256 JWT, RFC 9068) in `Authorization: Bearer`. "
                "Admin operations also need the `roles` scope and a role or permission, named in "
                "each operation's description."
            ),
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": reverse("oauth:authorize"),
                    "tokenUrl": reverse("oauth:token"),
                    "refreshUrl": reverse("oauth:token"),
                    "scopes": scopes,
                },
                "clientCredentials": {"tokenUrl": reverse("oauth:token"), "scopes": scopes},
            },
        }

    def get_security_requirement(self, auto_schema):
        return {self.name: list(getattr(auto_schema.view, "required_scopes", []))}


# --- The hand-written part ------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
HTML = "text/html"

# Client authentication at the token, introspection and revocation endpoints (RFC 6749 2.3.1).
CLIENT_BASIC = "clientBasic"
SECURITY_SCHEMES = {
    CLIENT_BASIC: {
        "type": "http",
        "scheme": "basic",
        "description": "Client authentication `client_secret_basic`: the client id and secret, form-encoded, "
        "as HTTP Basic (RFC 6749 2.3.1). `client_secret_post` sends `client_id` and `client_secret` in the "
        "form body instead (OpenAPI cannot name body fields as a security scheme: the operations whose "
        "security lists `{}` accept it).",
    },
}
# Dynamic client registration (oauth.registration): the operator's initial access token at the
# registration endpoint (RFC 7591 3), the registration access token at the client configuration
# endpoint (RFC 7592 1.1).
INITIAL_TOKEN = "initialAccessToken"
REGISTRATION_TOKEN = "registrationAccessToken"
SECURITY_SCHEMES.update(
    {
        INITIAL_TOKEN: {
            "type": "http",
            "scheme": "bearer",
            "description": "An initial access token (RFC 7591 3) in `Authorization: Bearer`, issued by an "
            "operator (`manage.py issue_registration_token` or the admin). Needed while `CLIENT_REGISTRATION` "
            "is `token`; while it is `open`, public clients register without one.",
        },
        REGISTRATION_TOKEN: {
            "type": "http",
            "scheme": "bearer",
            "description": "The registration access token (RFC 7592 1.1) the registration answered, in "
            "`Authorization: Bearer`; an update rotates it.",
        },
    }
)
# DRF's SessionAuthentication, as drf-spectacular names it (views that name their security
# themselves with extend_schema(auth=…) do not register it).
SESSION_SCHEME = {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
# Basic, or the credentials in the form body (`{}`: nothing OpenAPI can express as a scheme).
CLIENT_AUTH = [{CLIENT_BASIC: []}, {}]


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _string(description, **extra):
    return {"type": "string", "description": description, **extra}


def _error_schema(codes, spec):
    return {
        "type": "object",
        "description": f"An OAuth error body ({spec}).",
        "properties": {
            "error": {"type": "string", "enum": codes},
            "error_description": {"type": "string"},
            "error_uri": {"type": "string", "format": "uri"},
        },
        "required": ["error"],
    }


TOKEN_ERRORS = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "slow_down",
]
BEARER_ERRORS = ["invalid_request", "invalid_token", "insufficient_scope"]

_CLIENT_FIELDS = {
    "client_id": _string("The client id (`client_secret_post` and public clients)."),
    "client_secret": _string("The client secret (`client_secret_post` only)."),
}

SCHEMAS = {
    "OAuthError": _error_schema(TOKEN_ERRORS + ["unsupported_token_type"], "RFC 6749 5.2, RFC 7009 2.2.1"),
    "BearerError": _error_schema(BEARER_ERRORS, "RFC 6750 3.1"),
    "AuthorizationCodeGrant": {
        "type": "object",
        "description": "Exchange an authorization code (RFC 6749 4.1.3, PKCE RFC 7636 4.5).",
        "required": ["grant_type", "code", "redirect_uri", "code_verifier"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["authorization_code"]},
            "code": _string("The code the authorization endpoint answered."),
            "redirect_uri": _string("The redirect_uri of the authorization request.", format="uri"),
            "code_verifier": _string("The PKCE verifier (43 to 128 characters).", minLength=43, maxLength=128),
            **_CLIENT_FIELDS,
        },
    },
    "RefreshTokenGrant": {
        "type": "object",
        "description": "Refresh (RFC 6749 6). The refresh token rotates: reusing an old one revokes its family.",
        "required": ["grant_type", "refresh_token"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["refresh_token"]},
            "refresh_token": _string("The newest refresh token of the family."),
            "scope": _string("Space-separated; at most the scopes first granted."),
            **_CLIENT_FIELDS,
        },
    },
    "ClientCredentialsGrant": {
        "type": "object",
        "description": "A confidential client acting for itself (RFC 6749 4.4).",
        "required": ["grant_type"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "scope": _string("Space-separated scopes, within the client's allowed scopes."),
            **_CLIENT_FIELDS,
        },
    },
    "PasswordGrant": {
        "type": "object",
        "deprecated": True,
        "description": "Deprecated; described only while `OAUTH_PASSWORD_GRANT_ENABLED` is on. Legacy clients "
        "only (RFC 6749 4.3; RFC 9700 deprecates it): only a client allowed the "
        "`password` grant. A two-factor user adds `otp` (docs/password-grant.md).",
        "required": ["grant_type", "username", "password"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["password"]},
            "username": {"type": "string"},
            "password": {"type": "string", "format": "password"},
            "otp": _string("A current TOTP or recovery code, for a user with two-factor authentication."),
            "scope": {"type": "string"},
            **_CLIENT_FIELDS,
        },
    },
    "TokenResponse": {
        "type": "object",
        "description": "RFC 6749 5.1 (OpenID Connect Core 3.1.3.3 adds `id_token`).",
        "required": ["access_token", "token_type", "expires_in"],
        "properties": {
            "access_token": _string("An RS256 JWT (RFC 9068, `typ: at+jwt`)."),
            "token_type": {"type": "string", "enum": ["Bearer"]},
            "expires_in": {"type": "integer"},
            "scope": {"type": "string"},
            "refresh_token": _string("Opaque; rotated on each use."),
            "id_token": _string("With the `openid` scope."),
        },
    },
    "IntrospectionRequest": {
        "type": "object",
        "required": ["token"],
        "properties": {
            "token": {"type": "string"},
            "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
            **_CLIENT_FIELDS,
        },
    },
    "IntrospectionResponse": {
        "type": "object",
        "description": 'RFC 7662 2.2. A token the caller may not see, or any inactive token: `{"active": false}` only.',
        "required": ["active"],
        "properties": {
            "active": {"type": "boolean"},
            "scope": {"type": "string"},
            "client_id": {"type": "string"},
            "username": {"type": "string"},
            "token_type": {"type": "string"},
            "exp": {"type": "integer"},
            "iat": {"type": "integer"},
            "sub": {"type": "string"},
            "aud": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "iss": {"type": "string"},
            "jti": {"type": "string"},
        },
    },
    "RevocationRequest": {
        "type": "object",
        "required": ["token"],
        "properties": {
            "token": {"type": "string"},
            "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
            **_CLIENT_FIELDS,
        },
    },
    "UserInfo": {
        "type": "object",
        "description": "OpenID Connect Core 5.3.2: `sub`, and the claims the token's scopes release.",
        "required": ["sub"],
        "properties": {
            "sub": {"type": "string"},
            "name": {"type": "string"},
            "preferred_username": {"type": "string"},
            "email": {"type": "string"},
            "email_verified": {"type": "boolean"},
            "roles": {"type": "array", "items": {"type": "string"}},
        },
        "additionalProperties": True,
    },
    "LogoutRequest": {
        "type": "object",
        "description": "OpenID Connect RP-Initiated Logout 1.0, section 2.",
        "properties": {
            "id_token_hint": _string("An ID token this server issued to the client."),
            "client_id": {"type": "string"},
            "post_logout_redirect_uri": _string("One of the client's registered post-logout URIs.", format="uri"),
            "state": {"type": "string"},
            "logout_hint": {"type": "string"},
            "ui_locales": {"type": "string"},
        },
    },
}

# --- Dynamic client registration (RFC 7591, RFC 7592; oauth.registration, oauth.client_metadata)

REGISTRATION_ERRORS = [
    "invalid_redirect_uri",
    "invalid_client_metadata",
    "invalid_token",
    "access_denied",
    "invalid_request",
    "temporarily_unavailable",
]
_URI = {"type": "string", "format": "uri"}
_URIS = {"type": "array", "items": _URI, "maxItems": 20}
_CLIENT_METADATA = {
    "redirect_uris": {
        **_URIS,
        "description": "https, or http on loopback; no fragment or wildcard. Needed for `authorization_code` "
        "(else `invalid_redirect_uri`).",
    },
    "grant_types": {
        "type": "array",
        "items": {"type": "string", "enum": ["authorization_code", "refresh_token", "client_credentials"]},
        "description": 'Default `["authorization_code"]`. Never `password`; `client_credentials` for '
        "confidential clients only.",
    },
    "response_types": {
        "type": "array",
        "items": {"type": "string", "enum": ["code"]},
        "description": '`["code"]` with `authorization_code`, else `[]` (the default follows the grants).',
    },
    "token_endpoint_auth_method": {
        "type": "string",
        "enum": ["client_secret_basic", "client_secret_post", "none"],
        "description": "`none`: a public client (no secret, PKCE). Default `client_secret_basic`, or `none` "
        "on an open server without an initial access token (which registers public clients only). "
        "Enforced: the client authenticates this way only (the other is `invalid_client`).",
    },
    "scope": _string("Space-separated, each in `CLIENT_REGISTRATION_SCOPES`; default: all of them."),
    "client_name": _string("Shown on the login and consent pages; default `Unnamed client`.", maxLength=2000),
    "logo_uri": _URI,
    "client_uri": _URI,
    "policy_uri": _URI,
    "tos_uri": _URI,
    "contacts": {
        "type": "array",
        "items": {"type": "string", "maxLength": 254},
        "maxItems": 20,
        "description": "Email addresses of the people responsible.",
    },
    "post_logout_redirect_uris": _URIS,
    "backchannel_logout_uri": _URI,
    "backchannel_logout_session_required": {"type": "boolean"},
}
REGISTRATION_EXAMPLE = {
    "client_name": "Partner app",
    "redirect_uris": ["https://app.partner.example/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "client_secret_basic",
    "scope": "openid profile email",
    "contacts": ["dev@partner.example"],
}
CLIENT_INFORMATION_EXAMPLE = {
    **REGISTRATION_EXAMPLE,
    "client_id": "bq0gXDK1nMBlRTbVcQb2jMlPOqC1GjOuOkfCUd9L",
    "client_id_issued_at": 1764806400,
    "client_secret": "pXq…(shown once)",
    "client_secret_expires_at": 0,
    "post_logout_redirect_uris": [],
    "backchannel_logout_session_required": False,
    "registration_access_token": "f3Zl…",
    "registration_client_uri": "https://id.example.com/oauth/register/bq0gXDK1nMBlRTbVcQb2jMlPOqC1GjOuOkfCUd9L/",
}
SCHEMAS.update(
    {
        "RegistrationError": {
            **_error_schema(REGISTRATION_ERRORS, "RFC 7591 3.2.2, RFC 6750 3.1"),
            "required": ["error", "error_description"],
        },
        "ClientMetadata": {
            "type": "object",
            "description": "Client metadata (RFC 7591 2). Unknown fields, `jwks`, `jwks_uri` and software "
            "statements are ignored (docs/client-registration.md).",
            "properties": _CLIENT_METADATA,
            "additionalProperties": True,
        },
        "ClientUpdate": {
            "type": "object",
            "description": "The whole metadata (RFC 7592 2.2: omitted fields take their defaults), with the "
            "client's own `client_id`, and optionally its current `client_secret` (which must match).",
            "required": ["client_id"],
            "properties": {
                "client_id": _string("The client's own id."),
                "client_secret": _string("The current secret, if sent."),
                **_CLIENT_METADATA,
            },
            "additionalProperties": True,
        },
        "ClientInformation": {
            "type": "object",
            "description": "The client information response (RFC 7591 3.2.1, RFC 7592 3): the registered "
            "metadata and the credentials. `client_secret` only in the registration's answer (confidential "
            "clients); the registration access token in every answer (an update's is a new one).",
            "required": [
                "client_id",
                "client_id_issued_at",
                "client_name",
                "redirect_uris",
                "grant_types",
                "response_types",
                "token_endpoint_auth_method",
                "scope",
                "contacts",
                "post_logout_redirect_uris",
                "backchannel_logout_session_required",
                "registration_access_token",
                "registration_client_uri",
            ],
            "properties": {
                **_CLIENT_METADATA,
                "client_id": {"type": "string"},
                "client_id_issued_at": {"type": "integer", "description": "Seconds since the epoch."},
                "client_secret": _string("Confidential clients, in the registration's answer only."),
                "client_secret_expires_at": {
                    "type": "integer",
                    "enum": [0],
                    "description": "`0`: the secret does not expire (confidential clients).",
                },
                "registration_access_token": _string("For the client configuration endpoint (RFC 7592)."),
                "registration_client_uri": {**_URI, "description": "The client configuration endpoint."},
            },
        },
    }
)


def _json(schema, description, example=None, headers=None):
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    answer = {"description": description, "content": {JSON: content}}
    if headers:
        answer["headers"] = headers
    return answer


def _html(description):
    return {"description": description, "content": {HTML: {"schema": {"type": "string"}}}}


NO_STORE = {"Cache-Control": {"schema": {"type": "string"}, "description": "`no-store`"}}
CHALLENGE = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "The RFC 6750 3 challenge."}}
TOO_LARGE = {
    "description": "The form body is larger than the server accepts.",
    "content": {JSON: {"schema": _ref("OAuthError")}},
}


def _oauth_error(description, code="invalid_request"):
    return _json(
        _ref("OAuthError"), description, {"error": code, "error_description": "The token parameter is required."}
    )


def _form(schema, example=None):
    body = {"schema": schema}
    if example is not None:
        body["example"] = example
    return {"required": True, "content": {FORM: body}}


def _param(name, description, required=False, **schema):
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


AUTHORIZE_PARAMETERS = [
    _param("response_type", "Only `code`.", required=True, enum=["code"]),
    _param("client_id", "The client id.", required=True),
    _param("redirect_uri", "One of the client's registered redirect URIs, exactly.", format="uri"),
    _param("scope", "Space-separated scopes (`openid` for OpenID Connect)."),
    _param("state", "Opaque to us; answered back."),
    _param("code_challenge", "PKCE (RFC 7636): BASE64URL(SHA256(verifier)).", required=True),
    _param("code_challenge_method", "Only `S256`.", required=True, enum=["S256"]),
    _param("nonce", "Copied into the ID token."),
    _param("prompt", "`none`, `login`, `consent` (OpenID Connect Core 3.1.2.1)."),
    _param("max_age", "Seconds since the last login beyond which the user logs in again.", pattern="^[0-9]+$"),
    _param("login_hint", "A username to prefill."),
    _param("acr_values", "Ask for two factors with the values discovery lists."),
]


def _grant_schemas():
    """The token endpoint's form bodies: the grants discovery lists (grant_types_supported), the
    deprecated password grant only while OAUTH_PASSWORD_GRANT_ENABLED is on."""
    grants = ["AuthorizationCodeGrant", "RefreshTokenGrant", "ClientCredentialsGrant"]
    return [*grants, "PasswordGrant"] if settings.OAUTH_PASSWORD_GRANT_ENABLED else grants


def _operations():
    token_body = {
        "oneOf": [_ref(name) for name in _grant_schemas()],
        "discriminator": {"propertyName": "grant_type"},
    }
    authorize = {
        "tags": ["oauth"],
        "summary": "Authorization endpoint (RFC 6749 3.1, OpenID Connect Core 3.1.2)",
        "description": "A browser page, not an API: the user logs in if needed, then consents unless the client "
        "is trusted or consent was given before; the answer is a redirect to the client's `redirect_uri` with "
        "`code`, `state` and `iss` (RFC 9207), or `error` (RFC 6749 4.1.2.1). An unknown client or "
        "redirect URI is shown as an error page, never redirected to.",
        "parameters": AUTHORIZE_PARAMETERS,
        "security": [],
        "responses": {
            "302": {
                "description": "To the login page, or back to the client with `code` or `error`.",
                "headers": {"Location": {"schema": {"type": "string"}}},
            },
            "200": _html("The consent page."),
            "400": _html("An error page: unknown client, mismatched redirect URI, or a malformed request."),
        },
    }
    authorize_post = {
        **authorize,
        "parameters": [],
        "summary": "Authorization endpoint by POST (OpenID Connect Core 3.1.2.1)",
    }
    authorize_post["requestBody"] = {
        "content": {
            FORM: {"schema": {"type": "object", "properties": {p["name"]: p["schema"] for p in AUTHORIZE_PARAMETERS}}}
        }
    }
    authorize_post["responses"] = {
        **authorize["responses"],
        "403": _html("The consent answer's CSRF token is missing."),
    }
    return {
        "authorize": {
            "get": {**authorize, "operationId": "oauth_authorize"},
            "post": {**authorize_post, "operationId": "oauth_authorize_post"},
        },
        "token": {
            "post": {
                "tags": ["oauth"],
                "operationId": "oauth_token",
                "summary": "Token endpoint (RFC 6749 3.2)",
                "description": "One form body per grant (`grant_type`): the grants discovery lists in "
                "`grant_types_supported`. Confidential clients authenticate with `client_secret_basic` or "
                "`client_secret_post`; public clients send `client_id` and prove PKCE."
                + (
                    " The password grant (deprecated, RFC 9700 2.4) is on (`OAUTH_PASSWORD_GRANT_ENABLED`)."
                    if settings.OAUTH_PASSWORD_GRANT_ENABLED
                    else ""
                ),
                "security": CLIENT_AUTH,
                "requestBody": _form(
                    token_body,
                    {"grant_type": "client_credentials", "scope": "read"},
                ),
                "responses": {
                    "200": _json(
                        _ref("TokenResponse"),
                        "The tokens (`Cache-Control: no-store`).",
                        {
                            "access_token": "eyJhbGciOiJSUzI1NiIs…",
                            "token_type": "Bearer",
                            "expires_in": 900,
                            "scope": "read",
                        },
                        NO_STORE,
                    ),
                    "400": _json(
                        _ref("OAuthError"),
                        "RFC 6749 5.2: `invalid_request`, `invalid_grant`, `unauthorized_client`, "
                        "`unsupported_grant_type`, `invalid_scope`.",
                        {"error": "invalid_grant", "error_description": "The code was used before."},
                    ),
                    "401": _json(
                        _ref("OAuthError"),
                        "`invalid_client`: client authentication failed (with `WWW-Authenticate: Basic`).",
                        {"error": "invalid_client"},
                    ),
                    "413": TOO_LARGE,
                    "429": _json(_ref("OAuthError"), "Too many failed client authentications from this address."),
                },
            }
        },
        "introspect": {
            "post": {
                "tags": ["oauth"],
                "operationId": "oauth_introspect",
                "summary": "Token introspection (RFC 7662)",
                "description": "For confidential clients: a client introspects the tokens issued to it; a "
                "resource server (`can_introspect_any`) any token.",
                "security": CLIENT_AUTH,
                "requestBody": _form(_ref("IntrospectionRequest"), {"token": "eyJhbGciOiJSUzI1NiIs…"}),
                "responses": {
                    "200": _json(
                        _ref("IntrospectionResponse"),
                        "The token's state.",
                        {
                            "active": True,
                            "scope": "read",
                            "client_id": "abc",
                            "token_type": "Bearer",
                            "exp": 1767225600,
                        },
                    ),
                    "400": _oauth_error("`invalid_request`: no `token`."),
                    "401": _json(_ref("OAuthError"), "`invalid_client`.", {"error": "invalid_client"}),
                    "413": TOO_LARGE,
                    "429": _json(_ref("OAuthError"), "Too many failed client authentications from this address."),
                },
            }
        },
        "revoke": {
            "post": {
                "tags": ["oauth"],
                "operationId": "oauth_revoke",
                "summary": "Token revocation (RFC 7009)",
                "description": "Revokes an access or refresh token of the calling client (a refresh token with its "
                "family). 200 whether or not the token was known (RFC 7009 2.2).",
                "security": CLIENT_AUTH,
                "requestBody": _form(_ref("RevocationRequest"), {"token": "…", "token_type_hint": "refresh_token"}),
                "responses": {
                    "200": {"description": "Revoked, or unknown."},
                    "400": _oauth_error("`invalid_request` or `unsupported_token_type`."),
                    "401": _json(_ref("OAuthError"), "`invalid_client`.", {"error": "invalid_client"}),
                    "413": TOO_LARGE,
                    "429": _json(_ref("OAuthError"), "Too many failed client authentications from this address."),
                },
            }
        },
        "userinfo": {
            method: {
                "tags": ["oauth"],
                "operationId": f"oauth_userinfo_{method}",
                "summary": "UserInfo (OpenID Connect Core 5.3)",
                "description": "The user's claims, by the access token's scopes; needs `openid`. The token goes in "
                "`Authorization: Bearer` (a POST form body is accepted too, never the URL).",
                "security": [{BEARER: ["openid"]}],
                "responses": {
                    "200": _json(
                        _ref("UserInfo"),
                        "The claims.",
                        {
                            "sub": "2b1c…",
                            "preferred_username": "ada",
                            "email": "ada@example.com",
                            "email_verified": True,
                        },
                    ),
                    "400": _json(_ref("BearerError"), "`invalid_request`: a token in the URL.", headers=CHALLENGE),
                    "401": _json(
                        _ref("BearerError"),
                        "No token, or a bad, expired or revoked one (`invalid_token`).",
                        {"error": "invalid_token", "error_description": "The access token expired."},
                        CHALLENGE,
                    ),
                    "403": _json(_ref("BearerError"), "`insufficient_scope`: no `openid`.", headers=CHALLENGE),
                },
            }
            for method in ("get", "post")
        },
        "logout": {
            method: {
                "tags": ["oauth"],
                "operationId": f"oauth_logout_{method}",
                "summary": "End-session endpoint (OpenID Connect RP-Initiated Logout 1.0)",
                "description": "A browser page: with a valid `id_token_hint` naming the logged-in user (or no one "
                "logged in) the session ends at once; otherwise the user is asked to confirm.",
                "security": [],
                **(
                    {
                        "parameters": [
                            _param(name, schema.get("description", name))
                            for name, schema in SCHEMAS["LogoutRequest"]["properties"].items()
                        ]
                    }
                    if method == "get"
                    else {"requestBody": {"content": {FORM: {"schema": _ref("LogoutRequest")}}}}
                ),
                "responses": {
                    "302": {"description": "To the `post_logout_redirect_uri`, with `state`."},
                    "200": _html("Logged out, or the confirmation page."),
                    "400": _html("An invalid request (a hint not ours, an unregistered redirect URI)."),
                },
            }
            for method in ("get", "post")
        },
        "logout/confirm": {
            "post": {
                "tags": ["oauth"],
                "operationId": "oauth_logout_confirm",
                "summary": "The logout confirmation form's answer",
                "description": "Posted by the confirmation page `/oauth/logout/` shows (CSRF-protected, session).",
                "security": [{SESSION: []}],
                "requestBody": {"content": {FORM: {"schema": _ref("LogoutRequest")}}},
                "responses": {
                    "302": {"description": "To the `post_logout_redirect_uri`, with `state`."},
                    "200": _html("Logged out."),
                    "400": _html("An invalid request."),
                    "403": _html("No CSRF token."),
                },
            }
        },
        **_registration_operations(),
    }


def _registration_error(description, example, headers=None):
    return _json(_ref("RegistrationError"), description, example, headers)


_REGISTRATION_HEADERS = {**NO_STORE}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds."}}
_REGISTRATION_COMMON = {
    "413": _registration_error(
        "`invalid_client_metadata`: the body is larger than the server accepts.",
        {"error": "invalid_client_metadata", "error_description": "The request body is too large."},
    ),
    "503": _registration_error(
        "`temporarily_unavailable`: the database failed; nothing was changed.",
        {"error": "temporarily_unavailable", "error_description": "Retry later."},
        _RETRY_AFTER,
    ),
}


def _registration_unauthorized(description, example_description):
    return _registration_error(
        description,
        {"error": "invalid_token", "error_description": example_description},
        {**CHALLENGE, **NO_STORE},
    )


def _metadata_refused(subject):
    return _registration_error(
        f"RFC 7591 3.2.2: `invalid_redirect_uri` (a redirect URI the admin form would refuse) or "
        f"`invalid_client_metadata` ({subject}: a body that is not a JSON object, a wrong type, an "
        "unsupported grant or auth method, a scope that may not be registered…).",
        {
            "error": "invalid_redirect_uri",
            "error_description": "redirect_uris: http://app.example.com/callback: http is allowed only on loopback.",
        },
    )


def _registration_operations():
    """POST /oauth/register/ (RFC 7591 3) and /oauth/register/{client_id}/ (RFC 7592 2)."""
    mode = settings.CLIENT_REGISTRATION
    # Without a token: open registration (public clients only). `closed` refuses everyone (403).
    security = [{INITIAL_TOKEN: []}, {}] if mode == "open" else [{INITIAL_TOKEN: []}]
    created = _json(
        _ref("ClientInformation"),
        "Registered (RFC 7591 3.2.1): the metadata as stored, `client_id`, `client_id_issued_at`, the "
        "`client_secret` (confidential clients; shown only here) with `client_secret_expires_at` `0`, the "
        "`registration_access_token` and the `registration_client_uri`. `Cache-Control: no-store`.",
        CLIENT_INFORMATION_EXAMPLE,
        _REGISTRATION_HEADERS,
    )
    register = {
        "tags": ["oauth"],
        "operationId": "oauth_register",
        "summary": "Client registration (RFC 7591)",
        "description": "Registers a client from its metadata (docs/client-registration.md). Who may is "
        "`CLIENT_REGISTRATION`: `closed` (the default) nobody (403); `token` whoever presents an initial access "
        "token as a Bearer token, one use spent per registration; `open` also anyone without one, for a public "
        f"client (`token_endpoint_auth_method` `none`). This server: `{mode}`. Throttled per client IP "
        "(`CLIENT_REGISTRATION_RATE`).",
        "security": security,
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": _ref("ClientMetadata"), "example": REGISTRATION_EXAMPLE}},
        },
        "responses": {
            "201": created,
            "400": _metadata_refused("also a body that is not `application/json`"),
            "401": _registration_unauthorized(
                "`invalid_token` with a Bearer challenge (RFC 6750 3): no initial access token (while registration "
                "is `token`), a malformed `Authorization` header, or an unknown, expired or spent token.",
                "The initial access token is unknown, expired or spent.",
            ),
            "403": _registration_error(
                "`access_denied`: registration is `closed` on this server.",
                {"error": "access_denied", "error_description": "Client registration is closed on this server."},
            ),
            "429": _registration_error(
                "`temporarily_unavailable`: too many registration requests from this address.",
                {
                    "error": "temporarily_unavailable",
                    "error_description": "Too many registration requests from this address; retry later.",
                },
                _RETRY_AFTER,
            ),
            **_REGISTRATION_COMMON,
        },
    }
    client_id = {
        "name": "client_id",
        "in": "path",
        "required": True,
        "description": "The registered client's id (the end of its `registration_client_uri`).",
        "schema": {"type": "string"},
    }
    unauthorized = _registration_unauthorized(
        "`invalid_token` with a Bearer challenge: no registration access token, or one that is not this "
        "client's current one (rotated by an update, or the client deleted or unknown: RFC 7592 2.1, which "
        "does not tell them apart).",
        "The registration access token is not valid for this client.",
    )
    configuration = {
        "tags": ["oauth"],
        "security": [{REGISTRATION_TOKEN: []}],
        "parameters": [client_id],
    }
    read = _json(
        _ref("ClientInformation"),
        "The registration (RFC 7592 3), with the registration access token presented; never the secret.",
        {k: v for k, v in CLIENT_INFORMATION_EXAMPLE.items() if k != "client_secret"},
        _REGISTRATION_HEADERS,
    )
    return {
        "register": {"post": register},
        "register/{client_id}": {
            "get": {
                **configuration,
                "operationId": "oauth_register_read",
                "summary": "Read a client's registration (RFC 7592 2.1)",
                "responses": {"200": read, "401": unauthorized, "503": _REGISTRATION_COMMON["503"]},
            },
            "put": {
                **configuration,
                "operationId": "oauth_register_update",
                "summary": "Replace a client's metadata (RFC 7592 2.2)",
                "description": "The whole metadata, as read, with the client's own `client_id`. Omitted fields "
                "take their defaults; a public client stays public and a confidential one confidential. The "
                "secret is kept; the registration access token is rotated (the old one is refused from then on).",
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {
                            "schema": _ref("ClientUpdate"),
                            "example": {"client_id": CLIENT_INFORMATION_EXAMPLE["client_id"], **REGISTRATION_EXAMPLE},
                        }
                    },
                },
                "responses": {
                    "200": {
                        **read,
                        "description": "Updated: the metadata as stored and the new registration access token.",
                    },
                    "400": _metadata_refused(
                        "also a `client_id` not the client's own, a `client_secret` that does not match, or a "
                        "change between public and confidential"
                    ),
                    "401": unauthorized,
                    **_REGISTRATION_COMMON,
                },
            },
            "delete": {
                **configuration,
                "operationId": "oauth_register_delete",
                "summary": "Delete a client (RFC 7592 2.3)",
                "description": "Deletes the client and with it every token, code and consent it has.",
                "responses": {
                    "204": {"description": "Deleted.", "headers": _REGISTRATION_HEADERS},
                    "401": unauthorized,
                    "503": _REGISTRATION_COMMON["503"],
                },
            },
        },
    }


def add_protocol_endpoints(result, generator, request, public):
    """drf-spectacular postprocessing hook: the /oauth/ endpoints, their schemas and the client
    authentication schemes."""
    prefix = reverse("oauth:token").removesuffix("token/")
    for path, operations in _operations().items():
        result["paths"][f"{prefix}{path}/"] = operations
    components = result.setdefault("components", {})
    schemas = dict(SCHEMAS)
    if not settings.OAUTH_PASSWORD_GRANT_ENABLED:
        del schemas["PasswordGrant"]
    components.setdefault("schemas", {}).update(schemas)
    schemes = components.setdefault("securitySchemes", {})
    schemes.update(SECURITY_SCHEMES)
    schemes.setdefault(
        SESSION, {**SESSION_SCHEME, "description": "The browser's session (unsafe methods need the CSRF token)."}
    )
    result.setdefault("tags", []).append(
        {"name": "oauth", "description": "OAuth 2.0 and OpenID Connect endpoints (django-oauth-toolkit, extended)."}
    )
    return result
