"""The private and undocumented library members our code leans on, pinned in one place.

django-oauth-toolkit, oauthlib and Django (and jwcrypto, DRF) change their private members
without notice. Each row below names one member we override, call or read, what it must
look like (its `inspect.signature`, or that it exists), and where we use it: after an
upgrade, a failure here names what changed before any protocol test fails in a stranger way.
When one fails, read the library's new version of that member, adapt our code, then update
the row.
"""

import inspect

import pytest
from django.contrib.auth.hashers import BasePasswordHasher
from django.db.models.query import QuerySet
from jwcrypto import jwk
from oauth2_provider import models as dot_models
from oauth2_provider import signals as dot_signals
from oauth2_provider import views as dot_views
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth2 import RequestValidator
from oauthlib.oauth2 import Server as OAuthlibServer
from oauthlib.oauth2.rfc6749.endpoints.authorization import AuthorizationEndpoint
from oauthlib.oauth2.rfc6749.grant_types import AuthorizationCodeGrant
from oauthlib.openid import Server as OpenIDServer
from rest_framework.request import Request as DRFRequest

# (owner, member, signature, where we use it)
SIGNATURES = [
    # django-oauth-toolkit's OAuth2Validator: private hooks we override or call.
    (OAuth2Validator, "_check_secret", "(self, provided_secret, stored_secret)", "validators.py overrides"),
    (OAuth2Validator, "_load_application", "(self, client_id, request)", "validators.py overrides"),
    (OAuth2Validator, "_create_authorization_code", "(self, request, code, expires=None)", "grants.py overrides"),
    (OAuth2Validator, "_check_and_set_request_resource", "(self, request)", "grants.py overrides, calls super"),
    (OAuth2Validator, "_validate_resource_uris", "(self, request, resources)", "grants.py calls"),
    (OAuth2Validator, "_save_bearer_token", "(self, token, request, *args, **kwargs)", "validators.py calls"),
    (
        OAuth2Validator,
        "_create_access_token",
        "(self, expires, request, token, source_refresh_token=None)",
        "validators.py overrides; DOT's _save_bearer_token and our rotation call it",
    ),
    (
        OAuth2Validator,
        "_create_refresh_token",
        "(self, request, refresh_token_code, access_token, previous_refresh_token)",
        "validators.py overrides; DOT's _save_bearer_token and our rotation call it",
    ),
    (
        OAuth2Validator,
        "_set_token_value",
        "(self, token_instance: oauth2_provider.models.AbstractAccessToken | "
        "oauth2_provider.models.AbstractRefreshToken, raw_token: str) -> None",
        "validators.py calls; tests/e2e/helpers.py calls",
    ),
    # Public but undocumented DOT validator members with DOT-specific semantics.
    (OAuth2Validator, "rotate_refresh_token", "(self, request)", "validators.save_bearer_token calls"),
    (OAuth2Validator, "finalize_id_token", "(self, id_token, token, token_handler, request)", "validators.py"),
    (OAuth2Validator, "validate_jwt_bearer_token", "(self, token, scopes, request)", "validators.py overrides"),
    (OAuth2Validator, "get_additional_claims", "(self, request)", "validators.py overrides"),
    (OAuth2Validator, "get_claim_dict", "(self, request)", "validators.py overrides"),
    # DOT's views and backend.
    (OAuthLibMixin, "get_oauthlib_core", "()", "views.IntrospectTokenView calls"),
    (OAuthLibMixin, "create_token_response", "(self, request)", "views.TokenView calls"),
    (OAuthLibCore, "_extract_params", "(self, request)", "views.IntrospectTokenView calls"),
    (dot_views.UserInfoView, "_create_userinfo_response", "(self, request)", "views.UserInfoView overrides"),
    (dot_views.RevokeTokenView, "post", "(self, request, *args, **kwargs)", "views.RevokeTokenView overrides"),
    (dot_views.AuthorizationView, "validate_authorization_request", "(self, request)", "views.AuthorizationView"),
    (
        dot_views.AuthorizationView,
        "create_authorization_response",
        "(self, request, scopes, credentials, allow)",
        "views.AuthorizationView overrides (adds the request context to credentials)",
    ),
    (dot_views.AuthorizationView, "error_response", "(self, error, application, **kwargs)", "views.AuthorizationView"),
    (dot_views.AuthorizationView, "redirect", "(self, redirect_to, application)", "views.AuthorizationView overrides"),
    (dot_views.AuthorizationView, "handle_no_permission", "(self)", "views.AuthorizationView overrides"),
    (dot_views.AuthorizationView, "render_to_response", "(self, context, **response_kwargs)", "views.py"),
    # DOT's models.
    (dot_models.AbstractApplication, "_client_secret_is_hashed", "(client_secret)", "models.Client calls"),
    (dot_models.AbstractRefreshToken, "revoke_family", "(token_family: uuid.UUID | None) -> None", "models overrides"),
    (dot_models, "refresh_token_expire_timedelta", "()", "rotation.lifetime calls"),
    # oauthlib.
    (
        AuthorizationEndpoint,
        "create_authorization_response",
        "(self, uri, http_method='GET', body=None, headers=None, scopes=None, credentials=None)",
        "DOT passes our credentials (and so the request context) through it",
    ),
    (OAuthlibRequest, "__getattr__", "(self, name)", "oauth/context.py guards against its parameter fallback"),
    # Django.
    (QuerySet, "_raw_delete", "(self, using)", "rotation.delete_access_token calls"),
    (BasePasswordHasher, "_check_encode_args", "(self, password, salt)", "hashers.py calls"),
    # jwcrypto.
    (jwk.JWK, "_get_public_key", "(self, arg=None)", "keys.py calls"),
]


def _name(owner, member):
    return f"{getattr(owner, '__module__', '')}.{getattr(owner, '__qualname__', owner.__name__)}.{member}"


@pytest.mark.parametrize(
    ("owner", "member", "expected", "where"), SIGNATURES, ids=[f"{o.__name__}.{m}" for o, m, _, _ in SIGNATURES]
)
def test_private_member_keeps_its_signature(owner, member, expected, where):
    assert hasattr(owner, member), f"{_name(owner, member)} is gone ({where})"
    actual = str(inspect.signature(getattr(owner, member)))
    assert actual == expected, f"{_name(owner, member)} changed from {expected} to {actual} ({where})"


def test_dot_validator_attributes():
    # validators.Validator extends the scope that releases each claim.
    assert isinstance(OAuth2Validator.oidc_claim_scope, dict), "OAuth2Validator.oidc_claim_scope is not a dict"


def test_dot_views_attributes():
    # views.ServerMixin sets server_class; AuthorizationView reads oauth2_data, set by DOT's get.
    assert "server_class" in vars(OAuthLibMixin), "OAuthLibMixin.server_class is gone (views.ServerMixin sets it)"
    assert "self.oauth2_data = " in inspect.getsource(dot_views.AuthorizationView.get), (
        "DOT's AuthorizationView.get no longer sets self.oauth2_data (views.AuthorizationView reads it)"
    )


@pytest.mark.parametrize("server_class", [OAuthlibServer, OpenIDServer])
def test_oauthlib_server_attributes(server_class):
    """oauth/server.py replaces each server's grant tables and restricts its code grants."""
    server = server_class(RequestValidator())
    for attribute in ("_response_types", "_grant_types", "auth_grant", "refresh_grant", "credentials_grant"):
        assert hasattr(server, attribute), f"oauthlib {server_class.__name__}.{attribute} is gone (oauth/server.py)"
    assert hasattr(server, "password_grant"), f"oauthlib {server_class.__name__}.password_grant is gone"
    assert isinstance(server._grant_types, dict) and isinstance(server._response_types, dict)
    if server_class is OpenIDServer:
        for attribute in ("auth_grant_choice", "token_grant_choice", "openid_connect_auth"):
            assert hasattr(server, attribute), f"oauthlib openid Server.{attribute} is gone (oauth/server.py)"
        assert isinstance(server.openid_connect_auth.proxy_target, AuthorizationCodeGrant), (
            "oauthlib's OpenID Connect code grant no longer wraps an AuthorizationCodeGrant as proxy_target"
        )


def test_oauthlib_code_grant_internals():
    """server._restrict_code_grant replaces the PKCE methods and appends custom validators."""
    grant = AuthorizationCodeGrant(RequestValidator())
    assert set(grant._code_challenge_methods) == {"plain", "S256"}, "AuthorizationCodeGrant._code_challenge_methods"
    assert isinstance(grant.custom_validators.pre_auth, list), "AuthorizationCodeGrant.custom_validators.pre_auth"
    assert isinstance(grant.custom_validators.pre_token, list), "AuthorizationCodeGrant.custom_validators.pre_token"


def test_oauthlib_request_internals():
    """What our code reads on oauthlib's Request: `decoded_body` (grants.requested_resources),
    and the parameter fallback oauth.context stays clear of."""
    request = OAuthlibRequest("https://as.example/token?sid=q", http_method="POST", body="resource=a&resource=b")
    assert request.decoded_body == [("resource", "a"), ("resource", "b")], "oauthlib Request.decoded_body changed"
    assert request.sid == "q", "oauthlib Request no longer answers unknown attributes from parameters"
    assert "sid" not in vars(request)


def test_oauthlib_sets_credentials_on_the_request():
    """oauth.context: the authorization view passes the request context in `credentials`,
    which oauthlib sets on its request as attributes."""
    seen = []

    class Handler:
        def create_authorization_response(self, request, token_handler):
            seen.append(request)
            return {}, None, 200

    endpoint = AuthorizationEndpoint(default_response_type="code", default_token_type=None, response_types={})
    endpoint._response_types = {"code": Handler()}
    marker = object()
    endpoint.create_authorization_response("https://as.example/a?response_type=code", credentials={"identity": marker})
    assert seen and vars(seen[0]).get("identity") is marker, "oauthlib no longer sets credentials on the request"


def test_using_default_redirect_uri_is_set_by_oauthlib():
    """server._redirect_uri_given reads `request.using_default_redirect_uri`."""
    source = inspect.getsource(AuthorizationCodeGrant)
    assert "request.using_default_redirect_uri = " in source, "oauthlib no longer sets using_default_redirect_uri"


def test_drf_request_keeps_the_django_request(rf):
    # sso/api.py reads the Django request behind DRF's (`request._request`).
    django_request = rf.get("/api/me")
    assert DRFRequest(django_request)._request is django_request, "DRF Request._request is gone (sso/api.py)"


def test_dot_app_authorized_signal_exists():
    # views.TokenView documents that it does not send it; DOT's own TokenView does.
    assert "app_authorized.send(" in inspect.getsource(dot_views.TokenView), "DOT's TokenView changed how it signals"
    assert hasattr(dot_signals, "app_authorized")
