"""OAuth models: django-oauth-toolkit's, swapped in so we can add the columns we need.

Swapped before DOT's first migration (see migrations/0001_initial.py `run_before`).
"""

import ipaddress
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractApplication,
    AbstractGrant,
    AbstractIDToken,
    AbstractRefreshToken,
)

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", "password")
# DOT keeps a single grant type per application; ours is a list. DOT's field is derived.
_DOT_GRANT = {
    "authorization_code": AbstractApplication.GRANT_AUTHORIZATION_CODE,
    "client_credentials": AbstractApplication.GRANT_CLIENT_CREDENTIALS,
    "password": AbstractApplication.GRANT_PASSWORD,
}
MIN_PLAINTEXT_SECRET_LENGTH = 32


def is_loopback_host(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def redirect_uri_problem(uri):
    """Why a redirect URI may not be registered (BCP 2.1, RFC 6749 3.1.2), or None."""
    if any(c in uri for c in "*\\ ") or any(ord(c) < 0x20 for c in uri):
        return "must not contain wildcards, backslashes, spaces or control characters"
    parts = urlsplit(uri)
    if "#" in uri:
        return "must not contain a fragment"
    if parts.scheme == "https":
        pass
    elif parts.scheme == "http":
        if not is_loopback_host(parts.hostname or ""):
            return "http is allowed only on loopback (127.0.0.1, [::1], localhost); use https"
    else:
        return "must use https (or http on loopback)"
    if not parts.hostname:
        return "must have a host"
    if parts.username is not None or parts.password is not None:
        return "must not contain user information"
    return None


class Client(AbstractApplication):
    """An OAuth client. Extends DOT's Application with a list of grant types and scopes."""

    grant_types = models.CharField(
        max_length=200,
        default="authorization_code refresh_token",
        help_text="Space-separated, from: " + ", ".join(GRANT_TYPES),
    )
    allowed_scopes = models.CharField(
        max_length=500,
        blank=True,
        help_text="Space-separated scopes this client may ask for; empty means every scope.",
    )
    can_introspect_any = models.BooleanField(
        default=False,
        help_text="A resource server: may introspect tokens issued to any client (RFC 7662).",
    )

    class Meta(AbstractApplication.Meta):
        verbose_name = "client"

    @property
    def grant_type_list(self):
        return self.grant_types.split()

    def allows_grant(self, grant_type):
        """Whether this client may use `grant_type` (RFC 6749 name, e.g. "refresh_token")."""
        return grant_type in self.grant_type_list

    def allows_grant_type(self, *grant_types):
        # DOT's spelling ("authorization-code"); map ours onto it for DOT code paths.
        ours = {_DOT_GRANT.get(g) for g in self.grant_type_list}
        return bool(ours & set(grant_types))

    @property
    def scope_list(self):
        return self.allowed_scopes.split() or list(settings.OAUTH_SCOPES)

    def redirect_uri_allowed(self, uri):
        """Exact string comparison with a registered URI (BCP 2.1, RFC 6749 3.1.2.2)."""
        return uri in self.redirect_uris.split()

    def save(self, *args, **kwargs):
        first = next((g for g in self.grant_type_list if g in _DOT_GRANT), "authorization_code")
        self.authorization_grant_type = _DOT_GRANT[first]
        super().save(*args, **kwargs)

    def clean(self):
        errors = {}
        unknown = [g for g in self.grant_type_list if g not in GRANT_TYPES]
        if unknown or not self.grant_type_list:
            errors["grant_types"] = f"Choose from {', '.join(GRANT_TYPES)} (unknown: {' '.join(unknown)})."
        elif self.client_type == self.CLIENT_PUBLIC and {"client_credentials", "password"} & set(self.grant_type_list):
            errors["grant_types"] = "Public clients may use only authorization_code and refresh_token."
        elif self.grant_type_list == ["refresh_token"]:
            errors["grant_types"] = "refresh_token needs a grant that issues refresh tokens."
        uris = self.redirect_uris.split()
        problems = [f"{uri}: {p}" for uri in uris if (p := redirect_uri_problem(uri))]
        if problems:
            errors["redirect_uris"] = problems
        elif "authorization_code" in self.grant_type_list and not uris:
            errors["redirect_uris"] = "The authorization_code grant needs at least one redirect URI."
        unknown_scopes = set(self.allowed_scopes.split()) - set(settings.OAUTH_SCOPES)
        if unknown_scopes:
            errors["allowed_scopes"] = f"Unknown scopes: {' '.join(sorted(unknown_scopes))}."
        if (
            self.client_secret
            and not self._client_secret_is_hashed(self.client_secret)
            and len(self.client_secret) < MIN_PLAINTEXT_SECRET_LENGTH
        ):
            # Secrets are checked with a fast hash: they must be machine-generated.
            errors["client_secret"] = f"Use a generated secret of at least {MIN_PLAINTEXT_SECRET_LENGTH} characters."
        if errors:
            raise ValidationError(errors)


class Grant(AbstractGrant):
    """An authorization code. Kept after redemption so a replay can revoke what it issued."""

    auth_time = models.DateTimeField(null=True, blank=True)
    token_family = models.UUIDField(default=uuid.uuid4, editable=False)
    redeemed_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractGrant.Meta):
        verbose_name = "authorization code"


class AccessToken(AbstractAccessToken):
    """A JWT access token's server-side row (stored as its SHA-256 checksum only)."""

    jti = models.CharField(max_length=64, db_index=True, blank=True, default="")
    # All tokens descended from one authorization share a family (revoked together).
    token_family = models.UUIDField(null=True, blank=True, db_index=True, editable=False)

    class Meta(AbstractAccessToken.Meta):
        verbose_name = "access token"


class RefreshToken(AbstractRefreshToken):
    auth_time = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractRefreshToken.Meta):
        verbose_name = "refresh token"


class IDToken(AbstractIDToken):
    class Meta(AbstractIDToken.Meta):
        verbose_name = "ID token"
