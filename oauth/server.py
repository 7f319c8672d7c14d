"""The oauthlib servers we run: only what we support, nothing DOT enables by default.

`OIDCServer` (OIDC_SERVER_CLASS, the one DOT runs) is oauthlib's OpenID Connect server with
exactly the restrictions of the plain OAuth 2.0 `Server`: the same grants, `response_type=code`
only, S256-only PKCE and the same custom validators, applied by `_restrict_code_grant` to every
authorization-code grant object each server holds.
"""

from django.conf import settings
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2 import Server as OAuthlibServer
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid import Server as OpenIDServer
from oauthlib.openid.connect.core import exceptions as oidc_errors

from . import pkce
from .claims import claims_request_problem


def _challenge_is_s256(request):
    """Authorization requests: the challenge must be a well-formed S256 challenge."""
    if request.code_challenge is not None and not pkce.is_valid_challenge(request.code_challenge):
        raise errors.InvalidRequestError(
            description="code_challenge must be the base64url SHA-256 of the verifier (43 characters).",
            request=request,
        )
    return {}


def _no_request_objects(request):
    """Request objects (OpenID Connect Core 6, RFC 9101) are not supported: answered with the
    errors Core 6.1/6.2 name, once the client and redirect URI are known (so the answer goes
    back to the client), never silently ignored (a `state` or `nonce` only inside the object
    would be lost). Discovery says `request_parameter_supported: false`."""
    # Read the raw parameters: oauthlib's Request has no attribute of its own for these.
    if request._params.get("request") is not None:
        raise oidc_errors.RequestNotSupported(request=request)
    if request._params.get("request_uri") is not None:
        raise oidc_errors.RequestURINotSupported(request=request)
    return {}


def _claims_well_formed(request):
    """The `claims` parameter (OpenID Connect Core 5.5) must be well-formed JSON; a malformed
    one is invalid_request at the client, not ignored."""
    raw = request._params.get("claims")
    if raw is not None and (problem := claims_request_problem(raw)):
        raise errors.InvalidRequestError(description=problem, request=request)
    return {}


def _redirect_uri_given(request):
    """Authorization requests must name their redirect_uri (OpenID Connect Core 3.1.2.1),
    so the token request must repeat it (RFC 6749 4.1.3). Without it we show an error page:
    no redirect without an explicit, registered target."""
    if getattr(request, "using_default_redirect_uri", False):
        raise errors.InvalidRequestFatalError(description="The redirect_uri parameter is required.", request=request)
    return {}


def _token_request_names_redirect_uri(request):
    if request.grant_type == "authorization_code" and not request.redirect_uri:
        raise errors.InvalidRequestError(description="The redirect_uri parameter is required.", request=request)


# The Grant row's nonce column holds 255 characters; a longer nonce would fail at the database.
MAX_NONCE_LENGTH = 255


def _nonce_fits(request):
    if request.nonce is not None and len(request.nonce) > MAX_NONCE_LENGTH:
        raise errors.InvalidRequestError(
            description=f"The nonce must be at most {MAX_NONCE_LENGTH} characters.", request=request
        )
    return {}


def _no_downgrade(validator):
    """RFC 9700 2.1.1: a token request with a code_verifier is accepted only if its
    authorization request had a code_challenge. oauthlib ignores a verifier when the code has
    no challenge and the client does not require PKCE; an attacker who strips the challenge
    from a victim's request could then redeem the code with any verifier."""

    def check(request):
        if request.code_verifier is not None and validator.get_code_challenge(request.code, request) is None:
            raise errors.InvalidGrantError(
                description="code_verifier sent, but the authorization request had no code_challenge.",
                request=request,
            )

    return check


def _per_client_lifetime(default):
    """oauthlib's `token_expires_in`: the client's access token lifetime (Client.
    access_token_lifetime), else `default` (ACCESS_TOKEN_EXPIRE_SECONDS). No I/O: the client
    is loaded by then."""

    def expires_in(request):
        if own := getattr(request.client, "access_token_lifetime", None):
            return own
        return default(request) if callable(default) else default

    return expires_in


def _lifetime_kwargs(kwargs):
    default = kwargs.get("token_expires_in") or oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS
    return {**kwargs, "token_expires_in": _per_client_lifetime(default)}


def _restrict_code_grant(grant):
    """S256-only PKCE and our checks on an oauthlib (OAuth 2.0) authorization-code grant."""
    # A missing code_challenge_method defaults to "plain" in oauthlib: refused with it.
    grant._code_challenge_methods = {"S256": pkce.verify_s256}
    grant.custom_validators.pre_auth.extend(
        [_no_request_objects, _claims_well_formed, _redirect_uri_given, _challenge_is_s256, _nonce_fits]
    )
    grant.custom_validators.pre_token.append(_token_request_names_redirect_uri)
    grant.custom_validators.post_token.append(_no_downgrade(grant.request_validator))


class _PasswordGrantSwitch:
    """The password grant exists only while OAUTH_PASSWORD_GRANT_ENABLED is on (RFC 9700 2.4):
    off, oauthlib finds no handler and answers unsupported_grant_type, whatever the client's
    grant types say. Read at each request, so the setting needs no new server."""

    @property
    def grant_types(self):
        if settings.OAUTH_PASSWORD_GRANT_ENABLED:
            return self._grant_types
        return {name: grant for name, grant in self._grant_types.items() if name != "password"}


class Server(_PasswordGrantSwitch, OAuthlibServer):
    """Authorization code (+PKCE S256), refresh token, client credentials and password grants
    (the last only while OAUTH_PASSWORD_GRANT_ENABLED is on, `_PasswordGrantSwitch`).

    Not offered: the implicit grant and `response_type=none` (RFC 9700 2.1.2), `plain` PKCE
    (RFC 9700 2.1.1), and the device grant (broken with this DOT/oauthlib pair).
    """

    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **_lifetime_kwargs(kwargs))
        _restrict_code_grant(self.auth_grant)
        self._response_types = {"code": self.auth_grant}
        self._grant_types = {
            "authorization_code": self.auth_grant,
            "refresh_token": self.refresh_grant,
            "client_credentials": self.credentials_grant,
            "password": self.password_grant,
        }


class OIDCServer(_PasswordGrantSwitch, OpenIDServer):
    """`Server`'s grants and restrictions, plus OpenID Connect: ID tokens when `openid` is
    granted (authorization code and refresh), and the UserInfo endpoint.

    Not offered: the implicit and hybrid flows (`id_token`, `code id_token`, … response
    types), `response_type=none`, and the device grant. A `code` request with `openid` goes
    to oauthlib's OIDC grant, whose inner OAuth 2.0 grant gets the same restrictions as ours.
    """

    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **_lifetime_kwargs(kwargs))
        _restrict_code_grant(self.auth_grant)
        _restrict_code_grant(self.openid_connect_auth.proxy_target)
        self._response_types = {"code": self.auth_grant_choice}
        self._grant_types = {
            "authorization_code": self.token_grant_choice,
            "refresh_token": self.refresh_grant,
            "client_credentials": self.credentials_grant,
            "password": self.password_grant,
        }

    def validate_userinfo_request(self, request):
        # oauthlib asks the validator for a token with `openid`, and ours answers a token
        # without it as invalid (401). Ask for no scope, so that oauthlib's own check answers
        # a valid token without `openid` as insufficient_scope (403, RFC 6750 3.1).
        request.scopes = []
        return super().validate_userinfo_request(request)
