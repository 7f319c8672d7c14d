"""PKCE (RFC 7636) with S256 only. Pure functions."""

import base64
import hashlib
import re
import secrets

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_S256_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")


def is_valid_verifier(verifier):
    return isinstance(verifier, str) and bool(_VERIFIER.match(verifier))


def is_valid_challenge(challenge):
    """An S256 challenge is the unpadded base64url of a SHA-256 digest: 43 characters."""
    return isinstance(challenge, str) and bool(_S256_CHALLENGE.match(challenge))


def s256(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def verify_s256(verifier, challenge):
    """Signature matches oauthlib's challenge-method functions: (verifier, challenge)."""
    if not is_valid_verifier(verifier) or not isinstance(challenge, str):
        return False
    return secrets.compare_digest(s256(verifier), challenge)
