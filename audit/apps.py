from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self):
        from core import purge

        from . import purging

        purge.register("audit.events", purging.purge_events)
