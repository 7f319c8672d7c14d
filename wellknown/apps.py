from django.apps import AppConfig


class WellKnownConfig(AppConfig):
    name = "wellknown"
    verbose_name = "Well-known metadata and health"
