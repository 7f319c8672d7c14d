from django.apps import AppConfig


class OAuthConfig(AppConfig):
    name = "oauth"
    label = "oauth"
    verbose_name = "OAuth"

    def ready(self):
        from corsheaders.signals import check_request_enabled
        from django.db.models.signals import post_delete, post_save

        from accounts import login_context
        from core import purge as purgers
        from sso import session_apps
        from sso.signals import sessions_ended

        from . import checks, client_cache, connected_apps, cors, display, openapi, purge, receivers  # noqa: F401  (checks and openapi's extension register themselves)
        from .models import AccessToken, Client

        login_context.register(display.login_context)
        sessions_ended.connect(
            receivers.end_tokens_of_ended_sessions, dispatch_uid="oauth.end_tokens_of_ended_sessions"
        )
        post_delete.connect(
            receivers.forget_deleted_access_token, sender=AccessToken, dispatch_uid="oauth.forget_deleted_access_token"
        )
        post_save.connect(receivers.record_client_saved, sender=Client, dispatch_uid="oauth.audit_client_saved")
        post_delete.connect(receivers.record_client_deleted, sender=Client, dispatch_uid="oauth.audit_client_deleted")
        # Every process forgets its cached clients when one changes (oauth.client_cache).
        post_save.connect(client_cache.client_changed, sender=Client, dispatch_uid="oauth.client_cache_saved")
        post_delete.connect(client_cache.client_changed, sender=Client, dispatch_uid="oauth.client_cache_deleted")
        check_request_enabled.connect(cors.allow_registered_origin, dispatch_uid="oauth.cors.allow_registered_origin")
        purgers.register("oauth.grants", purge.purge_grants)
        purgers.register("oauth.tokens", purge.purge_tokens)
        purgers.register("oauth.backchannel_logouts", purge.purge_backchannel_logouts)
        purgers.register("oauth.initial_access_tokens", purge.purge_initial_access_tokens)
        # The sessions page (sso) names the apps used in each session.
        session_apps.register("oauth.clients", connected_apps.clients_by_session)
