"""Who must use a second factor (MFA_REQUIRED), and the admin console's demand for one.

MFA_REQUIRED:
- "none": a second factor is each person's choice;
- "staff" (the default): staff and superusers must have one;
- "all": everyone must.

A user who must have a second factor and has none is sent to enrolment right after the password
(the login stage, accounts.mfa.stage). As with Keycloak's "Configure OTP" required action, the
login does not complete until an authenticator app is confirmed: no session exists before, so the
authorization endpoint gives such a user no code, and the password grant no token.

The admin console (accounts.mfa.admin_site) asks more, on every request: the browser's SSO
session must include a second factor (RFC 8176 `otp`, `hwk` or `swk`), else the person goes
through the code step (a step-up) first. Those methods are the SSO session's, and sso is above
accounts (DESIGN.md): sso registers the function that reads them with
`register_session_methods` in its AppConfig.ready(); accounts never imports sso. Without one
registered, no session has a second factor (the admin stays closed to staff: fail closed).
"""

from django.conf import settings

NONE, STAFF, ALL = "none", "staff", "all"
CHOICES = (NONE, STAFF, ALL)
# RFC 8176 methods that are a second factor beside the password (oauth.claims names the same).
SECOND_FACTOR_METHODS = frozenset({"otp", "hwk", "swk"})

_session_methods = []


def register_session_methods(provider):
    """`provider(request)` answers the RFC 8176 methods of the browser's SSO session (a list),
    or None when no SSO session is bound to it. One provider; registering again replaces it."""
    _session_methods[:] = [provider]


def session_methods(request):
    """The methods of this browser's SSO session, or None."""
    return _session_methods[0](request) if _session_methods else None


def required_for(user):
    """Whether MFA_REQUIRED makes `user` have a second factor."""
    if settings.MFA_REQUIRED == ALL:
        return True
    if settings.MFA_REQUIRED == STAFF:
        return bool(user.is_staff or user.is_superuser)
    return False


def session_has_second_factor(request):
    return bool(SECOND_FACTOR_METHODS & set(session_methods(request) or ()))


def admin_needs_second_factor(request):
    """A staff user whose session has no second factor, where the policy asks staff for one."""
    user = request.user
    return bool(user.is_active and user.is_staff and required_for(user) and not session_has_second_factor(request))
