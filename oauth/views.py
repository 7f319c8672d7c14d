"""OAuth endpoints: django-oauth-toolkit's views, with the request hygiene RFC 6749 asks for.

Every JSON endpoint here (token, revoke, introspect) takes POST with a form-encoded body only,
refuses parameters in the URL and duplicated parameters, answers RFC 6749 5.2 JSON errors and
never caches (`Cache-Control: no-store`). A database failure is a 503, never a false success.
"""

import base64
import binascii
import functools
import logging
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.db import DatabaseError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import View
from oauth2_provider import views as dot_views
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OAuthlibRequest

from accounts.sessions import auth_time as session_auth_time

from . import introspection
from .server import Server

log = logging.getLogger(__name__)
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
REPEATABLE = {"resource"}  # RFC 8707
CLIENT_CHALLENGE = 'Basic realm="identity"'


def oauth_error(error, description, status=400, headers=None):
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _no_store(response):
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _client_challenge(response):
    # oauthlib answers a failed client authentication with a `Bearer` challenge; RFC 6749 5.2
    # asks for the scheme the client authenticates with (HTTP Basic here).
    if response.status_code == 401:
        response["WWW-Authenticate"] = CLIENT_CHALLENGE
    return response


def _request_problem(request):
    """Why a request to a JSON endpoint is malformed (an error response), or None."""
    if request.method != "POST":
        return oauth_error("invalid_request", "Use POST.", status=405, headers={"Allow": "POST"})
    if request.META.get("QUERY_STRING"):
        return oauth_error("invalid_request", "Send parameters in the form-encoded body, not in the URL.")
    if request.content_type != FORM_CONTENT_TYPE:
        return oauth_error("invalid_request", f"The body must be {FORM_CONTENT_TYPE}.")
    try:
        params = request.POST
    except RequestDataTooBig:
        return oauth_error("invalid_request", "The request body is too large.", status=413)
    except (TooManyFieldsSent, SuspiciousOperation):
        return oauth_error("invalid_request", "The request has too many parameters.")
    duplicated = sorted(k for k, v in params.lists() if len(v) > 1 and k not in REPEATABLE)
    if duplicated:
        return oauth_error("invalid_request", f"Duplicated parameter: {', '.join(duplicated)}.")
    if any("\x00" in k or "\x00" in v for k, values in params.lists() for v in values):
        return oauth_error("invalid_request", "Parameters must not contain NUL characters.")
    basic_id = _basic_client_id(request)
    if basic_id is not None and "client_secret" in params:
        return oauth_error("invalid_request", "Use one client authentication method, not two.")
    if basic_id is not None and params.get("client_id", basic_id) != basic_id:
        return oauth_error("invalid_request", "The client_id does not match the authenticated client.")
    return None


def _basic_client_id(request):
    """The client_id of an HTTP Basic Authorization header (RFC 6749 2.3.1), or None."""
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""  # malformed: authentication will fail with invalid_client
    return unquote_plus(decoded.partition(":")[0])


def protocol_endpoint(view):
    """Wrap a JSON protocol endpoint with the checks above, a transaction and no-store."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        problem = _request_problem(request)
        if problem is not None:
            return _no_store(problem)
        try:
            with transaction.atomic():
                response = view(request, *args, **kwargs)
        except DatabaseError:
            log.exception("Database error at %s", request.path)
            response = oauth_error(
                "temporarily_unavailable", "The server cannot complete this request now; retry later.", status=503
            )
            response["Retry-After"] = "5"
        return _no_store(_client_challenge(response))

    return wrapped


class ServerMixin:
    server_class = Server


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(protocol_endpoint, name="dispatch")
@method_decorator(
    sensitive_post_parameters("password", "client_secret", "code", "code_verifier", "refresh_token"), name="dispatch"
)
class TokenView(ServerMixin, OAuthLibMixin, View):
    """The token endpoint (RFC 6749 3.2)."""

    def post(self, request):
        if not request.POST.get("grant_type"):
            return oauth_error("invalid_request", "The grant_type parameter is required.")
        url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(body, status=status, content_type="application/json")
        for name, value in headers.items():
            response[name] = value
        return response


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(protocol_endpoint, name="dispatch")
@method_decorator(sensitive_post_parameters("client_secret", "token"), name="dispatch")
class RevokeTokenView(ServerMixin, dot_views.RevokeTokenView):
    """Token revocation (RFC 7009): 200 whether or not the token was known."""

    def post(self, request, *args, **kwargs):
        if not request.POST.get("token"):
            return oauth_error("invalid_request", "The token parameter is required.")
        response = super().post(request, *args, **kwargs)
        if response.status_code != 200 and not response.get("Content-Type", "").startswith("application/json"):
            response["Content-Type"] = "application/json"
        return response


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(protocol_endpoint, name="dispatch")
@method_decorator(sensitive_post_parameters("client_secret", "token"), name="dispatch")
class IntrospectTokenView(ServerMixin, OAuthLibMixin, View):
    """Token introspection (RFC 7662) for authenticated clients.

    A client may introspect the tokens issued to it; a client marked `can_introspect_any`
    (a resource server) may introspect any. Anything else answers `{"active": false}`.
    """

    def post(self, request):
        caller = self._authenticated_client(request)
        if caller is None:
            return oauth_error(
                "invalid_client",
                "Client authentication failed.",
                status=401,
                headers={"WWW-Authenticate": CLIENT_CHALLENGE},
            )
        token = request.POST.get("token")
        if not token:
            return oauth_error("invalid_request", "The token parameter is required.")
        hint = request.POST.get("token_type_hint")
        return JsonResponse(introspection.introspect(token=token, hint=hint, caller=caller))

    def _authenticated_client(self, request):
        """The confidential client that authenticated this request (Basic or body), or None."""
        core = self.get_oauthlib_core()
        uri, method, body, headers = core._extract_params(request)
        oauth_request = OAuthlibRequest(uri, method, body, headers)
        if not core.server.request_validator.authenticate_client(oauth_request):
            return None
        client = oauth_request.client
        return client if client.client_type == client.CLIENT_CONFIDENTIAL else None


class AuthorizationView(ServerMixin, dot_views.AuthorizationView):
    """The authorization endpoint (RFC 6749 3.1): login, then consent unless trusted.

    Duplicated parameters are refused with an error page (never a redirect: we would not
    know which redirect_uri to trust). Every redirect carries `iss` (RFC 9207).
    """

    template_name = "oauth/authorize.html"

    def dispatch(self, request, *args, **kwargs):
        duplicated = sorted(k for k, v in request.GET.lists() if len(v) > 1 and k not in REPEATABLE)
        if duplicated:
            return self.render_error(f"Duplicated parameter: {', '.join(duplicated)}.")
        if any("\x00" in value for _, values in request.GET.lists() for value in values):
            return self.render_error("Parameters must not contain NUL characters.")
        return super().dispatch(request, *args, **kwargs)

    def render_error(self, description, status=400):
        return self.response_class(
            request=self.request,
            template="oauth/error.html",
            context={"error": {"error": "invalid_request", "description": description}},
            status=status,
        )

    def create_authorization_response(self, request, scopes, credentials, allow):
        credentials["auth_time"] = session_auth_time(request)
        return super().create_authorization_response(request, scopes, credentials, allow)

    def redirect(self, redirect_to, application):
        return super().redirect(with_issuer(redirect_to, settings.ISSUER), application)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        descriptions = settings.OAUTH_SCOPES
        context["scope_items"] = [(s, descriptions.get(s, s)) for s in context.get("scopes", [])]
        return context


def with_issuer(uri, issuer):
    """Add (or replace) the `iss` parameter of an authorization response (RFC 9207)."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"]
    query.append(("iss", issuer))
    return urlunsplit(parts._replace(query=urlencode(query)))
