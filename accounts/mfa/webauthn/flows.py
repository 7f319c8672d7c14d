"""Passkey use cases: registration, use at login (second factor or passwordless), renaming and
removal. The only writer of WebAuthnCredential; each records its audit event, named as for the
authenticator app (mfa.enabled, mfa.failed, mfa.disabled) with `"method": "passkey"`."""

import hashlib
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

import audit
from audit import events

from .. import signals
from . import ceremony
from .ceremony import CeremonyError
from .models import WebAuthnCredential

log = logging.getLogger(__name__)

METHOD = "passkey"
DEFAULT_NAME = "Passkey"
NAME_MAX_LENGTH = 64
# A passwordless login's methods: the key, and "mfa" because a user-verifying authenticator is
# itself two factors (something you have, unlocked by something you know or are; NIST SP
# 800-63B 5.1.9); oauth.claims then gives it the two-factor acr.
PASSWORDLESS_EXTRA_AMR = "mfa"


class PasskeyError(CeremonyError):
    """A refused passkey operation; the message is safe to show."""


def passkeys(user):
    return WebAuthnCredential.objects.filter(user=user).order_by("created_at", "pk")


def has_passkeys(user):
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def begin_registration(request, *, user):
    """Creation options for a new passkey of `user` (the challenge kept in the session)."""
    existing = list(passkeys(user).values_list("credential_id", "transports"))
    handle = passkeys(user).values_list("user_handle", flat=True).first() or ceremony.new_user_handle()
    request.session[_HANDLE_KEY] = handle
    return ceremony.registration_options(request, user=user, user_handle=handle, existing=existing)


def register(request, *, user, response_json, name=""):
    """Verify the browser's answer to `begin_registration` and store the passkey. Raises
    CeremonyError (audited as mfa.failed)."""
    handle = request.session.pop(_HANDLE_KEY, None)
    try:
        challenge = ceremony.take_challenge(request, purpose=ceremony.REGISTER, user=user)
        credential = ceremony.parse(response_json)
        verified, transports = ceremony.verify_registration(credential, challenge=challenge)
    except CeremonyError as exc:
        _failed(user, exc.reason, registering=True)
        raise
    credential_id = ceremony.encode(verified.credential_id)
    try:
        passkey = _store(user, credential_id, verified, transports, name, handle)
    except IntegrityError as exc:  # the same answer registered twice at once: the unique id
        raise PasskeyError("duplicate", "That passkey is registered already.") from exc
    signals.mfa_enabled.send(sender=register, user=user, method=METHOD)
    log.info("Passkey %s (%s) registered for user %s.", passkey.pk, passkey.amr, user.pk)
    return passkey


def _store(user, credential_id, verified, transports, name, handle):
    with transaction.atomic():
        if WebAuthnCredential.objects.filter(credential_id=credential_id).exists():
            raise PasskeyError("duplicate", "That passkey is registered already.")
        passkey = WebAuthnCredential.objects.create(
            user=user,
            name=_clean_name(name) or _default_name(user),
            confirmed=True,
            credential_id=credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=transports,
            user_handle=handle or ceremony.new_user_handle(),
            aaguid=str(verified.aaguid or ""),
            backup_eligible=verified.credential_device_type == "multi_device",
            backed_up=bool(verified.credential_backed_up),
        )
        detail = {"method": METHOD, "name": passkey.name, "amr": passkey.amr}
        audit.record(event=events.MFA_ENABLED, actor=user, detail=detail)
    return passkey


def begin_authentication(request, *, user=None):
    """Request options: for `user`'s second factor (their passkeys), or, with no user, for a
    passwordless login (any discoverable passkey, user verification required)."""
    if user is None:
        return ceremony.authentication_options(request, purpose=ceremony.PASSWORDLESS)
    allowed = list(passkeys(user).values_list("credential_id", "transports"))
    return ceremony.authentication_options(request, purpose=ceremony.SECOND_FACTOR, user=user, allowed=allowed)


def authenticate(request, *, response_json, user=None):
    """Verify a passkey login. With `user` (whose password was right): the second factor, a
    passkey of theirs. Without: a passwordless login, which needs user verification. Returns
    (passkey, the RFC 8176 methods it adds); raises CeremonyError (audited as mfa.failed)."""
    purpose = ceremony.SECOND_FACTOR if user is not None else ceremony.PASSWORDLESS
    subject = user
    try:
        challenge = ceremony.take_challenge(request, purpose=purpose, user=user)
        credential = ceremony.parse(response_json)
        with transaction.atomic():
            passkey = _locked_passkey(credential, user)
            subject = passkey.user
            if passkey.last_challenge == _digest(challenge):
                raise CeremonyError("replayed")
            verified = ceremony.verify_assertion(
                credential,
                challenge=challenge,
                public_key=bytes(passkey.public_key),
                sign_count=passkey.sign_count,
                require_user_verification=user is None,
            )
            _used(passkey, verified, challenge)
    except CeremonyError as exc:
        _failed(subject, exc.reason)
        raise
    if verified.new_sign_count == 0:
        log.info("Passkey %s keeps no signature counter (WebAuthn 6.1.1: nothing to compare).", passkey.pk)
    amr = [passkey.amr] if user is not None else sorted([passkey.amr, PASSWORDLESS_EXTRA_AMR])
    return passkey, amr


def rename(*, user, pk, name):
    name = _clean_name(name)
    if not name:
        raise PasskeyError("bad_name", "Give the passkey a name.")
    if not passkeys(user).filter(pk=pk).update(name=name):
        raise PasskeyError("unknown", "That passkey is not yours, or was removed.")


def remove(*, user, pk, by, reason="removed by the user"):
    """Remove one passkey of `user`. Returns whether one was removed."""
    with transaction.atomic():
        passkey = passkeys(user).select_for_update().filter(pk=pk).first()
        if passkey is None:
            return False
        passkey.delete()
        detail = {"method": METHOD, "name": passkey.name, "reason": reason}
        audit.record(event=events.MFA_DISABLED, actor=by, subject=user, detail=detail)
    log.info("Passkey %s of user %s removed by user %s (%s).", pk, user.pk, by.pk, reason)
    return True


_HANDLE_KEY = "identity_webauthn_user_handle"


def _locked_passkey(credential, user):
    passkey = (
        WebAuthnCredential.objects.select_for_update()
        .select_related("user")
        .filter(credential_id=credential["id"], confirmed=True)
        .first()
    )
    if passkey is None or (user is not None and passkey.user_id != user.pk):
        raise CeremonyError("unknown_credential")
    if user is None and not passkey.user.is_active:
        raise CeremonyError("inactive_user")
    handle = (credential.get("response") or {}).get("userHandle")
    if handle and handle != passkey.user_handle:
        raise CeremonyError("user_handle_mismatch")
    return passkey


def _used(passkey, verified, challenge):
    passkey.sign_count = verified.new_sign_count
    passkey.backed_up = bool(verified.credential_backed_up)
    passkey.last_used_at = timezone.now()
    passkey.last_challenge = _digest(challenge)
    passkey.save(update_fields=["sign_count", "backed_up", "last_used_at", "last_challenge"])


def _digest(challenge):
    return hashlib.sha256(challenge).hexdigest()


def _failed(user, reason, *, registering=False):
    if reason == "sign_count":
        log.warning("A passkey of user %s answered with a signature counter that did not move forward.", user.pk)
    detail = {"method": METHOD, "reason": reason, **({"registering": True} if registering else {})}
    audit.record(event=events.MFA_FAILED, actor=None, subject=user, outcome=events.FAILURE, detail=detail)


def _clean_name(name):
    return " ".join((name or "").split())[:NAME_MAX_LENGTH]


def _default_name(user):
    count = passkeys(user).count()
    return DEFAULT_NAME if count == 0 else f"{DEFAULT_NAME} {count + 1}"
