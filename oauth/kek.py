"""The key-encryption key (KEK): signing keys are stored encrypted with it, never in clear.

KEY_ENCRYPTION_KEYS is a list of Fernet keys (AES-128-CBC + HMAC-SHA256, authenticated): the
first encrypts, every one decrypts. To rotate the KEK, put a new key first, run
`manage.py rotate_signing_keys` (it re-encrypts every stored key with the first KEK), then
drop the old one.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

HOW_TO_CREATE = (
    "create one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)

UNDECRYPTABLE = "A stored signing key cannot be decrypted with any of KEY_ENCRYPTION_KEYS (wrong or missing KEK)."


def _fernets():
    configured = settings.KEY_ENCRYPTION_KEYS
    if not configured:
        raise ImproperlyConfigured(
            f"KEY_ENCRYPTION_KEYS (or KEY_ENCRYPTION_KEYS_FILE) must be set when DEBUG is off; {HOW_TO_CREATE}."
        )
    try:
        return [Fernet(value) for value in configured]
    except (ValueError, TypeError):
        # Never echo the value: it is a secret.
        raise ImproperlyConfigured(
            f"KEY_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes); {HOW_TO_CREATE}."
        ) from None


def problem():
    """Why the configured KEK cannot be used, or None."""
    try:
        _fernets()
    except ImproperlyConfigured as exc:
        return str(exc)
    return None


def encrypt(plaintext):
    """Encrypt bytes with the first KEK; returns text for a TextField."""
    return _fernets()[0].encrypt(plaintext).decode()


def decrypt(ciphertext):
    """Decrypt with whichever configured KEK encrypted it."""
    try:
        return MultiFernet(_fernets()).decrypt(ciphertext.encode())
    except InvalidToken:
        raise ImproperlyConfigured(UNDECRYPTABLE) from None


def is_current(ciphertext):
    """Whether the first (current) KEK encrypted this."""
    try:
        _fernets()[0].decrypt(ciphertext.encode())
    except InvalidToken:
        return False
    return True


def rewrap(ciphertext):
    """Re-encrypt with the first KEK (for KEK rotation)."""
    try:
        return MultiFernet(_fernets()).rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(UNDECRYPTABLE) from None
