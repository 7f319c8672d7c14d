"""CORS for browser-based clients: django-cors-headers, told which origins to allow by the
clients' registered `allowed_origins` through its `check_request_enabled` signal (connected
in OAuthConfig.ready).

Which endpoints: the ones a single-page app calls with `fetch` — the token, revocation and
userinfo endpoints, and the JSON API under /api/ (a resource server: any registered client
origin may call it) — as settings.CORS_URLS_REGEX says. Discovery and the JWKS are public
documents and answer `Access-Control-Allow-Origin: *` themselves (wellknown.views). The
authorization, introspection and logout endpoints and every page get no CORS answer at all.

Which origins: exactly the ones some client lists. A preflight cannot say which client it is
for (it has no body), so the question is "has any client registered this origin?". These
endpoints authenticate by what the request carries (a code and its PKCE verifier, a token),
never by a cookie, and no `Access-Control-Allow-Credentials` is ever sent.

Cost: no query for a request without an `Origin` header (the middleware returns before it
asks) or with one that is not shaped like an origin we could have registered; one otherwise.
"""

import re

from django.conf import settings

from .models import DEFAULT_PORTS, ORIGIN, Client, is_loopback_host


def origin_syntax_ok(origin):
    """Whether `origin` could be a registered origin: https, or http on loopback, serialized
    as browsers send it. Pure: the gate before any query (a NUL, a path, 10 KB of junk...)."""
    match = ORIGIN.fullmatch(origin)
    if match is None or match["port"] == DEFAULT_PORTS[match["scheme"]] or int(match["port"] or 0) > 65535:
        return False
    return match["scheme"] == "https" or is_loopback_host(match["host"])


def is_registered(origin):
    """Whether some client lists `origin` in its allowed origins (one query)."""
    listed = Client.objects.filter(allowed_origins__contains=origin).values_list("allowed_origins", flat=True)
    # `contains` is a substring match ("https://a.example" is inside "https://a.example.org"):
    # the exact comparison is made here, on the few rows it found.
    return any(origin in origins.split() for origins in listed)


def allow_registered_origin(sender, request, **kwargs):
    """`check_request_enabled` receiver: allow the request's origin when the path is a CORS
    endpoint and some client registered that origin. The middleware also asks it about every
    other path (whether CORS applies there at all): those are answered without a query."""
    origin = request.headers.get("origin")
    if not origin or not re.match(settings.CORS_URLS_REGEX, request.path_info) or not origin_syntax_ok(origin):
        return False
    if not hasattr(request, "_registered_origin"):
        request._registered_origin = is_registered(origin)
    return request._registered_origin
