"""Token signing keys: the database-held key set (oauth.SigningKey), cached in each process.

Parsing a private key costs ~45 ms (key validation), so each process keeps the parsed active
key and the public keys, and re-reads the table at most every SIGNING_KEY_CACHE_SECONDS: a
rotation done by another process (cron, the admin) is picked up within that window. A token
whose `kid` is unknown makes the process re-read the table at most every
UNKNOWN_KID_RELOAD_SECONDS, so a stream of random kids cannot cost a query per request.

When the table has no active key (a fresh installation) the first use imports SIGNING_KEY /
SIGNING_KEY_FILE as the active key or, in development only, generates one. In production
nothing is generated here; new keys come from oauth.flows.rotate_signing_keys.

`signing_key()` and `verification_key(kid)` are the only lookups signers and verifiers use;
`signer()` hands oauth.jws the active key's `cryptography` private key object, taken from the
parsed JWK once per key (never exported, never logged).
"""

import logging
import math
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import Error as DatabaseError
from django.db import transaction
from django.utils import timezone
from jwcrypto import jwk

from . import kek
from .models import SigningKey

ALGORITHM = "RS256"
MIN_RSA_BITS = 2048
# Cache-Control max-age of /.well-known/jwks.json. A next key is published for longer than
# this before it signs (checks.signing_key_rotation_check), so clients have seen it by then.
JWKS_MAX_AGE = 300
UNKNOWN_KID_RELOAD_SECONDS = 5
NO_KEY = (
    "No active signing key in the database and none to import: set SIGNING_KEY or SIGNING_KEY_FILE "
    "(PEM, RSA >= 2048 bits), or run `manage.py import_signing_key --file key.pem --activate`."
)
_STATE_ORDER = {SigningKey.State.ACTIVE: 0, SigningKey.State.NEXT: 1, SigningKey.State.RETIRED: 2}

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_clock = time.monotonic  # patched by tests to move through cache windows
_current = None


@dataclass(frozen=True)
class _KeySet:
    """One reading of the key table. Immutable and swapped whole, so readers need no lock."""

    signing: jwk.JWK
    # The `cryptography` private key object of `signing`, what jws.sign signs with.
    signer: object = field(repr=False)
    public: dict
    jwks: dict
    loaded_at: float


# --- Parsing and building keys (no database) ----------------------------------------------


def _with_kid(key):
    return jwk.JWK(
        **{**key.export(private_key=True, as_dict=True), "kid": key.thumbprint(), "alg": ALGORITHM, "use": "sig"}
    )


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
    return _with_kid(key)


def generate_private_key():
    """A new RSA key for RS256, with its thumbprint as `kid`."""
    return _with_kid(jwk.JWK.generate(kty="RSA", size=MIN_RSA_BITS))


def new_stored_key(key, *, state, now):
    """An unsaved SigningKey row for a parsed private key: the PEM is encrypted with the KEK."""
    pem = key.export_to_pem(private_key=True, password=None)
    return SigningKey(
        kid=key["kid"],
        algorithm=ALGORITHM,
        public_jwk=key.export_public(as_dict=True),
        private_key=kek.encrypt(pem),
        state=state,
        created_at=now,
        activated_at=now if state == SigningKey.State.ACTIVE else None,
    )


def private_key_of(stored):
    """Decrypt and parse a stored key (~45 ms: callers cache the result)."""
    key = load_private_key(kek.decrypt(stored.private_key))
    if key["kid"] != stored.kid:
        raise ImproperlyConfigured(f"The stored signing key {stored.kid} does not match its key ID.")
    return key


# --- First start --------------------------------------------------------------------------


def _configured_key():
    """The key named by SIGNING_KEY / SIGNING_KEY_FILE, parsed; None when one may be generated."""
    if settings.SIGNING_KEY_PEM:
        return load_private_key(settings.SIGNING_KEY_PEM.encode())
    if settings.SIGNING_KEY_FILE:
        try:
            pem = Path(settings.SIGNING_KEY_FILE).read_bytes()
        except OSError as exc:
            raise ImproperlyConfigured(f"SIGNING_KEY_FILE cannot be read ({exc.strerror}).") from None
        return load_private_key(pem)
    if settings.SIGNING_KEY_DEV_GENERATE:
        return None
    raise ImproperlyConfigured(NO_KEY)


def _bootstrap():
    """Install the first active key; returns it (parsed) if this process installed it."""
    key = _configured_key() or generate_private_key()
    now = timezone.now()
    with transaction.atomic():
        SigningKey.objects.lock()
        if SigningKey.objects.filter(state=SigningKey.State.ACTIVE).exists():
            return None  # another process got there first: use its key
        # The configured key may already be stored (e.g. as next): activate it, not a copy.
        stored = SigningKey.objects.filter(kid=key["kid"])
        if not stored.update(state=SigningKey.State.ACTIVE, activated_at=now, retired_at=None):
            new_stored_key(key, state=SigningKey.State.ACTIVE, now=now).save()
    logger.info("Installed signing key %s as the active key.", key["kid"])
    return key


# --- The per-process cache ----------------------------------------------------------------


def _active(rows):
    return next((row for row in rows if row.state == SigningKey.State.ACTIVE), None)


def _read(previous):
    """Read the key table (one query), reusing parsed keys whose kid has not changed."""
    rows = list(SigningKey.objects.all())
    installed = None
    if _active(rows) is None:
        installed = _bootstrap()
        rows = list(SigningKey.objects.all())
    active = _active(rows)
    parsed = {key["kid"]: key for key in (previous and previous.signing, installed) if key}
    signing = parsed.get(active.kid) or private_key_of(active)
    if previous is None or previous.signing["kid"] != active.kid:
        logger.info("Signing with key %s.", active.kid)
    rows.sort(key=lambda row: (_STATE_ORDER[row.state], -row.created_at.timestamp()))
    # export_public drops any private member, whatever the row holds.
    public = {row.kid: jwk.JWK(**jwk.JWK(**row.public_jwk).export_public(as_dict=True)) for row in rows}
    jwks = {"keys": [key.export_public(as_dict=True) for key in public.values()]}
    # A key installed inside the caller's transaction is lost if that transaction rolls back:
    # read the table again at the next use rather than trust it for a whole cache window.
    unconfirmed = installed is not None and transaction.get_connection().in_atomic_block
    # jwcrypto builds the key object once per parsed JWK and keeps it: a re-read of the same kid
    # gets the same object back, so it is made (and its RSA parameters checked) once per key.
    signer = signing.get_op_key("sign")
    return _KeySet(
        signing=signing,
        signer=signer,
        public=public,
        jwks=jwks,
        loaded_at=-math.inf if unconfirmed else _clock(),
    )


def _key_set(max_age=None):
    """The cached key set, re-read when older than max_age (default SIGNING_KEY_CACHE_SECONDS)."""
    global _current
    max_age = settings.SIGNING_KEY_CACHE_SECONDS if max_age is None else max_age
    current = _current
    if current is not None and _clock() - current.loaded_at < max_age:
        return current
    # While one thread re-reads, the others keep using the keys they have (no pile-up).
    if not _lock.acquire(blocking=current is None):
        return current
    try:
        current = _current
        if current is None or _clock() - current.loaded_at >= max_age:
            _current = _reread(current)
        return _current
    finally:
        _lock.release()


def _reread(current):
    try:
        return _read(current)
    except DatabaseError:
        if current is None:
            raise
        # A database blip must not stop verification with the keys we hold; retry next window.
        logger.warning("Cannot re-read the signing keys; keeping the cached ones.", exc_info=True)
        return replace(current, loaded_at=_clock())


def signing_key():
    """The active private key that signs tokens (cached per process)."""
    return _key_set().signing


def signer():
    """(kid, private key object) of the active key, for signing RS256 (cached per process).

    The object is `cryptography`'s RSA private key: never export, print or log it."""
    current = _key_set()
    return current.signing["kid"], current.signer


def verification_key(kid):
    """The public key for `kid`, or None when no published key has that id."""
    if not isinstance(kid, str):
        return None
    key = _key_set().public.get(kid)
    if key is None:
        # Perhaps a key another process just made; re-read, but at most every few seconds.
        key = _key_set(max_age=UNKNOWN_KID_RELOAD_SECONDS).public.get(kid)
    return key


def public_jwks():
    """The JWK Set to publish (next, active and retired keys): public members only."""
    return _key_set().jwks


def refresh():
    """Re-read the key table now (keeping parsed keys whose kid has not changed)."""
    global _current
    with _lock:
        _current = _read(_current)


def expire():
    """Make the next lookup re-read the table (after this process changed it)."""
    global _current
    with _lock:
        if _current is not None:
            _current = replace(_current, loaded_at=-math.inf)


def reset():
    """Forget the cached keys entirely (tests, and settings changes)."""
    global _current
    with _lock:
        _current = None


def problem():
    """Why no token could be signed now, or None. Reads the key table, never writes it."""
    try:
        active = SigningKey.objects.filter(state=SigningKey.State.ACTIVE).first()
    except DatabaseError:
        active = None  # no table yet (before migrate) or no database: judge the settings alone
    try:
        if active is not None:
            private_key_of(active)
        else:
            _configured_key()
    except ImproperlyConfigured as exc:
        return str(exc)
    return None
