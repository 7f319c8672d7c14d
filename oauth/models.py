"""OAuth models: django-oauth-toolkit's, swapped in so we can add the columns we need.

Swapped before DOT's first migration (see migrations/0001_initial.py `run_before`).
"""

import hashlib
import ipaddress
import re
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models, router, transaction
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractApplication,
    AbstractGrant,
    AbstractIDToken,
    AbstractRefreshToken,
)

from core import locks

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", "password")
# DOT keeps a single grant type per application; ours is a list. DOT's field is derived.
_DOT_GRANT = {
    "authorization_code": AbstractApplication.GRANT_AUTHORIZATION_CODE,
    "client_credentials": AbstractApplication.GRANT_CLIENT_CREDENTIALS,
    "password": AbstractApplication.GRANT_PASSWORD,
}
MIN_PLAINTEXT_SECRET_LENGTH = 32
# Bounds of a per-client token lifetime (seconds): at least a minute (clock leeway is 60 s);
# access and ID tokens at most a day, refresh tokens at most a year.
MIN_TOKEN_LIFETIME = 60
MAX_ACCESS_TOKEN_LIFETIME = 24 * 3600
MAX_REFRESH_TOKEN_LIFETIME = 365 * 24 * 3600
# Links and the logo the login and consent pages show; the same URL rules as redirect URIs.
DISPLAY_URI_FIELDS = ("logo_uri", "client_uri", "policy_uri", "tos_uri")
# RFC 7591 2: the token endpoint authentication methods a client may register.
TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
SECRET_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


def client_auth_method_allowed(client, used):
    """Whether `client` may authenticate with the method `used` (client_secret_basic or
    client_secret_post): its token_endpoint_auth_method, or either when that is empty."""
    return client.token_endpoint_auth_method in ("", used)


def token_checksum(token):
    """What an access or refresh token row stores for `token` and is looked up by: the hex
    SHA-256 that DOT's TokenChecksumField computes on save (tests pin that they agree)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


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
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        return "is not a URL (an unclosed [ of an IPv6 host, or a port that is not a number)"
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


# An origin as browsers serialize it (RFC 6454 6.2): lowercase scheme and host, the host in
# ASCII, no default port, no path. Only such a string can ever equal an `Origin` header.
ORIGIN = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?|\[[0-9a-f:.]{2,45}\])"
    r"(?::(?P<port>[1-9][0-9]{0,4}))?"
)
DEFAULT_PORTS = {"https": "443", "http": "80"}


def origin_problem(origin):
    """Why `origin` may not be registered as an allowed origin (CORS), or None: it must be
    scheme://host[:port] exactly as browsers send it, https or http on loopback. Pure."""
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        return "is not an origin (scheme://host[:port])"
    if parts.scheme not in DEFAULT_PORTS:
        return "must use https (or http on loopback)"
    if parts.path or parts.query or parts.fragment or "?" in origin or "#" in origin:
        return f"must be an origin, without a path, query or fragment (not even a trailing /): {parts.scheme}://{parts.netloc}"
    if parts.username is not None or parts.password is not None:
        return "must not contain user information"
    match = ORIGIN.fullmatch(origin)
    if match is None:
        return "must be written as browsers send it: lowercase, no wildcards, an international name as xn--"
    if match["port"] == DEFAULT_PORTS[match["scheme"]]:
        return f"must leave out the default port: browsers send {match['scheme']}://{match['host']}"
    if match["scheme"] == "http" and not is_loopback_host(match["host"]):
        return "http is allowed only on loopback (127.0.0.1, [::1], localhost); use https"
    return None


def audience_problem(audience):
    """Why `audience` cannot be an access token audience, or None: an absolute URI (an API's
    identifier, as RFC 8707 resource indicators are) without a fragment. Pure."""
    try:
        parts = urlsplit(audience)
    except ValueError:
        return "is not a URI"
    if not parts.scheme or not (parts.netloc or parts.path) or "#" in audience:
        return "must be an absolute URI without a fragment (e.g. https://api.example.com)"
    if any(ord(c) < 0x21 or c in '"\\' for c in audience):
        return "must not contain spaces, quotes, backslashes or control characters"
    return None


def client_id_problem(client_id):
    """Why `client_id` cannot be used, or None.

    A client-credentials token's `sub` is its client_id, a user's `sub` is the user's random
    UUID (accounts.User.subject), and resource servers tell them apart by `sub == client_id`
    (oauth.resource): a client_id shaped like a UUID could equal some user's subject and make
    that user's tokens for this client pass for the client's own. Generated client ids (40
    letters and digits) never are."""
    try:
        uuid.UUID(str(client_id))
    except ValueError:
        return None
    return "A client_id must not be shaped like a UUID (user subjects are UUIDs)."


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
    # OpenID Connect Back-Channel Logout 1.0: where a logout token is POSTed when a session ends.
    backchannel_logout_uri = models.URLField(
        "back-channel logout URI",
        max_length=2000,
        blank=True,
        help_text="https (http only on loopback). Receives a signed logout_token when the user's session ends.",
    )
    backchannel_logout_session_required = models.BooleanField(
        "back-channel logout needs sid",
        default=False,
        help_text="Every logout token sent to this client names the session (`sid`).",
    )
    # What the login and consent pages show of the client (RFC 7591 2 client metadata).
    logo_uri = models.URLField(
        "logo URL",
        max_length=2000,
        blank=True,
        help_text="https. An image shown on the login and consent pages (at most 64x64 pixels are shown).",
    )
    client_uri = models.URLField("home page", max_length=2000, blank=True, help_text="https. The client's home page.")
    policy_uri = models.URLField(
        "privacy policy", max_length=2000, blank=True, help_text="https. How the client uses people's data."
    )
    tos_uri = models.URLField("terms of service", max_length=2000, blank=True, help_text="https.")
    # RFC 9700 2.1.1: PKCE always for public clients; a confidential OpenID Connect client may
    # rely on `nonce` instead (the OpenID certification profiles send no code_challenge).
    require_pkce = models.BooleanField(
        "PKCE required",
        default=True,
        help_text=(
            "Authorization requests must carry an S256 code_challenge. Always on for public clients; "
            "turn off only for a confidential client that cannot send PKCE and uses a nonce."
        ),
    )

    # Per-client token lifetimes and audience; empty means the server-wide setting.
    access_token_lifetime = models.PositiveIntegerField(
        "access token lifetime (seconds)",
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_TOKEN_LIFETIME), MaxValueValidator(MAX_ACCESS_TOKEN_LIFETIME)],
        help_text="Empty: the server's ACCESS_TOKEN_EXPIRE_SECONDS.",
    )
    refresh_token_lifetime = models.PositiveIntegerField(
        "refresh token lifetime (seconds)",
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_TOKEN_LIFETIME), MaxValueValidator(MAX_REFRESH_TOKEN_LIFETIME)],
        help_text=(
            "How long a refresh token stays usable after its access token expires (it is rotated on "
            "every use). Empty: the server's REFRESH_TOKEN_EXPIRE_SECONDS."
        ),
    )
    id_token_lifetime = models.PositiveIntegerField(
        "ID token lifetime (seconds)",
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_TOKEN_LIFETIME), MaxValueValidator(MAX_ACCESS_TOKEN_LIFETIME)],
        help_text="Empty: the server's ID_TOKEN_EXPIRE_SECONDS.",
    )
    audience = models.CharField(
        "access token audience",
        max_length=500,
        blank=True,
        help_text=(
            "Space-separated: the APIs (resource servers) this client's access tokens are for, their "
            "`aud` claim. Empty: this server's own APIs (ACCESS_TOKEN_AUDIENCE). A token whose audience "
            "leaves ACCESS_TOKEN_AUDIENCE out is refused by this server's own APIs and UserInfo."
        ),
    )
    # RFC 7591 client metadata kept for clients registered over HTTP (oauth.registration); the
    # auth method is also set by operators, and enforced (Validator.authenticate_client).
    token_endpoint_auth_method = models.CharField(
        "token endpoint authentication method",
        max_length=32,
        blank=True,
        choices=[(m, m) for m in TOKEN_ENDPOINT_AUTH_METHODS],
        help_text="RFC 7591: how the client authenticates at the token endpoint (empty: not stated).",
    )
    contacts = models.JSONField(
        default=list, blank=True, help_text="RFC 7591: ways to reach the people responsible (email addresses)."
    )
    # RFC 7592: the SHA-256 of the registration access token that reads, updates and deletes
    # this client's registration (empty: the client was not registered over HTTP).
    registration_access_token_checksum = models.CharField(max_length=64, blank=True, editable=False)

    class Meta(AbstractApplication.Meta):
        verbose_name = "client"

    @property
    def access_token_audience(self):
        """The access tokens' `aud`: one string, or a list when there are several (RFC 9068 2.2)."""
        audiences = self.audience.split() or [settings.ACCESS_TOKEN_AUDIENCE]
        return audiences[0] if len(audiences) == 1 else audiences

    @property
    def pkce_required(self):
        """Whether this client's authorization requests must carry PKCE (public: always)."""
        return self.require_pkce or self.client_type == self.CLIENT_PUBLIC

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
        # A scope in OAUTH_EXPLICIT_SCOPES (`permissions`) is never implied by an empty list.
        implied = [s for s in settings.OAUTH_SCOPES if s not in settings.OAUTH_EXPLICIT_SCOPES]
        return self.allowed_scopes.split() or implied

    def origin_allowed(self, origin):
        """Whether `origin` is one of this client's allowed origins (exact string match; DOT's
        own check, which oauthlib's token endpoint calls, would refuse http loopback origins)."""
        return origin in self.allowed_origins.split()

    def redirect_uri_allowed(self, uri):
        """Exact string comparison with a registered URI (BCP 2.1, RFC 6749 3.1.2.2)."""
        return uri in self.redirect_uris.split()

    def save(self, *args, **kwargs):
        if client_id_problem(self.client_id):
            # Also through the ORM, not only forms: see client_id_problem.
            raise ValidationError({"client_id": client_id_problem(self.client_id)})
        first = next((g for g in self.grant_type_list if g in _DOT_GRANT), "authorization_code")
        self.authorization_grant_type = _DOT_GRANT[first]
        super().save(*args, **kwargs)

    def clean(self):
        errors = {}
        if problem := client_id_problem(self.client_id):
            errors["client_id"] = problem
        unknown = [g for g in self.grant_type_list if g not in GRANT_TYPES]
        if unknown or not self.grant_type_list:
            errors["grant_types"] = f"Choose from {', '.join(GRANT_TYPES)} (unknown: {' '.join(unknown)})."
        elif self.client_type == self.CLIENT_PUBLIC and {"client_credentials", "password"} & set(self.grant_type_list):
            errors["grant_types"] = "Public clients may use only authorization_code and refresh_token."
        elif self.grant_type_list == ["refresh_token"]:
            errors["grant_types"] = "refresh_token needs a grant that issues refresh tokens."
        method = self.token_endpoint_auth_method
        if method == "none" and self.client_type != self.CLIENT_PUBLIC:
            errors["token_endpoint_auth_method"] = (
                "A confidential client authenticates with its secret: client_secret_basic, "
                "client_secret_post, or empty (either)."
            )
        elif method in SECRET_AUTH_METHODS and self.client_type == self.CLIENT_PUBLIC:
            errors["token_endpoint_auth_method"] = "A public client has no secret: none, or empty."
        if not self.require_pkce and self.client_type == self.CLIENT_PUBLIC:
            errors["require_pkce"] = "Public clients always use PKCE (RFC 9700 2.1.1)."
        uris = self.redirect_uris.split()
        problems = [f"{uri}: {p}" for uri in uris if (p := redirect_uri_problem(uri))]
        if problems:
            errors["redirect_uris"] = problems
        elif "authorization_code" in self.grant_type_list and not uris:
            errors["redirect_uris"] = "The authorization_code grant needs at least one redirect URI."
        # RP-Initiated Logout sends the browser there: the same rules as redirect URIs.
        logout_uris = self.post_logout_redirect_uris.split()
        problems = [f"{uri}: {p}" for uri in logout_uris if (p := redirect_uri_problem(uri))]
        if problems:
            errors["post_logout_redirect_uris"] = problems
        origins = self.allowed_origins.split()
        problems = [f"{origin}: {p}" for origin in origins if (p := origin_problem(origin))]
        if problems:
            errors["allowed_origins"] = problems
        elif origins and self.client_type != self.CLIENT_PUBLIC:
            # A browser app cannot keep a secret: a client that runs in a browser is public.
            errors["allowed_origins"] = "Only public clients (browser apps, no secret) may have allowed origins."
        if self.backchannel_logout_uri and (problem := redirect_uri_problem(self.backchannel_logout_uri)):
            errors["backchannel_logout_uri"] = problem
        for field in DISPLAY_URI_FIELDS:
            if (uri := getattr(self, field)) and (problem := redirect_uri_problem(uri)):
                errors[field] = problem
        problems = [f"{aud}: {p}" for aud in self.audience.split() if (p := audience_problem(aud))]
        if problems:
            errors["audience"] = problems
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
    # The SSO session (sso.SSOSession.sid) the user approved from; empty when there was none.
    # Kept after redemption: it records which clients logged in under which session, for
    # back-channel logout.
    sid = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # How the user had authenticated (RFC 8176 methods, from the SSO session): carried into
    # every token issued from this code as `amr` and `acr`. Empty: the password only.
    amr = models.JSONField(default=list, blank=True)

    class Meta(AbstractGrant.Meta):
        verbose_name = "authorization code"


class AccessToken(AbstractAccessToken):
    """A JWT access token's server-side row (stored as its SHA-256 checksum only)."""

    jti = models.CharField(max_length=64, db_index=True, blank=True, default="")
    # All tokens descended from one authorization share a family (revoked together).
    token_family = models.UUIDField(null=True, blank=True, db_index=True, editable=False)
    # The SSO session the token was issued from (the `sid` claim); empty for tokens from the
    # password or client-credentials grant, which are bound to no browser session.
    sid = models.CharField(max_length=64, blank=True, default="", db_index=True)

    class Meta(AbstractAccessToken.Meta):
        verbose_name = "access token"


class RefreshToken(AbstractRefreshToken):
    auth_time = models.DateTimeField(null=True, blank=True)
    # The SSO session the token is bound to: it stops working when that session ends.
    sid = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # The original grant's authentication methods, kept through rotations (`amr`, `acr`).
    amr = models.JSONField(default=list, blank=True)

    class Meta(AbstractRefreshToken.Meta):
        verbose_name = "refresh token"

    def revoke(self):
        """DOT's revoke (lock the live row, delete its access token, mark it revoked), without
        a savepoint inside a caller's transaction: no caller catches an error from here and
        carries on, so an error rolls the caller's transaction back (as it should)."""
        with transaction.atomic(using=router.db_for_write(AccessToken), savepoint=False):
            live = RefreshToken.objects.select_for_update().filter(pk=self.pk, revoked__isnull=True).first()
            if live is None:
                return
            access_token = AccessToken.objects.filter(pk=live.access_token_id).first()
            if access_token is not None:
                access_token.revoke()  # deleted: post_delete tells the revocation store
            live.access_token = None
            live.revoked = timezone.now()
            live.save()

    @classmethod
    def revoke_family(cls, token_family):
        """DOT's revocation of the family, plus the family's access tokens that no refresh
        token points to any more (our access tokens carry their family too). Deleted access
        tokens leave the revocation store's fast path after the commit (oauth.receivers)."""
        if not token_family:
            return
        # No savepoint of ours inside a caller's transaction (DOT keeps its own, which it
        # needs to fall back on an IntegrityError).
        with transaction.atomic(savepoint=False):
            super().revoke_family(token_family)
            AccessToken.objects.filter(token_family=token_family).delete()


class IDToken(AbstractIDToken):
    class Meta(AbstractIDToken.Meta):
        verbose_name = "ID token"


class SigningKeyQuerySet(models.QuerySet):
    def lock(self):
        """Serialize writers of the key table until the current transaction ends.

        PostgreSQL: a transaction-scoped advisory lock. SQLite needs none: its transactions
        start with BEGIN IMMEDIATE (see settings), so writers already queue.
        """
        locks.xact_lock(connections[router.db_for_write(self.model)], locks.SIGNING_KEYS)


class SigningKey(models.Model):
    """A token signing key. The private half is stored encrypted with the key-encryption key
    (KEY_ENCRYPTION_KEYS), never in clear; oauth.keys reads this table, oauth.flows writes it."""

    class State(models.TextChoices):
        NEXT = "next", "next (published, not signing yet)"
        ACTIVE = "active", "active (signs tokens)"
        RETIRED = "retired", "retired (published until its tokens have expired)"

    kid = models.CharField("key ID", max_length=64, unique=True, help_text="RFC 7638 thumbprint.")
    algorithm = models.CharField(max_length=16, default="RS256")
    public_jwk = models.JSONField(help_text="The public JWK as published (public members only).")
    private_key = models.TextField(help_text="The private key (PEM), encrypted with the key-encryption key.")
    state = models.CharField(max_length=16, choices=State.choices)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = SigningKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "signing key"
        ordering = ["-created_at"]
        permissions = [("rotate_signingkey", "Can rotate signing keys")]
        constraints = [
            # The database itself refuses a second active (or next) key, whatever races.
            models.UniqueConstraint(fields=["state"], condition=Q(state="active"), name="oauth_signingkey_one_active"),
            models.UniqueConstraint(fields=["state"], condition=Q(state="next"), name="oauth_signingkey_one_next"),
            models.CheckConstraint(
                condition=Q(state__in=["next", "active", "retired"]), name="oauth_signingkey_state_valid"
            ),
        ]

    def __str__(self):
        return f"{self.kid} ({self.state})"


class BackchannelLogout(models.Model):
    """The outbox of OpenID Connect Back-Channel Logout: one logout token to deliver to one
    client. Written in the transaction that revokes the tokens; delivered after the commit and
    retried with backoff until delivered or given up (oauth.backchannel).

    The token itself is not stored: it is signed at each attempt from these columns, so that
    a retry an hour later still carries a fresh `iat`/`exp`, and the same `jti` (a receiver
    may use it to ignore a duplicate)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="backchannel_logouts")
    subject = models.CharField(max_length=64, help_text="The user's `sub`.")
    sid = models.CharField(max_length=64, blank=True, help_text="The ended session; empty: every session.")
    jti = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    # Due when <= now; NULL once delivered or given up.
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "back-channel logout"
        ordering = ["-created_at"]

    def __str__(self):
        state = "delivered" if self.delivered_at else ("pending" if self.next_attempt_at else "given up")
        return f"logout of {self.subject[:8]}… for {self.client_id} ({state})"


class Consent(models.Model):
    """A person's standing approval of a client: the scopes they allowed it, remembered so that
    a later authorization request for the same scopes or fewer needs no consent page
    (oauth.consents). Approving new scopes widens it to the union; "Revoke access" on the
    connected apps page deletes it (and the client's tokens), so the next request asks again.
    Denying stores nothing. Trusted clients (`skip_authorization`) never need one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oauth_consents")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    scopes = models.TextField(help_text="Space-separated scopes the user approved, sorted.")
    created_at = models.DateTimeField(default=timezone.now, help_text="When the user first approved the client.")
    updated_at = models.DateTimeField(default=timezone.now, help_text="When the approved scopes last grew.")

    class Meta:
        verbose_name = "consent"
        ordering = ["-updated_at"]
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="oauth_consent_one_per_user_client")]

    def __str__(self):
        return f"{self.user} → {self.client.name}: {self.scopes}"

    @property
    def scope_set(self):
        return frozenset(self.scopes.split())


class InitialAccessToken(models.Model):
    """An initial access token (RFC 7591 3): a bearer token an operator hands to a developer,
    who presents it to the registration endpoint to register clients. Stored as its SHA-256
    only (shown once at issue); good until `expires_at` for `uses_left` registrations, spent
    one at a time by a conditional UPDATE (oauth.flows.spend_initial_access_token)."""

    checksum = models.CharField(max_length=64, unique=True, editable=False)
    label = models.CharField(max_length=200, blank=True, help_text="Who it was issued to, for your records.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    uses_left = models.PositiveIntegerField(default=1, help_text="Registrations it may still make.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )

    class Meta:
        verbose_name = "initial access token"
        ordering = ["-created_at"]

    def __str__(self):
        label = self.label or "initial access token"
        return f"{label} ({self.uses_left} use(s) left, expires {self.expires_at:%Y-%m-%d %H:%M})"

    @property
    def usable(self):
        return self.uses_left > 0 and self.expires_at > timezone.now()
