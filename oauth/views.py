"""OAuth endpoints: django-oauth-toolkit's views, thin (parse, call, render).

The token, revocation and introspection endpoints are wrapped by oauth.protocol (request
hygiene, no-store, the transaction policy); the authorization endpoint adds the OpenID Connect
prompts and remembered consent; then UserInfo, RP-initiated logout and the connected-apps pages.
"""

import json
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import View
from oauth2_provider import views as dot_views
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth2.rfc6749 import errors as oauth_errors
from oauthlib.openid.connect.core.exceptions import InteractionRequired

from accounts import stages
from core import querystring
from sso.flows import auth_time as session_auth_time
from sso.flows import current_amr, current_sid

from . import connected_apps, consents, context, display, flows, introspection, logout, prompts, protocol
from .authentication import bearer_challenge
from .claims import AMR_PASSWORD, authentication_context
from .models import Client
from .protocol import CLIENT_CHALLENGE, oauth_error, protocol_endpoint
from .server import OIDCServer


class ServerMixin:
    server_class = OIDCServer


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(protocol_endpoint(atomic=protocol.token_request_writes_several_rows), name="dispatch")
@method_decorator(
    sensitive_post_parameters("password", "otp", "client_secret", "code", "code_verifier", "refresh_token"),
    name="dispatch",
)
class TokenView(ServerMixin, OAuthLibMixin, View):
    """The token endpoint (RFC 6749 3.2). Client credentials run without a transaction
    (one INSERT); every other grant in one.

    DOT's `oauth2_provider.signals.app_authorized` is NOT sent. DOT's TokenView sends it after
    each successful response, reading the new access token's row back by checksum to do so:
    one more SELECT on every token request, for a signal nothing here receives. What must
    follow an issued token happens in the validator, in the request's transaction (the token
    rows, the revocation store's fast path on commit). A receiver that needs the event should
    be a documented signal sent from there, not this one."""

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
@method_decorator(protocol_endpoint(atomic=False), name="dispatch")
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


class _ConsentPrompt(Exception):
    """prompt=consent: DOT was about to approve without asking (a trusted client, or an
    earlier consent); the consent page is shown instead."""


# The consent form's marker field: a POST carrying it (or DOT's "allow" button) is the
# person's answer on the consent page; any other POST is a relying party's authorization request.
CONSENT_ANSWER_FIELD = "consent_answer"


def _is_consent_answer(request):
    return CONSENT_ANSWER_FIELD in request.POST or "allow" in request.POST


def _authorization_request_by_post(request):
    """OpenID Connect Core 3.1.2.1: the authorization endpoint MUST support POST (form
    serialization). Such a request comes from the relying party's page, cross-site: it carries
    no CSRF token and, being a cross-site POST, no SameSite=Lax session cookie. It is answered
    with a 303 to the same request as a GET (the same parameters, duplicates kept so that the
    GET refuses them), which the browser follows as a top-level navigation, with the cookie:
    from there it is the GET flow, validated and logged in exactly as any other."""
    params = list(request.GET.lists()) + list(request.POST.lists())
    query = urlencode([(key, value) for key, values in params for value in values])
    response = HttpResponse(status=303)
    response["Location"] = f"{request.path}?{query}" if query else request.path
    return response


def _csrf_refusal(request):
    """The consent answer is a form of ours: CSRF-checked as the middleware checks any form
    (the view itself is exempt, for relying parties' POSTs)."""
    return CsrfViewMiddleware(lambda _request: None).process_view(request, None, (), {})


@method_decorator(csrf_exempt, name="dispatch")
class AuthorizationView(ServerMixin, dot_views.AuthorizationView):
    """The authorization endpoint (RFC 6749 3.1): login, then consent unless the client is
    trusted or the user's stored consent covers the request (oauth.consents).

    GET and POST (OpenID Connect Core 3.1.2.1): a relying party's POST is turned into the same
    GET (`_authorization_request_by_post`); the person's answer on the consent page (a POST
    with `consent_answer`) is CSRF-checked here, since relying parties' POSTs cannot be.

    Duplicated parameters are refused with an error page (never a redirect: we would not
    know which redirect_uri to trust). Every redirect carries `iss` (RFC 9207).

    OpenID Connect controls (Core 3.1.2.1), on top of DOT's: `prompt=none` never shows a page
    (`login_required` without a fresh enough session, `consent_required` where consent would
    be asked); `prompt=login`, `max_age` and a session without a known login time send the
    user to log in again (see oauth.prompts); `prompt=consent` asks even a trusted client, or
    one the user approved before.
    """

    template_name = "oauth/authorize.html"

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            if not _is_consent_answer(request):
                return _authorization_request_by_post(request)
            if (refusal := _csrf_refusal(request)) is not None:
                return refusal
        problem = protocol.parameter_problem(request.GET)
        if problem is not None:
            return self.render_error(problem)
        if "approval_prompt" in request.GET:
            # DOT lets the request choose its approval mode (`approval_prompt=auto` approves
            # whenever the user holds a live token with the scopes, from any grant). Consent
            # is decided here, from the stored consent only (oauth.consents).
            request.GET = request.GET.copy()
            del request.GET["approval_prompt"]
        # The consent form posts back to this URL: its query's prompt is not asked again.
        self.prompt = prompts.prompt_values(request.GET.get("prompt")) if request.method == "GET" else frozenset()
        self.validated = None
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        try:
            max_age = prompts.max_age(request.GET.get("max_age"))
        except ValueError as exc:
            return self.redirect_error(oauth_errors.InvalidRequestError, str(exc))
        if self.needs_login(max_age):
            return self.handle_no_permission()
        if self.needs_second_factor():
            return self.step_up()
        try:
            return super().get(request, *args, **kwargs)
        except _ConsentPrompt:
            return self.render_to_response(self.get_context_data(**self.oauth2_data))

    def post(self, request, *args, **kwargs):
        # A consent form loaded before a forced re-login was asked for is not an answer to it.
        if self.needs_login(None):
            return self.handle_no_permission()
        problem = protocol.parameter_problem(request.POST)
        if problem is not None:
            return self.render_error(problem)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # DOT loads the answer's client with .get(): a client_id that no consent page showed
        # (a forged or stale form) was a DoesNotExist, a 500. It is the error page, as for the
        # GET, never a redirect (no redirect_uri is verified without a client).
        if not Client.objects.filter(client_id=form.cleaned_data["client_id"]).exists():
            return self.render_error("Invalid client_id parameter value.")
        return super().form_valid(form)

    def form_invalid(self, form):
        # Our consent page always posts a complete form: anything else is the error page.
        return self.render_error("The consent answer is incomplete.")

    def needs_login(self, max_age):
        session = self.request.session
        requested = session.get(prompts.LOGIN_REQUESTED_KEY)
        needed = prompts.needs_login(
            prompt=self.prompt,
            max_age=max_age,
            auth_time=session_auth_time(self.request),
            login_requested_at=requested,
            now=int(time.time()),
        )
        if not needed and requested is not None:
            del session[prompts.LOGIN_REQUESTED_KEY]  # satisfied by a login since
        return needed

    def needs_second_factor(self):
        """`acr_values` (or an `acr` claim) asking for two factors of a one-factor session."""
        accepted = prompts.requested_acr(self.request.GET.get("acr_values"), self.request.GET.get("claims"))
        if not accepted or not self.request.user.is_authenticated:
            return False
        _amr, acr = authentication_context(current_amr(self.request))
        return prompts.needs_second_factor(accepted=accepted, acr=acr)

    def step_up(self):
        """The session's login must add a second factor before this request is answered: the
        code step (or enrolment, for a user without one), then back here. prompt=none cannot
        ask: interaction_required (Core 3.1.2.6). A request that cannot succeed is answered at
        once, as for a login."""
        if "none" in self.prompt:
            return self.redirect_error(InteractionRequired, "Two-factor authentication is needed.")
        try:
            self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        return stages.step_up(
            self.request,
            redirect_to=self.request.get_full_path(),
            amr=current_amr(self.request) or AMR_PASSWORD,
            require={stages.SECOND_FACTOR},
        )

    def handle_no_permission(self):
        """No session, or one that must log in again. DOT answers prompt=none (login_required,
        after validating the client and redirect_uri); everything else goes to the login page,
        once the request is known to be valid: an unknown client or an unregistered redirect
        URI is the error page at once (nobody logs in for a request that cannot succeed), and
        any other error goes back to the client as usual."""
        if "none" in self.prompt:
            return super().handle_no_permission()
        if self.request.method == "GET":
            try:
                self.validate_authorization_request(self.request)
            except OAuthToolkitError as error:
                return self.error_response(error, application=None)
        if self.request.user.is_authenticated:
            self.request.session[prompts.LOGIN_REQUESTED_KEY] = int(time.time())
        return redirect_to_login(
            prompts.after_login(self.request.get_full_path()),
            resolve_url(self.get_login_url()),
            self.get_redirect_field_name(),
        )

    def validate_authorization_request(self, request):
        # Kept for render_to_response: the credentials DOT would approve with.
        self.validated = super().validate_authorization_request(request)
        return self.validated

    def render_to_response(self, context, **kwargs):
        """DOT renders the consent form here whenever the client is not trusted (with
        REQUEST_APPROVAL_PROMPT "force" it never approves by itself): answer from the stored
        consent where it covers the request, `consent_required` for prompt=none, else the page.
        DOT's error page (unknown client, bad redirect_uri) is ours."""
        if "error" in context:
            return self.response_class(
                request=self.request, template="oauth/error.html", context=context, status=kwargs.get("status", 400)
            )
        if self.request.method != "GET" or "form" not in context or self.validated is None:
            return super().render_to_response(context, **kwargs)
        application = context["application"]
        granted = consents.granted_scopes(user=self.request.user, client=application)
        if self.answers_silently(application, granted, context["scopes"]):
            return self.approve(application, context["scopes"])
        if "none" in self.prompt:
            return self.consent_required()  # the consent page, which prompt=none never shows
        context["scope_items"] = [(scope, text, scope in granted) for scope, text, _ in context["scope_items"]]
        asked = set(context["scopes"])
        # Whether the user allowed none, some ("more" is asked) or all ("again") of these before.
        context["earlier_consent"] = "again" if asked <= granted else "more" if granted & asked else None
        return display.allow_logos(super().render_to_response(context, **kwargs), [application])

    def answers_silently(self, application, granted, scopes):
        return (
            "consent" not in self.prompt
            and consents.covers(granted, scopes)
            and consents.may_answer_silently(client=application, redirect_uri=self.validated[1].get("redirect_uri"))
        )

    def approve(self, application, scopes):
        """Approve the validated request without asking (a stored consent covers it)."""
        _scopes, credentials = self.validated
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=self.request, scopes=" ".join(scopes), credentials=credentials, allow=True
            )
        except OAuthToolkitError as error:
            return self.error_response(error, application)
        return self.redirect(uri, application)

    def consent_required(self):
        data = self.oauth2_data
        error = oauth_errors.ConsentRequired(state=data.get("state"))
        return self.error_response(OAuthToolkitError(error, redirect_uri=data["redirect_uri"]), data["application"])

    def redirect_error(self, error_class, description):
        """Answer `error_class` to the client's redirect_uri, once the client and the
        redirect_uri are known to be valid (otherwise DOT's error page)."""
        try:
            _scopes, credentials = self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        error = error_class(description=description, state=credentials.get("state"))
        application = Client.objects.get(client_id=credentials["client_id"])
        return self.error_response(OAuthToolkitError(error, redirect_uri=credentials["redirect_uri"]), application)

    def render_error(self, description, status=400):
        return self.response_class(
            request=self.request,
            template="oauth/error.html",
            context={"error": {"error": "invalid_request", "description": description}},
            status=status,
        )

    def create_authorization_response(self, request, scopes, credentials, allow):
        if request.method == "GET" and "consent" in self.prompt:
            raise _ConsentPrompt
        # oauthlib sets each credential on its request: the context our validator reads
        # (oauth.context). The browser's SSO session is stored on the Grant and carried into
        # every token as `sid`; the session's login time as `auth_time`, its methods as `amr`.
        credentials[context.ATTRIBUTE] = context.RequestContext(
            auth_time=session_auth_time(request), sid=current_sid(request), amr=current_amr(request)
        )
        if request.method != "POST" or not allow:
            return super().create_authorization_response(request, scopes, credentials, allow)
        # The user answered the consent page with Allow: the code and the remembered consent
        # are written together (a denial raises above and stores nothing).
        with transaction.atomic():
            response = super().create_authorization_response(request, scopes, credentials, allow)
            client = Client.objects.get(client_id=credentials["client_id"])
            consents.remember(user=request.user, client=client, scopes=scopes.split())
        return response

    def redirect(self, redirect_to, application):
        return super().redirect(with_issuer(redirect_to, settings.ISSUER), application)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        descriptions = settings.OAUTH_SCOPES
        # (scope, description, already granted): render_to_response fills in the last one.
        context["scope_items"] = [(s, descriptions.get(s, s), False) for s in context.get("scopes", [])]
        return context


def with_issuer(uri, issuer):
    """Add (or replace) the `iss` parameter of an authorization response (RFC 9207)."""
    return querystring.set_parameter(uri, "iss", issuer)


# --- UserInfo (OpenID Connect Core 5.3) ------------------------------------------------------


@method_decorator(never_cache, name="dispatch")
class UserInfoView(ServerMixin, dot_views.UserInfoView):
    """Claims about the user, by the scopes of the access token (GET or POST).

    `Authorization: Bearer <access token>` with the `openid` scope (a token in a POST form body
    is accepted too, RFC 6750 2.2; never in the URL, RFC 9700 2.3). Errors are RFC 6750 3:
    401 with `WWW-Authenticate: Bearer …, error="invalid_token"` for a bad, expired or revoked
    token (an ID token is not an access token), 403 `insufficient_scope` without `openid`.
    """

    def _create_userinfo_response(self, request):
        if "access_token" in request.GET:
            return _bearer_error(400, "invalid_request", "Send the access token in the Authorization header.")
        if not request.META.get("HTTP_AUTHORIZATION") and "access_token" not in request.POST:
            return _bearer_error(401, None, "An access token is required.")
        response = super()._create_userinfo_response(request)
        if response.status_code in (401, 403):
            body = _json_or_empty(response.content)
            return _bearer_error(
                response.status_code, body.get("error", "invalid_token"), body.get("error_description")
            )
        return response


def _json_or_empty(content):
    try:
        body = json.loads(content or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _bearer_error(status, error, description):
    body = {"error": error or "invalid_token", "error_description": description or ""}
    response = JsonResponse(body, status=status)
    response["WWW-Authenticate"] = bearer_challenge(error, description)
    return response


# --- RP-Initiated Logout 1.0 -----------------------------------------------------------------


@csrf_exempt  # relying parties send the logout request from their own pages (GET or POST, section 2)
@never_cache
@require_http_methods(["GET", "POST"])
def end_session(request):
    """The end_session_endpoint. A valid `id_token_hint` naming the logged-in user (or no one
    logged in) logs out at once; otherwise the user is asked (a CSRF-protected POST)."""
    params = request.GET if request.method == "GET" else request.POST
    try:
        logout_request = logout.parse_request(params)
    except logout.LogoutError as exc:
        return _logout_error(request, exc)
    if request.user.is_authenticated and not logout_request.hint_names(request.user):
        context = _logout_context(logout_request)
        return display.allow_logos(render(request, "oauth/logout_confirm.html", context), [context["client"]])
    return _log_out(request, logout_request)


@csrf_protect
@never_cache
@require_POST
def confirm_logout(request):
    """The user confirmed on the page end_session showed. The form's fields are re-checked:
    the browser could have changed them."""
    try:
        logout_request = logout.parse_request(request.POST, confirmed=True)
    except logout.LogoutError as exc:
        return _logout_error(request, exc)
    return _log_out(request, logout_request)


def _log_out(request, logout_request):
    if request.user.is_authenticated:
        auth.logout(request)  # sends user_logged_out: the SSO session ends with it
    if logout_request.redirect_uri:
        return HttpResponseRedirect(logout_request.redirect_location())
    return render(request, "oauth/logged_out.html", _logout_context(logout_request))


def _logout_context(logout_request):
    client = logout_request.client
    return {"logout": logout_request, "client": display.for_client(client) if client else None}


def _logout_error(request, exc):
    return render(request, "oauth/logout_error.html", {"description": exc.description}, status=400)


# --- Connected apps (/accounts/apps/) ------------------------------------------------------


@never_cache
@login_required
def connected_apps_page(request):
    """The apps the user has allowed or holds tokens of, each with a "Revoke access" button."""
    apps = connected_apps.list_apps(user=request.user)
    response = render(request, "oauth/connected_apps.html", {"apps": apps})
    return display.allow_logos(response, [app.client for app in apps])


@never_cache
@require_POST
@login_required
def revoke_app_access(request, client_id):
    """End the app's tokens for this user and forget the consent (CSRF-checked POST). 404 for
    a client that is not one of the user's apps."""
    # PostgreSQL refuses NUL in a string literal: such a client_id names no client.
    client = None if "\x00" in client_id else Client.objects.filter(client_id=client_id).first()
    if client is None:
        raise Http404("No such app.")
    try:
        flows.revoke_app_access(user=request.user, client=client)
    except flows.NotConnected:
        raise Http404("This app is not connected to your account.") from None
    messages.success(request, f"{client.name} no longer has access to your account.")
    return HttpResponseRedirect(reverse("connected_apps:list"))
