from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_save

        from . import checks, sessions, signals  # noqa: F401  (checks register themselves)

        user_logged_in.connect(sessions.record_login, dispatch_uid="accounts.record_login")
        post_save.connect(
            signals.announce_password_change, sender=self.get_model("User"), dispatch_uid="accounts.password_change"
        )
