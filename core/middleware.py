"""Responses are not stored by caches unless their view says otherwise."""


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
