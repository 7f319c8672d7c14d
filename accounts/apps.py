from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.db.models.signals import post_save

        from . import checks, signals  # noqa: F401  (checks register themselves)

        post_save.connect(
            signals.announce_password_change, sender=self.get_model("User"), dispatch_uid="accounts.password_change"
        )
