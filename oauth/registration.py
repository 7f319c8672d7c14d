"""Dynamic client registration (RFC 7591) and client configuration (RFC 7592) over HTTP.

    POST   /oauth/register/              register a client (who may: CLIENT_REGISTRATION)
    GET    /oauth/register/<client_id>/  read its registration   } with the registration
    PUT    /oauth/register/<client_id>/  replace its metadata    } access token, as a Bearer
    DELETE /oauth/register/<client_id>/  delete it (and its tokens)

These replace django-oauth-toolkit 3.4's registration views, which keep one grant type per
client, store the registration access token as an AccessToken row (so it would show in
introspection and on the connected apps page), know no initial access token and keep only
client_name of the metadata. Here the metadata rules are oauth.client_metadata's and the admin
form's (Client.clean), the writes are oauth.flows', and every answer is JSON with
`Cache-Control: no-store`; errors are RFC 7591 3.2.2 objects, and a missing, unknown, expired or
spent token is a 401 with a Bearer challenge (RFC 6750 3). JSON API endpoints authenticated by a
bearer token, never by the session: no CSRF check applies (csrf_exempt).
"""

import functools
import json
import logging
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.urls import get_script_prefix, reverse
from django.views.decorators.csrf import csrf_exempt

from accounts.throttling import ClientThrottle
from core.parsers import MAX_DEPTH, nesting_depth

from . import client_metadata, flows
from .authentication import REALM
from .client_metadata import INVALID_METADATA, MetadataError

log = logging.getLogger(__name__)
THROTTLE_SCOPE = "client_registration"
# RFC 6750 2.1 b64token.
_BEARER = re.compile(r"Bearer ([A-Za-z0-9\-._~+/]+=*)", re.IGNORECASE)
_NO_TOKEN = object()


def registration_open():
    """Whether the registration endpoint registers anyone (and is advertised in discovery)."""
    return settings.CLIENT_REGISTRATION in ("token", "open")


def _error(error, description, status=400, headers=None):
    # error_description: no quotes, backslashes or control characters (RFC 6749 5.2's charset).
    clean = re.sub(r'["\\\x00-\x1f\x7f]', "", description)[:500]
    response = JsonResponse({"error": error, "error_description": clean}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _unauthorized(description, *, token_given):
    # RFC 6750 3.1: no error code when the request carried no token at all.
    challenge = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if token_given else "")
    return _error("invalid_token", description, status=401, headers={"WWW-Authenticate": challenge})


def _endpoint(methods):
    """JSON endpoint hygiene: the allowed methods, no-store on every answer, 413 for a body
    over DATA_UPLOAD_MAX_MEMORY_SIZE, 503 (never a false success) when the database fails."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in methods:
                response = _error("invalid_request", "Method not allowed.", 405, {"Allow": ", ".join(methods)})
            else:
                try:
                    response = view(request, *args, **kwargs)
                except RequestDataTooBig:
                    response = _error(INVALID_METADATA, "The request body is too large.", status=413)
                except DatabaseError:
                    log.exception("Database error at %s", request.path)
                    response = _error("temporarily_unavailable", "Retry later.", 503, {"Retry-After": "5"})
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
            return response

        return wrapped

    return decorate


def _bearer_token(request):
    """The Bearer token of the request; None without an Authorization header; _NO_TOKEN
    for an Authorization header that carries no well-formed Bearer token."""
    header = request.META.get("HTTP_AUTHORIZATION")
    if header is None:
        return None
    match = _BEARER.fullmatch(header.strip())
    return match[1] if match else _NO_TOKEN


def _json_body(request):
    """The request's JSON object; MetadataError when it is not one."""
    if request.content_type != "application/json":
        raise MetadataError(INVALID_METADATA, "The body must be application/json.")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise MetadataError(INVALID_METADATA, "The body must be UTF-8 JSON.") from None
    if nesting_depth(text) > MAX_DEPTH:
        raise MetadataError(INVALID_METADATA, "The JSON document is nested too deep.")
    try:
        data = json.loads(text)
    except ValueError:
        raise MetadataError(INVALID_METADATA, "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise MetadataError(INVALID_METADATA, "The body must be a JSON object of client metadata.")
    return data


def _throttled(request):
    throttle = ClientThrottle(THROTTLE_SCOPE)
    if throttle.allow_request(request, view=None):
        return None
    wait = max(1, round(throttle.wait() or 1))
    flows.record_registration_refused(error="temporarily_unavailable", reason="rate limit")
    return _error(
        "temporarily_unavailable",
        "Too many registration requests from this address; retry later.",
        status=429,
        headers={"Retry-After": str(wait)},
    )


def _configuration_uri(client):
    path = reverse("oauth:client-configuration", kwargs={"client_id": client.client_id})
    # ISSUER already includes any path the server is mounted under (as in discovery).
    return settings.ISSUER + path.removeprefix(get_script_prefix().rstrip("/"))


def _registration_answer(client, registration_token, *, secret=None, status=200):
    body = client_metadata.render(client)
    if secret is not None:
        body["client_secret"] = secret
    body["registration_access_token"] = registration_token
    body["registration_client_uri"] = _configuration_uri(client)
    return JsonResponse(body, status=status)


def _policy(request):
    """(initial token or None, confidential allowed) for a registration request, or an error
    response: who may register is CLIENT_REGISTRATION's to say."""
    if not registration_open():
        flows.record_registration_refused(error="access_denied", reason="registration closed")
        return _error("access_denied", "Client registration is closed on this server.", status=403)
    token = _bearer_token(request)
    if token is _NO_TOKEN:
        flows.record_registration_refused(error="invalid_token", reason="malformed Authorization header")
        return _unauthorized("The Authorization header must carry a Bearer token.", token_given=True)
    if token is None:
        if settings.CLIENT_REGISTRATION == "open":
            return None, False
        flows.record_registration_refused(error="invalid_token", reason="no initial access token")
        return _unauthorized("An initial access token is required to register a client.", token_given=False)
    if flows.initial_access_token(token) is None:
        flows.record_registration_refused(error="invalid_token", reason="unknown, expired or spent initial token")
        return _unauthorized("The initial access token is unknown, expired or spent.", token_given=True)
    return token, True


def _metadata_refused(exc, *, client_id=""):
    flows.record_registration_refused(error=exc.error, reason=exc.description[:200], client_id=client_id)
    return _error(exc.error, exc.description)


def _client_error(exc, *, client_id=""):
    return _metadata_refused(MetadataError(*client_metadata.error_for(exc.errors)), client_id=client_id)


@_endpoint(["POST"])
def register(request):
    """RFC 7591 3.1: register a client; 201 with its credentials and metadata."""
    if (refusal := _throttled(request)) is not None:
        return refusal
    policy = _policy(request)
    if isinstance(policy, HttpResponse):
        return policy
    token, confidential_allowed = policy
    try:
        fields = client_metadata.parse(
            _json_body(request),
            confidential_allowed=confidential_allowed,
            allowed_scopes=settings.CLIENT_REGISTRATION_SCOPES,
        )
        client, secret, registration_token = flows.register_client(
            fields=fields, initial_token=token, via="initial access token" if token else "open registration"
        )
    except MetadataError as exc:
        return _metadata_refused(exc)
    except flows.ClientError as exc:
        return _client_error(exc)
    except flows.InitialAccessTokenRefused:
        flows.record_registration_refused(error="invalid_token", reason="initial token spent meanwhile")
        return _unauthorized("The initial access token is unknown, expired or spent.", token_given=True)
    return _registration_answer(client, registration_token, secret=secret, status=201)


def _update(request, client, token):
    data = _json_body(request)
    if data.get("client_id") != client.client_id:
        raise MetadataError(INVALID_METADATA, "client_id must be the client's own (RFC 7592 2.2).")
    secret = data.get("client_secret")
    if secret is not None and not isinstance(secret, str):
        raise MetadataError(INVALID_METADATA, "client_secret must be a string.")
    fields = client_metadata.parse(
        data,
        confidential_allowed=client.client_type == client.CLIENT_CONFIDENTIAL,
        allowed_scopes=settings.CLIENT_REGISTRATION_SCOPES,
    )
    return flows.update_registered_client(client=client, token=token, fields=fields, client_secret=secret)


@_endpoint(["GET", "PUT", "DELETE"])
def configure(request, client_id):
    """RFC 7592 2: read, replace or delete a registration, with its registration access token."""
    token = _bearer_token(request)
    if token is None or token is _NO_TOKEN:
        return _unauthorized("The registration access token is required.", token_given=token is _NO_TOKEN)
    client = flows.registered_client(client_id=client_id, token=token)
    if client is None:
        # RFC 7592 2.1: 401 also when the client does not exist (nothing tells which).
        flows.record_registration_refused(error="invalid_token", reason="wrong registration token", client_id="")
        return _unauthorized("The registration access token is not valid for this client.", token_given=True)
    try:
        if request.method == "GET":
            # RFC 7592 3: the answer carries the registration access token, which is the one
            # presented (only its hash is stored; a read does not rotate it).
            return _registration_answer(client, token)
        if request.method == "DELETE":
            flows.delete_registered_client(client=client, token=token)
            return HttpResponse(status=204)
        client, registration_token = _update(request, client, token)
    except MetadataError as exc:
        return _metadata_refused(exc, client_id=client.client_id)
    except flows.ClientError as exc:
        return _client_error(exc, client_id=client.client_id)
    except flows.RegistrationTokenRefused:
        return _unauthorized("The registration access token is not valid for this client.", token_given=True)
    return _registration_answer(client, registration_token)
