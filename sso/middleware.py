from django.contrib.auth import SESSION_KEY

from . import flows


class SSOSessionMiddleware:
    """Server-side SSO session enforcement for browsers. Place after AuthenticationMiddleware.

    A browser whose Django session is logged in but whose SSO session is revoked, idle-expired,
    absolutely expired or missing is logged out before the view runs (the request continues as
    anonymous). Costs one indexed query per authenticated browser request; requests without a
    logged-in session (API calls with Bearer tokens) cost nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            flows.enforce_browser_session(request)
        return self.get_response(request)
