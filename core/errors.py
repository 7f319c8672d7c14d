"""The project's error views (handler400/403/404/500 in identity/urls.py).

Django's default error views carry @requires_csrf_token, which runs the CSRF middleware's
check again and so reads request.POST. For a body Django refuses to parse (a form declaring a
non-UTF-8 charset: BadRequest) that read raises the same error again inside the error view, and
the 400 becomes a 500 with a logged traceback. The views here are Django's own without that
decorator: CsrfViewMiddleware is in MIDDLEWARE, so {% csrf_token %} in the templates still works.

The 500 view answers 503 with `Retry-After` instead when the error was the database being
unreachable or too slow (OperationalError: connection refused or lost, statement timeout, lock
timeout; InterfaceError: connection already closed). Django calls handler500 for an uncaught
exception raised anywhere, in a view or in a middleware (the session, the SSO session, the
login throttle), so this one place covers every page and API. JSON for the APIs and the
protocol endpoints, HTML for the pages; rendered without the request, which would need the
database (request.user).

Under /api/ a URL no pattern matches answers JSON, as every API view does (DRF's
`{"detail": …}`), not the HTML page: API clients (and the OpenAPI description) expect JSON there.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

# Seconds a client should wait before retrying after a 503 (the database is back within
# seconds after a failover or a restart; CONN_HEALTH_CHECKS reconnects on the next request).
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_DESCRIPTION = "The server cannot complete this request now; retry later."

# Paths answered in JSON: the APIs and the protocol endpoints a program calls. The
# authorization and logout endpoints are pages a browser shows.
_JSON_PREFIXES = ("/api/", "/oauth/token/", "/oauth/revoke/", "/oauth/introspect/", "/oauth/userinfo/")
_JSON_PREFIXES += ("/.well-known/", "/health/")
API_PREFIX = "/api/"


def _undecorated(view):
    return view.__wrapped__  # the function @requires_csrf_token wrapped (functools.wraps)


bad_request = _undecorated(defaults.bad_request)
permission_denied = _undecorated(defaults.permission_denied)
_page_not_found = _undecorated(defaults.page_not_found)


def page_not_found(request, exception):
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    return _page_not_found(request, exception)


_server_error = _undecorated(defaults.server_error)


def is_database_unavailable(exc):
    """Whether `exc` says the database cannot answer now (not a bug in a query)."""
    return isinstance(exc, (OperationalError, InterfaceError))


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if is_database_unavailable(sys.exc_info()[1]):
        return service_unavailable(request)
    return _server_error(request, template_name)


def wants_json(request):
    if request.path.startswith(_JSON_PREFIXES):
        return True
    accept = request.headers.get("Accept", "")
    return "json" in accept and "text/html" not in accept


def service_unavailable(request):
    """503 with Retry-After, never cached: an OAuth-style JSON error or an HTML page.

    `Pragma: no-cache` beside `Cache-Control: no-store`, as the token, introspection and
    revocation endpoints answer their own errors (RFC 6749 5.1, for HTTP/1.0 caches)."""
    if wants_json(request):
        body = {"error": "temporarily_unavailable", "error_description": UNAVAILABLE_DESCRIPTION}
        response = JsonResponse(body, status=503)
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
