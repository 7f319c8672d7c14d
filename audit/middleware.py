"""Makes the request being answered known to `audit.record` (settings.MIDDLEWARE)."""

from contextvars import ContextVar

_current = ContextVar("audit_current_request", default=None)


def current_request():
    """The Django request this thread is answering, or None (a command, a test without one)."""
    return _current.get()


class RequestContextMiddleware:
    """An event recorded while a request is answered gets that request's client IP address and
    user agent, and its logged-in user as the actor, unless the caller says otherwise: events
    sent from deep inside a flow (model signals, an admin action) need no request passed down."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current.set(request)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
