"""The RSA signing key: loaded (or, in development, generated) once per process.

Parsing a PEM costs ~45 ms (key validation), so the parsed key object is kept for the life of
the process. Rotation and database-held keys come with the OIDC issue; `verification_key(kid)`
is the one lookup verifiers use, so they will not change when it does.
"""

import os
import threading
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jwcrypto import jwk

ALGORITHM = "RS256"
MIN_RSA_BITS = 2048

_lock = threading.Lock()
_cache = {}


def _read_pem():
    if settings.SIGNING_KEY_PEM:
        return settings.SIGNING_KEY_PEM.encode()
    if settings.SIGNING_KEY_FILE:
        return Path(settings.SIGNING_KEY_FILE).read_bytes()
    if settings.SIGNING_KEY_DEV_FILE:
        return _dev_key_pem(Path(settings.SIGNING_KEY_DEV_FILE))
    raise ImproperlyConfigured("No signing key: set SIGNING_KEY or SIGNING_KEY_FILE (PEM, RSA >= 2048 bits).")


def _dev_key_pem(path):
    """Development only: generate the key once into var/, atomically (several processes)."""
    if not path.exists():
        key = jwk.JWK.generate(kty="RSA", size=MIN_RSA_BITS)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        # Created owner-only: a private key must never be readable by others, not even briefly.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(key.export_to_pem(private_key=True, password=None))
        try:
            os.link(tmp, path)  # fails if another process won the race: use theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes()


def load_private_key(pem):
    """Parse and check a PEM private key; give it its RFC 7638 thumbprint as `kid`."""
    try:
        key = jwk.JWK.from_pem(pem)
    except (ValueError, TypeError) as exc:  # TypeError: an encrypted key (no password given)
        raise ImproperlyConfigured(f"The signing key is not an unencrypted PEM private key ({exc}).") from None
    if key.get("kty") != "RSA" or not key.has_private:
        raise ImproperlyConfigured("The signing key must be an RSA private key.")
    modulus_bits = key._get_public_key().key_size
    if modulus_bits < MIN_RSA_BITS:
        raise ImproperlyConfigured(f"The signing key must have at least {MIN_RSA_BITS} bits.")
    kid = key.thumbprint()
    return jwk.JWK(**{**key.export(private_key=True, as_dict=True), "kid": kid, "alg": ALGORITHM, "use": "sig"})


def signing_key():
    """The private key that signs tokens (cached per process)."""
    key = _cache.get("signing")
    if key is None:
        with _lock:
            key = _cache.get("signing") or load_private_key(_read_pem())
            _cache["signing"] = key
            _cache["public"] = {key["kid"]: jwk.JWK(**key.export_public(as_dict=True))}
    return key


def verification_key(kid):
    """The public key for `kid`, or None when no published key has that id."""
    signing_key()
    return _cache["public"].get(kid) if isinstance(kid, str) else None


def public_jwks():
    """The JWK Set to publish: public members only."""
    signing_key()
    return {"keys": [k.export_public(as_dict=True) for k in _cache["public"].values()]}


def reset():
    """Forget the cached keys (tests, and settings changes)."""
    _cache.clear()
