"""OAuth use cases: registering clients, revoking token families and a person's access of an
app, rotating signing keys."""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.settings import oauth2_settings

import audit
from audit import events
from sso import flows as sso_flows

from . import backchannel, connected_apps, consents, ended_sessions, kek, keys
from .claims import LEEWAY_SECONDS
from .models import AccessToken, Client, Grant, InitialAccessToken, RefreshToken, SigningKey, token_checksum

log = logging.getLogger(__name__)


class ClientError(Exception):
    """The client could not be registered; `errors` maps fields to messages."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def create_client(
    *,
    name,
    grant_types,
    redirect_uris=(),
    post_logout_redirect_uris=(),
    public=False,
    scopes="",
    trusted=False,
    can_introspect_any=False,
    backchannel_logout_uri="",
    backchannel_logout_session_required=False,
    allowed_origins=(),
    logo_uri="",
    client_uri="",
    policy_uri="",
    tos_uri="",
    require_pkce=True,
    access_token_lifetime=None,
    refresh_token_lifetime=None,
    id_token_lifetime=None,
    audience=(),
    token_endpoint_auth_method="",
):
    """Register a client. Returns (client, secret): the plaintext secret, shown once (None
    for a public client). Only the secret's keyed hash is stored. Lifetimes (seconds) and
    `audience` (the access tokens' `aud`) left out are the server's settings;
    `token_endpoint_auth_method` empty: the client may authenticate either way."""
    secret = None if public else generate_client_secret()
    client = Client(
        name=name,
        client_type=Client.CLIENT_PUBLIC if public else Client.CLIENT_CONFIDENTIAL,
        grant_types=" ".join(grant_types),
        redirect_uris=" ".join(redirect_uris),
        post_logout_redirect_uris=" ".join(post_logout_redirect_uris),
        allowed_scopes=scopes,
        skip_authorization=trusted,
        can_introspect_any=can_introspect_any,
        backchannel_logout_uri=backchannel_logout_uri,
        backchannel_logout_session_required=backchannel_logout_session_required,
        allowed_origins=" ".join(allowed_origins),
        logo_uri=logo_uri,
        client_uri=client_uri,
        policy_uri=policy_uri,
        tos_uri=tos_uri,
        require_pkce=require_pkce,
        access_token_lifetime=access_token_lifetime,
        refresh_token_lifetime=refresh_token_lifetime,
        id_token_lifetime=id_token_lifetime,
        audience=" ".join(audience),
        token_endpoint_auth_method=token_endpoint_auth_method,
        client_secret=secret or "",
    )
    _validate(client)
    client.save()  # recorded in the audit log by oauth.receivers.record_client_saved
    return client, secret


def _validate(client):
    """The admin form's rules (Client.clean and the field validators); ClientError if broken."""
    try:
        client.full_clean(exclude=["client_id", "client_secret", "user", "authorization_grant_type"])
    except ValidationError as exc:
        raise ClientError(exc.message_dict) from exc


def rotate_client_secret(*, client, actor):
    """Give the confidential `client` a new secret and return it (plaintext: show it once; only
    its keyed hash is stored). The old secret stops working at once; tokens already issued stay
    valid. Recorded as client.secret_rotated, `actor` (the operator, or None) having acted."""
    if client.client_type != Client.CLIENT_CONFIDENTIAL:
        raise ClientError({"client_type": ["A public client has no secret."]})
    secret = generate_client_secret()
    with transaction.atomic():
        client.client_secret = secret
        # post_save records nothing for a save of the secret alone (oauth.receivers): here.
        client.save(update_fields=["client_secret", "updated"])
        audit.record(
            event=events.CLIENT_SECRET_ROTATED,
            actor=actor,
            client_id=client.client_id,
            detail={"name": client.name},
        )
    return secret


def revoke_token_family(*, family):
    """Revoke every token descended from one authorization: refresh tokens are marked
    revoked, access tokens deleted (so they are refused at once)."""
    if family is None:
        return
    # Both or neither; no savepoint inside a caller's transaction (nothing here catches an
    # error to carry on: it rolls the caller's transaction back).
    with transaction.atomic(savepoint=False):
        RefreshToken.revoke_family(family)
        AccessToken.objects.filter(token_family=family).delete()


# --- Registration over HTTP (RFC 7591 / 7592) ----------------------------------------------


class InitialAccessTokenRefused(Exception):
    """The initial access token is unknown, expired or spent (possibly just now, by another
    registration that won the race for its last use)."""


def issue_initial_access_token(*, expires_in, uses=1, label="", created_by=None):
    """Issue an initial access token for client registration. Returns (row, token): the
    token in clear, to be shown once (only its SHA-256 is stored)."""
    if uses < 1 or expires_in.total_seconds() <= 0:
        raise ValueError("An initial access token needs at least one use and a lifetime.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        row = InitialAccessToken.objects.create(
            checksum=token_checksum(token),
            expires_at=timezone.now() + expires_in,
            uses_left=uses,
            label=label,
            created_by=created_by,
        )
        audit.record(
            event=events.REGISTRATION_TOKEN_ISSUED,
            actor=created_by,
            detail={"id": row.pk, "label": label, "uses": uses, "expires_at": row.expires_at},
        )
    return row, token


def _usable_initial_tokens(token):
    return InitialAccessToken.objects.filter(
        checksum=token_checksum(token), uses_left__gt=0, expires_at__gt=timezone.now()
    )


def initial_access_token(token):
    """The usable (unexpired, not spent) InitialAccessToken row of `token`, or None."""
    return _usable_initial_tokens(token).first()


def spend_initial_access_token(token):
    """Spend one use of `token`; False if it had none left (or is unknown or expired). A
    conditional UPDATE: of two registrations racing for the last use, exactly one wins."""
    return _usable_initial_tokens(token).update(uses_left=F("uses_left") - 1) == 1


def _registration_fields(client, registration_token):
    client.registration_access_token_checksum = token_checksum(registration_token)


def register_client(*, fields, initial_token=None, via="open"):
    """Register a client from parsed RFC 7591 metadata (oauth.client_metadata.parse), spending
    one use of `initial_token` if given, in one transaction. Returns (client, secret,
    registration_access_token): the secret (None for a public client) and the token that reads,
    updates and deletes the registration (RFC 7592), both in clear, shown once; only hashes are
    stored. Raises ClientError (the metadata breaks a rule of Client.clean) or
    InitialAccessTokenRefused."""
    confidential = fields["client_type"] == Client.CLIENT_CONFIDENTIAL
    secret = generate_client_secret() if confidential else None
    registration_token = secrets.token_urlsafe(32)
    client = Client(**fields, client_secret=secret or "", skip_authorization=False, can_introspect_any=False)
    _registration_fields(client, registration_token)
    _validate(client)
    with transaction.atomic():
        if initial_token is not None and not spend_initial_access_token(initial_token):
            raise InitialAccessTokenRefused()
        client.save()  # client.created, by oauth.receivers.record_client_saved
        audit.record(
            event=events.CLIENT_REGISTERED,
            client_id=client.client_id,
            detail={
                "name": client.name,
                "client_type": client.client_type,
                "grant_types": client.grant_types,
                "via": via,
            },
        )
    return client, secret, registration_token


def record_registration_refused(*, error, reason, client_id=""):
    """The audit log's client.registration_refused (a refused registration or configuration
    request: what was refused and why, never the token or the metadata's secrets)."""
    audit.record(
        event=events.CLIENT_REGISTRATION_REFUSED,
        outcome=events.FAILURE,
        client_id=client_id,
        detail={"error": error, "reason": reason},
    )


def _registration_token_matches(client, token):
    stored = client.registration_access_token_checksum
    return bool(stored) and secrets.compare_digest(stored, token_checksum(token))


def registered_client(*, client_id, token):
    """The client whose registration `token` manages (RFC 7592), or None: a client registered
    over HTTP, whose current registration access token is `token`."""
    client = Client.objects.filter(client_id=client_id).first()
    if client is None or not _registration_token_matches(client, token):
        return None
    return client


class RegistrationTokenRefused(Exception):
    """The registration access token no longer manages the client (rotated or deleted by a
    concurrent request)."""


def update_registered_client(*, client, token, fields, client_secret=None):
    """Replace the registered metadata of `client` with `fields` (RFC 7592 2.2: omitted fields
    take their defaults) and rotate its registration access token. Returns (client, new
    registration access token). The row is locked and the token checked again, so that of two
    updates with the same token one wins. Raises ClientError, RegistrationTokenRefused."""
    with transaction.atomic():
        locked = Client.objects.select_for_update().filter(pk=client.pk).first()
        if locked is None or not _registration_token_matches(locked, token):
            raise RegistrationTokenRefused()
        if fields["client_type"] != locked.client_type:
            raise ClientError(
                {"client_type": ["A public client cannot become confidential, nor the reverse: register a new client."]}
            )
        if client_secret is not None and not check_password(client_secret, locked.client_secret):
            raise ClientError({"client_secret": ["client_secret does not match the current secret."]})
        for name, value in fields.items():
            setattr(locked, name, value)
        registration_token = secrets.token_urlsafe(32)
        _registration_fields(locked, registration_token)
        _validate(locked)
        locked.save()  # client.changed, by oauth.receivers.record_client_saved
    return locked, registration_token


def delete_registered_client(*, client, token):
    """Delete a client registered over HTTP (RFC 7592 2.3) and with it every token, code and
    consent of it: the access tokens' rows go (oauth.receivers drops them from the revocation
    store's fast path on commit), so the APIs refuse them at once. Raises
    RegistrationTokenRefused when `token` stopped managing the client meanwhile."""
    with transaction.atomic():
        locked = Client.objects.select_for_update().filter(pk=client.pk).first()
        if locked is None or not _registration_token_matches(locked, token):
            raise RegistrationTokenRefused()
        tokens = AccessToken.objects.filter(application=locked).count()
        locked.delete()  # client.deleted, by oauth.receivers.record_client_deleted
    log.info("Client %s deleted its registration (%d access token(s) revoked).", client.client_id, tokens)


# --- Connected apps -------------------------------------------------------------------------


class NotConnected(Exception):
    """The user has neither a consent nor a live token of this client."""


def _sids_held(*, user, client):
    """The user's active SSO sessions in which `client` got a code or tokens."""
    active = {session.sid for session in sso_flows.list_sessions(user=user)}
    held = set()
    for model in (Grant, AccessToken, RefreshToken):
        held.update(model.objects.filter(user=user, application=client, sid__in=active).values_list("sid", flat=True))
    return held


def revoke_app_access(*, user, client):
    """The connected apps page's "Revoke access": end every token of `client` for `user` at
    once (refresh tokens revoked, access tokens and unused codes deleted: /api/me and
    introspection refuse them from the commit on) and forget the user's consent, so that the
    next authorization request asks again. A client with a back-channel logout URI is told to
    log the user out (as when a session ends: without that it would keep a login whose tokens
    are dead). Raises NotConnected when `client` is not one of the user's apps (another user's
    included). Trusted clients keep skipping the consent page."""
    with transaction.atomic():
        if not connected_apps.is_connected(user=user, client=client):
            raise NotConnected(client.client_id)
        targets = {client: _sids_held(user=user, client=client)} if client.backchannel_logout_uri else {}
        refresh, access, codes = ended_sessions.revoke_rows(Q(user=user, application=client))
        consents.forget(user=user, client=client)
        detail = {"refresh_tokens": refresh, "access_tokens": access, "grants": codes}
        audit.record(event=events.CONSENT_REVOKED, actor=user, client_id=client.client_id, detail=detail)
        outbox = backchannel.enqueue(subject=user.subject, targets=targets, everywhere=True)
        if outbox:
            transaction.on_commit(partial(backchannel.deliver_soon, outbox), robust=True)
    log.info(
        "User %s revoked the access of client %s: %d refresh token(s), %d access token(s), %d code(s); "
        "%d back-channel logout(s) queued.",
        user.pk,
        client.client_id,
        refresh,
        access,
        codes,
        len(outbox),
    )


# --- Signing keys -------------------------------------------------------------------------


class SigningKeyError(Exception):
    """A key operation was refused; the message is meant for the operator."""


@dataclass(frozen=True)
class KeyRotation:
    """What one rotate_signing_keys run changed (key IDs)."""

    created: str | None = None
    activated: str | None = None
    retired: str | None = None
    deleted: tuple = ()
    rewrapped: int = 0

    @property
    def changed(self):
        return bool(self.created or self.activated or self.retired or self.deleted or self.rewrapped)

    def __str__(self):
        parts = [
            self.activated and f"now signing with {self.activated}",
            self.retired and f"retired {self.retired}",
            self.created and f"published next key {self.created}",
            self.deleted and f"deleted expired keys {', '.join(self.deleted)}",
            self.rewrapped and f"re-encrypted {self.rewrapped} key(s) with the current KEK",
        ]
        return "; ".join(p for p in parts if p) or "nothing to do"


def retired_key_retention():
    """How long a retired key stays published: until every token it signed has expired."""
    # Clients may have lifetimes of their own (Client.access_token_lifetime, id_token_lifetime).
    own = Client.objects.aggregate(access=Max("access_token_lifetime"), id=Max("id_token_lifetime"))
    longest = max(
        oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS,
        oauth2_settings.ID_TOKEN_EXPIRE_SECONDS,
        own["access"] or 0,
        own["id"] or 0,
    )
    # Plus the leeway verifiers allow on `exp`, plus the cache window during which another
    # process may still sign with the key after it was retired.
    return timedelta(seconds=longest + LEEWAY_SECONDS + settings.SIGNING_KEY_CACHE_SECONDS)


def rotation_due(active, upcoming, *, now):
    """Whether the scheduled rotation should promote `upcoming` now. Pure."""
    if upcoming is None:
        return False
    active_since = active.activated_at or active.created_at
    old_enough = active_since <= now - timedelta(days=settings.SIGNING_KEY_ROTATION_DAYS)
    # Clients cache the JWKS: the next key must have been published longer than they cache it.
    published_long_enough = upcoming.created_at <= now - timedelta(seconds=settings.SIGNING_KEY_PREPUBLISH_SECONDS)
    return old_enough and published_long_enough


def _in_state(state):
    return SigningKey.objects.filter(state=state).first()


def _create_key(state, now):
    row = keys.new_stored_key(keys.generate_private_key(), state=state, now=now)
    row.save()
    return row


def _retire(active, now):
    if active is None:
        return None
    active.state, active.retired_at = SigningKey.State.RETIRED, now
    active.save(update_fields=["state", "retired_at"])
    return active.kid


def _activate(upcoming, now):
    upcoming.state, upcoming.activated_at = SigningKey.State.ACTIVE, now
    upcoming.save(update_fields=["state", "activated_at"])
    return upcoming.kid


def _delete_expired_keys(now):
    expired = SigningKey.objects.filter(state=SigningKey.State.RETIRED, retired_at__lte=now - retired_key_retention())
    kids = tuple(expired.values_list("kid", flat=True))
    expired.delete()
    return kids


def _rewrap_keys():
    """Re-encrypt keys still encrypted with an older KEK (idempotent: current ones stay)."""
    count = 0
    for row in SigningKey.objects.all():
        if not kek.is_current(row.private_key):
            row.private_key = kek.rewrap(row.private_key)
            row.save(update_fields=["private_key"])
            count += 1
    return count


def rotate_signing_keys(*, now=None, force=False):
    """The key rotation cron (and the admin) runs: returns a KeyRotation.

    Deletes retired keys whose tokens have all expired; promotes next -> active and
    active -> retired once the active key is SIGNING_KEY_ROTATION_DAYS old and the next key
    has been published for SIGNING_KEY_PREPUBLISH_SECONDS (at once with `force`: an
    emergency, since clients may not have fetched a freshly made next key yet); makes sure a
    next key is published; re-encrypts keys with the current KEK. Running it again changes
    nothing until the next period. Writers are serialized by a lock held for the transaction,
    so concurrent runs in several processes never make two active keys.
    """
    now = now or timezone.now()
    activated = retired = created = None
    with transaction.atomic():
        SigningKey.objects.lock()
        deleted = _delete_expired_keys(now)
        active, upcoming = _in_state(SigningKey.State.ACTIVE), _in_state(SigningKey.State.NEXT)
        if active is None or force or rotation_due(active, upcoming, now=now):
            upcoming = upcoming or _create_key(SigningKey.State.NEXT, now)
            retired = _retire(active, now)
            activated = _activate(upcoming, now)
            upcoming = None
        if upcoming is None:
            created = _create_key(SigningKey.State.NEXT, now).kid
        rewrapped = _rewrap_keys()
        result = KeyRotation(
            created=created, activated=activated, retired=retired, deleted=deleted, rewrapped=rewrapped
        )
        if result.changed:
            audit.record(event=events.SIGNING_KEY_ROTATED, detail={**vars(result), "forced": force})
    keys.expire()
    return result


def import_signing_key(*, pem, activate=False, now=None):
    """Store a PEM private key from elsewhere (e.g. the server we replace); returns its row.

    By default it becomes the next key (published now, signing from the next rotation; it
    replaces a next key that never signed). With `activate` it signs at once and the active
    key is retired. Raises ImproperlyConfigured for an unusable key (not RSA, under 2048 bits,
    encrypted) and SigningKeyError when the key is already stored.
    """
    key = keys.load_private_key(pem)
    now = now or timezone.now()
    state = SigningKey.State.ACTIVE if activate else SigningKey.State.NEXT
    with transaction.atomic():
        SigningKey.objects.lock()
        existing = SigningKey.objects.filter(kid=key["kid"]).first()
        if existing is not None:
            raise SigningKeyError(f"The key {existing.kid} is already stored ({existing.state}).")
        if activate:
            _retire(_in_state(SigningKey.State.ACTIVE), now)
        else:
            SigningKey.objects.filter(state=SigningKey.State.NEXT).delete()
        row = keys.new_stored_key(key, state=state, now=now)
        row.save()
        audit.record(event=events.SIGNING_KEY_IMPORTED, detail={"kid": row.kid, "state": state})
    keys.expire()
    return row
