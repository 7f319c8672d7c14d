"""The resource-server side: is this Bearer token a live access token of ours?

Used by the DRF authentication class and by DOT's protected views. The JWT is verified
offline (signature by `kid`, `iss`, `aud`, `exp`, `typ`), then the revocation store
(sso.revocation) answers whether its `jti` is still live, its `sid` still active and its
`iat` not older than the user's not-before. A revoked token has no row, so it is refused
whatever its `exp` says.

Cost. The JWS parse and RSA signature check are done once per process and token
(tokens.verify_access_token_cached: claims remembered by SHA-256 of the token, `kid` and
`exp`/`iss`/`aud` checked again on every call); the revocation check below runs on every call.
With Redis, a valid token costs one MGET and no SQL: the token is described by its
claims alone, and its user, client and row are loaded only if a view asks for them. The one
thing the claims do not say is the user's primary key (tokens carry the random `subject`,
never the pk), which the store's keys use: it is looked up once per process and user and
remembered, since neither ever changes. Without Redis (the embedded default) the store asks
the database anyway, so the row is read first, with its user and client: three queries in all.
"""

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.functional import cached_property

from core.lru import LRU
from sso import revocation

from . import tokens
from .claims import InvalidToken
from .models import AccessToken, Client, token_checksum

# Subjects whose primary key this process remembers (an LRU: bounded memory).
SUBJECT_CACHE_SIZE = 10_000


class BearerError(Exception):
    """RFC 6750 error: `error` code and a description safe to show to the caller."""

    def __init__(self, description, error="invalid_token"):
        super().__init__(description)
        self.error = error
        self.description = description


class VerifiedAccessToken:
    """A verified, unrevoked access token, described by its claims.

    `user` (None for a client-credentials token), `client` and `row` are loaded on first
    use, once; `user` raises BearerError when the user has been disabled or deleted since.
    """

    def __init__(self, claims, token, *, user_id=None):
        self.claims = claims
        self.token = token
        self.user_id = user_id
        self.scopes = frozenset(claims.get("scope", "").split())

    @property
    def is_client_token(self):
        """A client acting for itself: its `sub` is its client_id (a user's is a UUID)."""
        return self.claims["sub"] == self.claims["client_id"]

    @property
    def sid(self):
        return self.claims.get("sid")

    @cached_property
    def user(self):
        if self.is_client_token:
            return None
        user = get_user_model().objects.filter(pk=self.user_id).first()
        _check_user(user)
        return user

    @cached_property
    def client(self):
        return Client.objects.filter(client_id=self.claims["client_id"]).first()

    @cached_property
    def row(self):
        """The token's AccessToken row (None if it has just been revoked)."""
        row = _rows(self.token, self.claims).select_related("user", "application").first()
        if row is not None:
            self.__dict__.setdefault("client", row.application)
        return row


def _check_user(user):
    # A disabled account moves the user's not-before (sso), which refuses the token already;
    # this catches an account disabled by a bulk update that sent no signal.
    if user is None or not user.is_active:
        raise BearerError("The access token's user is disabled.")


def _rows(token, claims):
    """The token's row, if it is still live (revocation deletes it)."""
    return AccessToken.objects.filter(
        token_checksum=token_checksum(token), jti=claims["jti"], expires__gt=timezone.now(), application__isnull=False
    )


# --- subject -> primary key, remembered per process ---------------------------------------

_subjects = LRU(SUBJECT_CACHE_SIZE)


def forget_subjects():
    """Forget every remembered subject (tests)."""
    _subjects.clear()


def _user_id(verified):
    """The pk of the token's user: remembered, else read once (and the user kept for the view)."""
    subject = verified.claims["sub"]
    pk = _subjects.get(subject)
    if pk is None:
        user = get_user_model().objects.filter(subject=subject).first()
        _check_user(user)
        verified.__dict__["user"] = user
        pk = user.pk
        _subjects.put(subject, pk)
    return pk


# --- the check ------------------------------------------------------------------------------


def authenticate_bearer(token):
    """Return the VerifiedAccessToken for `token`, or raise BearerError."""
    try:
        claims = tokens.verify_access_token_cached(token)  # signature checked once per process
    except InvalidToken as exc:
        raise BearerError(str(exc)) from exc
    verified = VerifiedAccessToken(claims, token)
    if revocation.redis_client() is None:
        live = _from_database(verified)
    else:
        live = _from_store(verified)
    if not live:
        raise BearerError("The access token has been revoked.")
    return verified


def _from_store(verified):
    """The fast path: one MGET when Redis knows every fact; the row is read only on a miss."""
    claims = verified.claims
    if not verified.is_client_token:
        verified.user_id = _user_id(verified)
    return revocation.is_token_acceptable(
        jti=claims["jti"],
        sid=claims.get("sid"),
        user_id=verified.user_id,
        issued_at=claims["iat"],
        token_is_live=lambda: _rows(verified.token, claims).exists(),
    )


def _from_database(verified):
    """No fast path: read the row (it names the user), then let the store ask the rest."""
    row = verified.row
    if row is None:
        return False
    verified.__dict__["client"] = row.application
    if row.user_id is not None and not verified.is_client_token:
        _check_user(row.user)
        verified.__dict__["user"] = row.user
        verified.user_id = row.user_id
    return revocation.is_token_acceptable(
        jti=verified.claims["jti"],
        sid=verified.claims.get("sid"),
        user_id=verified.user_id,
        issued_at=verified.claims["iat"],
        token_is_live=lambda: True,  # the row was just read
    )
