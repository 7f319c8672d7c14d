from django.db import models
from django_otp.models import Device, TimestampMixin


class WebAuthnCredential(TimestampMixin, Device):
    """A passkey a user registered: its credential id and public key (COSE), the authenticator's
    signature counter, and what the authenticator said about itself at registration. Written
    only by accounts.mfa.webauthn.flows. `name` (django-otp's) is the user's label for it."""

    # base64url of the credential id (at most 1,023 bytes, WebAuthn Level 3, 5.1): looked up
    # at every passkey login.
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    # The WebAuthn user handle (user.id of the ceremony): random, the same for every passkey
    # of one user, never the primary key (it is stored in the authenticator).
    user_handle = models.CharField(max_length=128)
    aaguid = models.CharField(max_length=36, blank=True)
    # The authenticator data's BE flag: a key that may be synced off the device (a "synced
    # passkey") is software-bound, `swk`; one that may not is hardware-bound, `hwk` (RFC 8176).
    backup_eligible = models.BooleanField(default=False)
    backed_up = models.BooleanField(default=False)
    # SHA-256 of the challenge of this key's last accepted login. Two simultaneous requests of one
    # browser may both read the challenge from its session: the second, waiting on this row's
    # lock, then finds it here and is refused (a key that keeps no signature counter too).
    last_challenge = models.CharField(max_length=64, blank=True)

    class Meta:
        app_label = "mfa"
        verbose_name = "passkey"

    @property
    def amr(self):
        """The RFC 8176 method this key proves: `swk` when it may leave the device, else `hwk`."""
        return "swk" if self.backup_eligible else "hwk"
