from django.apps import AppConfig


class SSOConfig(AppConfig):
    name = "sso"
    verbose_name = "SSO sessions"

    def ready(self):
        from django.conf import settings
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import post_save

        from accounts.mfa import policy as mfa_policy
        from accounts.mfa.signals import mfa_disabled
        from accounts.signals import password_changed
        from core import purge as purgers
        from rbac.signals import roles_changed

        from . import checks, flows, purge, receivers  # noqa: F401  (checks register themselves)

        user_logged_in.connect(receivers.bind_session_at_login, dispatch_uid="sso.bind_session_at_login")
        user_logged_out.connect(receivers.end_session_at_logout, dispatch_uid="sso.end_session_at_logout")
        password_changed.connect(receivers.end_other_sessions, dispatch_uid="sso.end_other_sessions")
        mfa_disabled.connect(receivers.end_sessions_after_mfa_reset, dispatch_uid="sso.end_sessions_after_mfa_reset")
        post_save.connect(
            receivers.end_sessions_of_disabled_user,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="sso.end_sessions_of_disabled_user",
        )
        roles_changed.connect(receivers.refuse_tokens_after_role_change, dispatch_uid="sso.role_change")
        purgers.register("sso.sessions", purge.purge_sessions)
        # The admin console asks staff for a second factor in their SSO session (MFA_REQUIRED).
        mfa_policy.register_session_methods(flows.current_amr)
