"""The resource-server side: is this Bearer token a live access token of ours?

Used by the DRF authentication class and by DOT's protected views. The JWT is verified
offline (signature by `kid`, `iss`, `aud`, `exp`, `typ`), then its server-side row is looked
up by checksum: a revoked token has no row, so it is refused whatever its `exp` says.
"""

import hashlib
from dataclasses import dataclass, field

from django.utils import timezone

from . import tokens
from .models import AccessToken


class BearerError(Exception):
    """RFC 6750 error: `error` code and a description safe to show to the caller."""

    def __init__(self, description, error="invalid_token"):
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class VerifiedAccessToken:
    claims: dict
    row: AccessToken
    scopes: frozenset = field(default_factory=frozenset)

    @property
    def user(self):
        return self.row.user

    @property
    def client(self):
        return self.row.application


def checksum(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authenticate_bearer(token):
    """Return the VerifiedAccessToken for `token`, or raise BearerError."""
    try:
        claims = tokens.verify_access_token(token)
    except tokens.InvalidToken as exc:
        raise BearerError(str(exc)) from exc
    row = AccessToken.objects.select_related("user", "application").filter(token_checksum=checksum(token)).first()
    if row is None or row.jti != claims["jti"]:
        raise BearerError("The access token has been revoked.")
    if row.expires <= timezone.now():
        raise BearerError("The access token has expired.")
    if row.user is not None and not row.user.is_active:
        raise BearerError("The access token's user is disabled.")
    if row.application is None:
        raise BearerError("The access token's client no longer exists.")
    return VerifiedAccessToken(claims=claims, row=row, scopes=frozenset(claims.get("scope", "").split()))
