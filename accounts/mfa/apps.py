from django.apps import AppConfig


class MFAConfig(AppConfig):
    name = "accounts.mfa"
    label = "mfa"
    verbose_name = "Two-factor authentication"

    def ready(self):
        from accounts import stages

        from . import checks  # noqa: F401  (checks register themselves)
        from .stage import MFAStage

        stages.register(MFAStage())
