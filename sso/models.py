import secrets
import uuid

from django.conf import settings
from django.db import models

USER_AGENT_MAX_LENGTH = 400


def new_sid():
    """A random session id (256 bits, URL-safe): the `sid` claim. Never the Django session key."""
    return secrets.token_urlsafe(32)


class SSOSessionQuerySet(models.QuerySet):
    def active(self, now):
        """Sessions neither revoked nor expired (idle or absolute) at `now`."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now, idle_expires_at__gt=now)


class SSOSession(models.Model):
    """One browser login. `sid` is a bearer-ish secret carried in tokens; URLs use `public_id`."""

    sid = models.CharField(max_length=64, unique=True, default=new_sid, editable=False)
    public_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_sessions")
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=USER_AGENT_MAX_LENGTH, blank=True)
    # Authentication methods used (RFC 8176 values: "pwd", "otp", ...).
    amr = models.JSONField(default=list, blank=True)
    # The last time the user authenticated in this browser session: its login, or a later one
    # (re-authentication for prompt=login or max_age, a second factor). The `auth_time` claim.
    authenticated_at = models.DateTimeField()
    idle_expires_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = SSOSessionQuerySet.as_manager()

    class Meta:
        verbose_name = "SSO session"
        ordering = ["-last_seen_at"]

    def __str__(self):
        return f"{self.user} · {self.public_id}"

    @property
    def sid_prefix(self):
        """Enough of the sid to correlate logs, not enough to use it."""
        return self.sid[:8]

    def is_active(self, now):
        return self.revoked_at is None and self.expires_at > now and self.idle_expires_at > now


class UserNotBefore(models.Model):
    """Tokens of `user` issued before `not_before` are refused (global logout, password change)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="not_before")
    not_before = models.DateTimeField()

    class Meta:
        verbose_name = "user not-before"

    def __str__(self):
        return f"{self.user} not before {self.not_before.isoformat()}"
