"""Request hygiene and the transaction policy of the protocol endpoints.

Every JSON endpoint (token, revoke, introspect) takes POST with a form-encoded body only,
refuses parameters in the URL and duplicated parameters, answers RFC 6749 5.2 JSON errors and
never caches (`Cache-Control: no-store`). A database failure is a 503, never a false success.
Requests that write several rows run in one transaction; those that only read (introspection)
or write one row (client credentials, `SINGLE_WRITE_GRANTS`) run in autocommit.

`parameter_problem` is the one duplicated-parameter and NUL check, used by the JSON
endpoints, the authorization endpoint and RP-initiated logout.
"""

import base64
import functools
import json
import logging
from urllib.parse import unquote_plus

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.db import DatabaseError, transaction
from django.http import JsonResponse

from core.errors import RETRY_AFTER_SECONDS, UNAVAILABLE_DESCRIPTION

from . import client_throttle

log = logging.getLogger(__name__)
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
REPEATABLE = frozenset({"resource"})  # RFC 8707
CLIENT_CHALLENGE = 'Basic realm="identity"'
# Grants whose token request writes one row, the access token's INSERT (atomic by itself): it
# runs without a transaction (protocol_endpoint, Validator.save_bearer_token), sparing a BEGIN
# and a COMMIT. Every other grant writes several rows that commit together or not at all.
SINGLE_WRITE_GRANTS = frozenset({"client_credentials"})


def parameter_problem(params, *, repeatable=REPEATABLE, names=False):
    """Why the parameters of a QueryDict are refused (a description), or None: a parameter
    given twice (unless `repeatable`), or a NUL character in a value (and, with `names`, in a
    name). PostgreSQL refuses NUL in a string, and which of two values counts is ambiguous."""
    duplicated = sorted(k for k, v in params.lists() if len(v) > 1 and k not in repeatable)
    if duplicated:
        return f"Duplicated parameter: {', '.join(duplicated)}."
    if any((names and "\x00" in k) or "\x00" in v for k, values in params.lists() for v in values):
        return "Parameters must not contain NUL characters."
    return None


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


def request_problem(request):
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
    except BadRequest:  # a charset other than UTF-8 (Django 5.1+ refuses it)
        return oauth_error("invalid_request", "The form-encoded body must be UTF-8.")
    problem = parameter_problem(params, names=True)
    if problem is not None:
        return oauth_error("invalid_request", problem)
    basic_id = basic_client_id(request)
    if basic_id == "":
        return oauth_error("invalid_client", "Malformed HTTP Basic credentials.", status=401)
    if basic_id is not None and "client_secret" in params:
        return oauth_error("invalid_request", "Use one client authentication method, not two.")
    if basic_id is not None and params.get("client_id", basic_id) != basic_id:
        return oauth_error("invalid_request", "The client_id does not match the authenticated client.")
    return None


def basic_client_id(request):
    """The client_id of an HTTP Basic Authorization header (RFC 6749 2.3.1), None without one,
    or "" when it is malformed: not ASCII, not base64, not UTF-8 once decoded, or no colon
    between client_id and secret (`request_problem` answers 401 invalid_client then)."""
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        # A str with a non-ASCII character makes b64decode raise ValueError (not binascii.Error).
        decoded = base64.b64decode(credentials.strip().encode("ascii"), validate=True).decode("utf-8")
    except (ValueError, UnicodeError):  # binascii.Error and UnicodeDecodeError are ValueErrors
        return ""
    client_id, colon, _ = decoded.partition(":")
    if not colon:
        return ""
    return unquote_plus(client_id)


def protocol_endpoint(view=None, *, atomic=True):
    """Wrap a JSON protocol endpoint with the checks above, a transaction and no-store.

    `atomic=False` for endpoints that only read (introspection): each statement then runs
    on its own (autocommit), sparing a BEGIN and a COMMIT, and on SQLite the write lock that
    its BEGIN IMMEDIATE takes. `atomic` may also be a function of the (well-formed) request
    that says whether this one needs a transaction (the token endpoint: per grant type).
    A DatabaseError answers 503 either way."""
    if view is None:
        return functools.partial(protocol_endpoint, atomic=atomic)

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        problem = request_problem(request)
        if problem is not None:
            if _client_authentication_failed(problem):  # malformed Basic credentials
                refusal = client_throttle.failed(request, None)
                if refusal is not None:
                    return _no_store(_throttled(refusal))
            return _no_store(_client_challenge(problem))
        if (refusal := client_throttle.blocked(request)) is not None:
            return _no_store(_throttled(refusal))
        try:
            if atomic(request) if callable(atomic) else atomic:
                with transaction.atomic():
                    response = view(request, *args, **kwargs)
            else:
                response = view(request, *args, **kwargs)
        except DatabaseError:
            log.exception("Database error at %s", request.path)
            response = oauth_error("temporarily_unavailable", UNAVAILABLE_DESCRIPTION, status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        if _client_authentication_failed(response):
            refusal = client_throttle.failed(request, basic_client_id(request) or request.POST.get("client_id"))
            if refusal is not None:
                return _no_store(_throttled(refusal))
        return _no_store(_client_challenge(response))

    return wrapped


def _client_authentication_failed(response):
    # Each of these endpoints answers 401 only for a failed client authentication (RFC 6749
    # 5.2 invalid_client; RFC 7009 2.2.1; RFC 7662 2.3); the body is read for failures only.
    if response.status_code != 401:
        return False
    try:
        return json.loads(response.content).get("error") == "invalid_client"
    except (ValueError, AttributeError):
        return False


def _throttled(refusal):
    return oauth_error(
        "invalid_client", refusal.description, status=429, headers={"Retry-After": str(refusal.retry_after)}
    )


def token_request_writes_several_rows(request):
    """Whether a token request needs a transaction: every grant but those that write a single
    row (client credentials: the access token's INSERT, atomic by itself). Without one, an
    on_commit callback runs at once: the row it follows is committed by then."""
    return request.POST.get("grant_type") not in SINGLE_WRITE_GRANTS
