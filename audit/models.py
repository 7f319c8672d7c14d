from django.db import models
from django.utils import timezone

from . import events


class SecurityEvent(models.Model):
    """One security event, written once by `audit.record` and never changed.

    Users are kept by id and username as they were at the time, not by foreign key: the record
    outlives a deleted user and a renamed one, and deleting a user deletes none of its history.
    """

    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name="time")
    event = models.CharField(max_length=64, choices=events.CHOICES)
    outcome = models.CharField(max_length=16, choices=events.OUTCOMES, default=events.SUCCESS)
    actor_id = models.BigIntegerField(null=True, blank=True, verbose_name="actor id")
    actor_username = models.CharField(max_length=150, blank=True, verbose_name="actor")
    subject_id = models.BigIntegerField(null=True, blank=True, verbose_name="subject id")
    subject_username = models.CharField(max_length=150, blank=True, verbose_name="subject")
    client_id = models.CharField(max_length=100, blank=True, verbose_name="client id")
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name="IP address")
    user_agent = models.CharField(max_length=255, blank=True, verbose_name="user agent")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "security event"
        ordering = ["-created_at", "-id"]
        indexes = [
            # The purge and the newest-first lists; the API's filters by type, user and client.
            models.Index(fields=["created_at"], name="audit_event_created"),
            models.Index(fields=["event", "created_at"], name="audit_event_type"),
            models.Index(fields=["subject_id", "created_at"], name="audit_event_subject"),
            models.Index(fields=["actor_id", "created_at"], name="audit_event_actor"),
            models.Index(fields=["client_id", "created_at"], name="audit_event_client"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.event} {self.outcome}"
