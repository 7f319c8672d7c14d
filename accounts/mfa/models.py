"""The models of accounts.mfa: its own device kinds (django-otp's TOTP and static devices are
django-otp's tables)."""

from .webauthn.models import WebAuthnCredential

__all__ = ["WebAuthnCredential"]
