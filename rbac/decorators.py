"""`role_required` for plain Django views (the browser session's user)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from . import flows


def role_required(*roles):
    """The logged-in user must hold one of `roles`: anonymous → the login page (and back),
    logged in without the role → 403.

        @role_required("admin", "operator")
        def console(request): ...
    """
    if not roles:
        raise TypeError("role_required needs at least one role name")
    wanted = frozenset(roles)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not flows.role_names(user=request.user) & wanted:
                raise PermissionDenied(f"This page needs one of the roles: {', '.join(sorted(wanted))}.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
