"""The oauthlib server we run: only what we support, nothing DOT enables by default."""

from oauthlib.oauth2 import Server as OAuthlibServer
from oauthlib.oauth2.rfc6749 import errors

from . import pkce


def _challenge_is_s256(request):
    """Authorization requests: the challenge must be a well-formed S256 challenge."""
    if request.code_challenge is not None and not pkce.is_valid_challenge(request.code_challenge):
        raise errors.InvalidRequestError(
            description="code_challenge must be the base64url SHA-256 of the verifier (43 characters).",
            request=request,
        )
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


class Server(OAuthlibServer):
    """Authorization code (+PKCE S256), refresh token, client credentials and password grants.

    Not offered: the implicit grant and `response_type=none` (RFC 9700 2.1.2), `plain` PKCE
    (RFC 9700 2.1.1), and the device grant (broken with this DOT/oauthlib pair).
    """

    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        # A missing code_challenge_method defaults to "plain" in oauthlib: refused with it.
        self.auth_grant._code_challenge_methods = {"S256": pkce.verify_s256}
        self.auth_grant.custom_validators.pre_auth.extend([_redirect_uri_given, _challenge_is_s256])
        self.auth_grant.custom_validators.pre_token.append(_token_request_names_redirect_uri)
        self._response_types = {"code": self.auth_grant}
        self._grant_types = {
            "authorization_code": self.auth_grant,
            "refresh_token": self.refresh_grant,
            "client_credentials": self.credentials_grant,
            "password": self.password_grant,
        }
