"""Signal receivers, connected in SSOConfig.ready()."""

from . import flows


def bind_session_at_login(sender, request, user, **kwargs):
    """`user_logged_in`: start (or continue) the browser's SSO session."""
    if request is not None and hasattr(request, "session"):
        flows.start_session(request=request, user=user)


def end_session_at_logout(sender, request, user, **kwargs):
    """`user_logged_out`: the browser's SSO session ends with it."""
    if request is not None and hasattr(request, "session"):
        flows.end_browser_session(request=request, user=user)


def end_other_sessions(sender, user, request=None, **kwargs):
    """`accounts.signals.password_changed`: every earlier token dies, and so does every session
    but the one the user changed the password from.

    That browser just proved the old password and chose the new one, so logging it out would
    only punish the person who did the right thing. Its earlier tokens are refused all the same
    (the not-before moves), and its apps get new tokens silently. A password changed by anyone
    else (an administrator, a command) ends every session.
    """
    keep = None
    if request is not None and getattr(request, "user", None) is not None and request.user.pk == user.pk:
        keep = flows.current_sid(request)
    flows.logout_everywhere(user=user, except_sid=keep, why="password changed")


def end_sessions_of_disabled_user(sender, instance, created, update_fields=None, **kwargs):
    """`post_save` of the user model: a disabled account keeps no session and no token."""
    if created or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    flows.logout_everywhere(user=instance, why="account disabled")


def end_sessions_after_mfa_reset(sender, user, by, **kwargs):
    """`accounts.mfa.signals.mfa_disabled`: an operator removing someone's second factors (a lost
    phone, or a suspected takeover) ends every session and token of that user. A user turning
    it off themselves, with their password, keeps their sessions."""
    if by is None or by.pk != user.pk:
        flows.logout_everywhere(user=user, why="two-factor authentication reset by an operator")


def refuse_tokens_after_role_change(sender, user, **kwargs):
    """`rbac.signals.roles_changed`: tokens carry the roles held when they were issued, so every
    earlier token of the user is refused (inside the change's transaction). Sessions stay; apps
    fetch new tokens, with the new roles."""
    flows.bump_not_before(user=user, why="roles changed")
