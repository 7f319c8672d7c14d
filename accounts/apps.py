from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import sessions

        user_logged_in.connect(sessions.record_login, dispatch_uid="accounts.record_login")
