"""The project's error views (handler400/403/404/500 in identity/urls.py).

Django's default error views carry @requires_csrf_token, which runs the CSRF middleware's
check again and so reads request.POST. For a body Django refuses to parse (a form declaring a
non-UTF-8 charset: BadRequest) that read raises the same error again inside the error view, and
the 400 becomes a 500 with a logged traceback. The views here are Django's own without that
decorator: CsrfViewMiddleware is in MIDDLEWARE, so {% csrf_token %} in the templates still works.

Under /api/ a URL no pattern matches answers JSON, as every API view does (DRF's
`{"detail": …}`), not the HTML page: API clients (and the OpenAPI description) expect JSON there.
"""

from django.http import JsonResponse
from django.views import defaults

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


server_error = _undecorated(defaults.server_error)
