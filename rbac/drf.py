"""DRF permission classes: HasScope, HasRole, HasPermission, combinable with `&`, `|` and `~`.

    permission_classes = [HasRole("admin") | HasPermission(perms.CLIENTS_MANAGE)]

They read the verified access token duck-typed (core.permissions: `request.auth.scopes` and
`request.auth.claims`), so rbac imports nothing of oauth. A token speaks for what it carries:
its `scope`, and its `roles` claim (the `roles` scope), which it got from the user's roles when
it was issued (a role change since refuses the token: sso moves the not-before). A browser
session (DRF SessionAuthentication) has no token: its user's roles are read from the database.

Answers (RFC 6750 3.1), never swapped:
- no credentials, or a bad token: 401 with `WWW-Authenticate: Bearer` (the authentication
  class's challenge: these classes return False and DRF answers NotAuthenticated);
- a valid token without the scope or role: 403, `WWW-Authenticate: Bearer
  error="insufficient_scope"` (a token lacking the `roles` scope is told to ask for it);
- a logged-in session without the role: 403.

DRF's own AND/OR stop at the first exception, so a denial raised on the left of `|` would hide
the right: the operators here catch it, try the other side, and re-raise the first denial only
when both sides refuse.
"""

from rest_framework import exceptions
from rest_framework.permissions import AND, NOT, OR, BasePermission, BasePermissionMetaclass, OperandHolder
from rest_framework.permissions import SingleOperandHolder as _DRFSingle

from core.permissions import HasScope as _TokenScope
from core.permissions import InsufficientScope, token_scopes

from . import flows
from .claims import PERMISSIONS_SCOPE, ROLES_SCOPE


class _Or(OR):
    def has_permission(self, request, view):
        try:
            if self.op1.has_permission(request, view):
                return True
        except exceptions.PermissionDenied as denial:
            try:
                if self.op2.has_permission(request, view):
                    return True
            except exceptions.PermissionDenied:
                pass  # both refuse: the left side's answer stands
            raise denial from None
        return self.op2.has_permission(request, view)


class _And(AND):
    pass


class _Not(NOT):
    def has_permission(self, request, view):
        try:
            return not self.op1.has_permission(request, view)
        except exceptions.PermissionDenied:
            return True


class _Operators:
    def __and__(self, other):
        return _Holder(_And, self, other)

    def __or__(self, other):
        return _Holder(_Or, self, other)

    def __rand__(self, other):
        return _Holder(_And, other, self)

    def __ror__(self, other):
        return _Holder(_Or, other, self)

    def __invert__(self):
        return _Single(_Not, self)


class _Holder(_Operators, OperandHolder):
    pass


class _Single(_Operators, _DRFSingle):
    pass


class _Meta(_Operators, BasePermissionMetaclass):
    pass


class _Parametrized(BasePermission, metaclass=_Meta):
    """`Cls("a", "b")` is a subclass bound to those values (DRF instantiates classes itself)."""

    values = frozenset()

    def __new__(cls, *values):
        if values:
            name = f"{cls.__name__}({', '.join(map(repr, values))})"
            return type(cls)(name, (cls,), {"values": frozenset(values), "__module__": cls.__module__})
        return super().__new__(cls)


def _session_user(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


class HasScope(_Parametrized):
    """The token holds every scope named (`HasScope("read", "write")`), or, given none, every
    scope in the view's `required_scopes` (as core.permissions.HasScope). No token: 401."""

    def has_permission(self, request, view):
        if not self.values:
            return _TokenScope().has_permission(request, view)
        scopes = token_scopes(request)
        if scopes is None:
            return False
        if not self.values <= scopes:
            raise InsufficientScope(self.values)
        return True


class HasRole(_Parametrized):
    """The caller holds at least one of the roles named: `HasRole("admin", "operator")`."""

    def has_permission(self, request, view):
        claims = _token_claims(request)
        if claims is None:
            user = _session_user(request)
            if user is None:
                return False  # 401
            held = flows.role_names(user=user)
        else:
            held = _token_roles(request, claims)
        if not held & self.values:
            raise _denied(request, f"This call needs one of the roles: {', '.join(sorted(self.values))}.")
        return True


class HasPermission(_Parametrized):
    """The caller's roles grant every permission named: `HasPermission(perms.CLIENTS_MANAGE)`.
    A token answers with its `permissions` claim when it carries one, else with its `roles`
    claim, resolved to permissions here (one query)."""

    def has_permission(self, request, view):
        held = caller_permissions(request)
        if held is None:
            return False  # 401
        if not self.values <= held:
            raise _denied(request, f"This call needs the permission: {', '.join(sorted(self.values))}.")
        return True


def caller_permissions(request):
    """The permission codenames the caller holds (see HasPermission), None when the request is
    not authenticated. A token without the `roles` scope: InsufficientScope (403)."""
    claims = _token_claims(request)
    if claims is None:
        user = _session_user(request)
        return None if user is None else flows.held(user=user)[1]
    if PERMISSIONS_SCOPE in token_scopes(request) and isinstance(claims.get("permissions"), list):
        return frozenset(claims["permissions"])
    return flows.permissions_of_roles(_token_roles(request, claims))


class InsufficientRole(exceptions.PermissionDenied):
    """403 for a valid token whose user lacks the role or permission (RFC 6750 3.1's
    `insufficient_scope`: the token does not carry enough privilege)."""

    def __init__(self, description):
        super().__init__({"error": "insufficient_scope", "error_description": description})
        self.auth_header = 'Bearer realm="identity", error="insufficient_scope"'


def _token_claims(request):
    """The verified token's claims, or None when the request was not authenticated by a token."""
    if token_scopes(request) is None:
        return None
    claims = getattr(request.auth, "claims", None)
    return claims if isinstance(claims, dict) else {}


def _token_roles(request, claims):
    """The token's `roles` claim; a token issued without the `roles` scope is told to ask for it."""
    roles = claims.get("roles")
    if ROLES_SCOPE not in token_scopes(request) or not isinstance(roles, list):
        raise InsufficientScope({ROLES_SCOPE})
    return frozenset(roles)


def _denied(request, description):
    if token_scopes(request) is None:
        return exceptions.PermissionDenied(description)  # a session: no Bearer challenge
    return InsufficientRole(description)
