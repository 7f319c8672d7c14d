from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db.models.signals import post_save

        from . import audit_log, checks, signals  # noqa: F401  (checks register themselves)

        user_logged_in.connect(audit_log.login_succeeded, dispatch_uid="accounts.audit_login")
        user_login_failed.connect(audit_log.login_failed, dispatch_uid="accounts.audit_login_failed")
        user_locked_out.connect(audit_log.locked_out, dispatch_uid="accounts.audit_locked_out")
        signals.password_changed.connect(audit_log.password_changed, dispatch_uid="accounts.audit_password_changed")
        post_save.connect(
            signals.announce_password_change, sender=self.get_model("User"), dispatch_uid="accounts.password_change"
        )
