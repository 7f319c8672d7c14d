"""The middleware of our own: no-store by default, and the browser's middleware kept to browsers.

Two stacks, one process (issue 16). settings.MIDDLEWARE is what every response needs: CORS,
the security headers (nosniff, Referrer-Policy, COOP, HSTS), static files, no-store, common
(Content-Length), the audit log's request context. Its last entry, `BrowserMiddleware`, runs
settings.BROWSER_MIDDLEWARE (CSP, sessions, CSRF, authentication, the SSO session, messages,
X-Frame-Options, axes) in that order around every view, except the views marked with
`protocol_endpoint`: the token, revocation, introspection, userinfo and registration endpoints,
discovery, the JWKS, the health probes and the JSON APIs that accept only an access token.
Those are called by programs that authenticate with what the request carries (client
credentials, a bearer token), never with a cookie; the browser stack did nothing for them but
cost a session lookup, a lazy user, a CSRF check and headers meant for pages.

Why a marker on the view, read by one wrapper, rather than a dispatcher in front of Django
routing by path prefix to two handlers:
- what an endpoint gets is said where the endpoint is declared (each app's urls.py wraps its
  protocol views in `protocol_endpoint(...)`), and an unmarked view, a new page, an unknown path
  or an error page gets the whole browser stack: forgetting the marker costs speed, never a
  header or a CSRF check;
- a prefix cannot tell `/api/me` (an access token only) from `/api/me/totp/` (which accepts the
  browser's session cookie, and so needs sessions, authentication and CSRF);
- it stays inside Django's handler, so the test client, `runserver`, WSGI and ASGI all run the
  same stacks as production: every test of an endpoint tests the stack it really gets.
The price is one URL resolution per distinct path before Django's own (remembered in a bounded
LRU, so a repeated path costs a dictionary lookup). docs/middleware.md shows both lists.
"""

import functools

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.urls import Resolver404, get_resolver
from django.utils.module_loading import import_string

from core.lru import LRU

PROTOCOL_ENDPOINT = "protocol_endpoint"


def no_store_by_default(get_response):
    """`Cache-Control: no-store` on every response whose view set no Cache-Control.

    Everything this server answers dynamically is about someone (a profile, sessions, tokens,
    a password form with its CSRF token) or describes this instant; the few public documents
    that may be cached (discovery, JWKS) say so themselves, and static files are answered by
    WhiteNoise above this middleware. One rule, so a new view cannot forget it (issue 15).
    """

    def middleware(request):
        response = get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response

    return middleware


def protocol_endpoint(view):
    """`view` (a function, or what `as_view()` returns), answered without
    settings.BROWSER_MIDDLEWARE: only for views that never read a cookie or a session, show no
    page, and authenticate by what the request carries. A wrapper, not a mark on `view` itself:
    the route it is given to is a protocol endpoint, not every route to the same function."""

    @functools.wraps(view)
    def endpoint(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    setattr(endpoint, PROTOCOL_ENDPOINT, True)
    return endpoint


def is_protocol_endpoint(view):
    return getattr(view, PROTOCOL_ENDPOINT, False)


class BrowserMiddleware:
    """Runs settings.BROWSER_MIDDLEWARE around every view not marked `protocol_endpoint`.

    Last in settings.MIDDLEWARE. The inner stack is built as Django builds its own
    (BaseHandler.load_middleware): each layer converts exceptions to responses, and the layers'
    `process_view`, `process_template_response` and `process_exception` hooks are called in
    Django's order, through this middleware's hooks of the same names, for browser requests only.
    Synchronous, like every middleware listed there (ASGI runs it in a thread, as it does them).
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response
        self._view_hooks, self._template_hooks, self._exception_hooks = [], [], []
        handler = get_response
        for path in reversed(settings.BROWSER_MIDDLEWARE):
            factory = import_string(path)
            if not getattr(factory, "sync_capable", True):
                raise ImproperlyConfigured(f"BROWSER_MIDDLEWARE: {path} cannot run synchronously.")
            try:
                layer = factory(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(layer, "process_view"):
                self._view_hooks.insert(0, layer.process_view)
            if hasattr(layer, "process_template_response"):
                self._template_hooks.append(layer.process_template_response)
            if hasattr(layer, "process_exception"):
                self._exception_hooks.append(layer.process_exception)
            handler = convert_exception_to_response(layer)
        self.browser = handler
        # Path -> whether it resolves to a protocol endpoint, per URLconf: paths are
        # attacker-chosen, so the memo is bounded (a miss costs one resolution, ~20 µs).
        self._protocol_paths = LRU(maxsize=2048)

    def __call__(self, request):
        request.browser_middleware = not self._is_protocol_request(request)
        if request.browser_middleware:
            return self.browser(request)
        return self.get_response(request)

    def _is_protocol_request(self, request):
        urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
        key = (urlconf, request.path_info)
        known = self._protocol_paths.get(key)
        if known is None:
            try:
                known = is_protocol_endpoint(get_resolver(urlconf).resolve(request.path_info).func)
            except Resolver404:
                known = False
            self._protocol_paths.put(key, known)
        return known

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.browser_middleware:
            return None
        for hook in self._view_hooks:
            response = hook(request, view_func, view_args, view_kwargs)
            if response is not None:
                return response
        return None

    def process_template_response(self, request, response):
        if request.browser_middleware:
            for hook in self._template_hooks:
                response = hook(request, response)
                if response is None:
                    raise ValueError(f"{hook.__self__.__class__.__name__}.process_template_response returned None.")
        return response

    def process_exception(self, request, exception):
        if not request.browser_middleware:
            return None
        for hook in self._exception_hooks:
            response = hook(request, exception)
            if response is not None:
                return response
        return None
