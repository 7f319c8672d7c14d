"""What the browser session records about the login (read by the authorization endpoint)."""

import time

AUTH_TIME_KEY = "identity_auth_time"


def record_login(sender, request, user, **kwargs):
    """`user_logged_in` receiver: remember when this session authenticated."""
    if request is not None and hasattr(request, "session"):
        request.session[AUTH_TIME_KEY] = int(time.time())


def auth_time(request):
    """Unix time at which the current session's user authenticated, or None."""
    return request.session.get(AUTH_TIME_KEY)
