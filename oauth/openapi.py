"""The OAuth 2.0 / OpenID Connect endpoints in the OpenAPI description (drf-spectacular).

django-oauth-toolkit's endpoints are Django views, which drf-spectacular cannot see: they are
described here by hand (form bodies, each grant's parameters, the RFC error bodies) and merged
into the generated schema by `add_protocol_endpoints`, a postprocessing hook named in
SPECTACULAR_SETTINGS. `AccessTokenScheme` describes our DRF authentication class, so every API
operation states which scopes its access token must carry.

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
        "description": "Legacy clients only (RFC 6749 4.3; RFC 9700 deprecates it): only a client allowed the "
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


def _operations():
    token_body = {
        "oneOf": [
            _ref("AuthorizationCodeGrant"),
            _ref("RefreshTokenGrant"),
            _ref("ClientCredentialsGrant"),
            _ref("PasswordGrant"),
        ],
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
                "description": "One form body per grant (`grant_type`). Confidential clients authenticate with "
                "`client_secret_basic` or `client_secret_post`; public clients send `client_id` and prove PKCE.",
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
    }


def add_protocol_endpoints(result, generator, request, public):
    """drf-spectacular postprocessing hook: the /oauth/ endpoints, their schemas and the client
    authentication schemes."""
    prefix = reverse("oauth:token").removesuffix("token/")
    for path, operations in _operations().items():
        result["paths"][f"{prefix}{path}/"] = operations
    components = result.setdefault("components", {})
    components.setdefault("schemas", {}).update(SCHEMAS)
    schemes = components.setdefault("securitySchemes", {})
    schemes.update(SECURITY_SCHEMES)
    schemes.setdefault(
        SESSION, {**SESSION_SCHEME, "description": "The browser's session (unsafe methods need the CSRF token)."}
    )
    result.setdefault("tags", []).append(
        {"name": "oauth", "description": "OAuth 2.0 and OpenID Connect endpoints (django-oauth-toolkit, extended)."}
    )
    return result
