"""Two-factor use cases. The only writer of django-otp's device tables (TOTPDevice, StaticDevice).

A user has at most one TOTP device, unconfirmed (enrolment started) or confirmed (in use), and,
once the TOTP device is confirmed, one recovery-code device (django-otp's StaticDevice) holding
the unused recovery codes. Recovery codes are stored as keyed hashes (HMAC with SECRET_KEY,
fallbacks accepted), never in clear: a database dump yields none.
"""

import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

import audit
from audit import events

from . import policy, recovery_codes, signals, totp
from .webauthn.models import WebAuthnCredential

log = logging.getLogger(__name__)

TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
_HASH_SALT = "identity.mfa.recovery_code"
WRONG_TOTP = "That code is not right. Enter the current code from your app."
WRONG_RECOVERY_CODE = "That recovery code is not right, or was used already."


class MFAError(Exception):
    """A refused two-factor operation; the message is safe to show."""


class Throttled(MFAError):
    """Too many wrong codes: try again in `retry_after` seconds."""

    def __init__(self, retry_after):
        super().__init__("Too many wrong codes. Wait a little and try again.")
        self.retry_after = max(1, int(retry_after))


@dataclass(frozen=True)
class Enrolment:
    """What an authenticator app needs: the URI to scan (also as a QR code) and the secret."""

    uri: str
    secret: str
    qr_svg: str

    @property
    def secret_grouped(self):
        return totp.grouped(self.secret)


def is_enabled(user):
    """Whether `user` has a confirmed second factor (and must give a code or use a passkey
    after the password)."""
    totp = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    passkey = WebAuthnCredential.objects.filter(user=OuterRef("pk"), confirmed=True)
    # One statement: the login asks it for every user (accounts/tests/test_lockout.py counts).
    return get_user_model()._default_manager.filter(Exists(totp) | Exists(passkey), pk=user.pk).exists()


def has_totp(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def start_totp(*, user):
    """Begin enrolment: a new unconfirmed TOTP device (an earlier unconfirmed one is replaced).
    Refused when a confirmed one exists (disable it first)."""
    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise MFAError("An authenticator app is already set up.")
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def pending_totp(user):
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def enrolment(device):
    """The enrolment data of an (unconfirmed) device."""
    secret = totp.secret_base32(device)
    account = getattr(device.user, settings.MFA_TOTP_ACCOUNT_FIELD, "") or device.user.get_username()
    uri = totp.otpauth_uri(
        secret=secret, issuer=settings.MFA_TOTP_ISSUER, account=account, digits=device.digits, period=device.step
    )
    return Enrolment(uri=uri, secret=secret, qr_svg=totp.qr_svg(uri, title="QR code to scan with your app"))


def confirm_totp(*, user, code):
    """Confirm the pending device with a current code; returns the new recovery codes (shown
    once). Raises MFAError (no pending device, wrong code) or Throttled."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            raise MFAError("Start the set-up again: it expired or was finished elsewhere.")
        refusal = _check_totp(device, code)
        if refusal is None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _replace_recovery_codes(user)
            audit.record(event=events.MFA_ENABLED, actor=user, detail={"method": "totp"})
    if refusal is not None:
        raise refusal  # after the commit: the failure count stays
    signals.mfa_enabled.send(sender=confirm_totp, user=user, method="totp")
    log.info("Two-factor authentication enabled for user %s.", user.pk)
    return codes


def regenerate_recovery_codes(*, user):
    """New recovery codes for a user with 2FA; the old ones stop working at once."""
    with transaction.atomic():
        if not TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).exists():
            raise MFAError("Set up an authenticator app first.")
        codes = _replace_recovery_codes(user)
        audit.record(event=events.RECOVERY_CODES_REGENERATED, actor=user)
    log.info("Recovery codes regenerated for user %s.", user.pk)
    return codes


def remaining_recovery_codes(user):
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_NAME).count()


def disable(*, user, by, reason="disabled by the user", keep_passkeys=False):
    """Remove every second factor of `user` (the TOTP device, the recovery codes, passkeys;
    `keep_passkeys`: the authenticator app and its recovery codes only)."""
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        if not keep_passkeys:
            removed += WebAuthnCredential.objects.filter(user=user).delete()[0]
        removed += StaticDevice.objects.filter(user=user).delete()[0]
        if removed:
            audit.record(event=events.MFA_DISABLED, actor=by, subject=user, detail={"reason": reason})
    if removed:
        signals.mfa_disabled.send(sender=disable, user=user, by=by, reason=reason)
        log.info("Two-factor authentication removed for user %s by user %s (%s).", user.pk, by.pk, reason)
    return removed


ENROL_FIRST = "This account must set up two-factor authentication first: log in with a browser to do so."
SEND_OTP = "Send the otp parameter: a current code from the authenticator app, or a recovery code."


class SecondFactorNeeded(MFAError):
    """The user has a second factor and sent no code."""


def verify_second_factor(*, user, code):
    """For a login that has no code step (the password grant), after the right password: None
    when `user` has no confirmed second factor (and MFA_REQUIRED does not ask for one), else the
    method `code` passed ("totp" or "recovery_code", as `verify`). Raises SecondFactorNeeded
    without a code (or without a device MFA_REQUIRED asks for), MFAError or Throttled for a
    wrong one."""
    if not is_enabled(user):
        if policy.required_for(user):  # MFA_REQUIRED: no token until one is set up
            raise SecondFactorNeeded(ENROL_FIRST)
        return None
    if not (code or "").strip():
        raise SecondFactorNeeded(SEND_OTP)
    return verify(user=user, code=code)


def verify(*, user, code):
    """Check a second-factor code at login: a current TOTP code (each accepted once) or an unused
    recovery code (consumed). Returns "totp" or "recovery_code"; raises MFAError or Throttled."""
    code = (code or "").strip()
    recovery = recovery_codes.normalize(code)
    if recovery is not None:
        return _use_recovery_code(user, recovery)
    with transaction.atomic():
        # The row lock makes two uses of one code take turns: the second sees last_t moved.
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        # No device (removed since the password step): the same answer as a wrong code, after
        # the same work (a code computed, a failure recorded), so neither tells them apart.
        refusal = _check_totp(device, code) if device else _refuse_without_device(code)
        if refusal is not None:
            detail = _why(refusal)
            audit.record(event=events.MFA_FAILED, actor=None, subject=user, outcome=events.FAILURE, detail=detail)
    if refusal is not None:
        raise refusal  # after the commit: the failure count stays
    return "totp"


def _refuse_without_device(code):
    digits = "".join((code or "").split())
    if digits.isdigit():
        TOTP(secrets.token_bytes(20)).verify(int(digits), tolerance=1)  # the maths a device does
    return MFAError(WRONG_TOTP)


def _why(refusal):
    return {"method": "totp", "throttled": isinstance(refusal, Throttled)}


def _check_totp(device, code):
    """None if `code` is the device's current code (now used up), else the error to raise once
    the transaction has committed the failure count."""
    allowed, details = device.verify_is_allowed()
    if not allowed:
        return Throttled(_retry_after(details))
    digits = "".join(code.split())
    if not (digits.isdigit() and len(digits) == device.digits):
        device.throttle_increment(commit=True)
        return MFAError(WRONG_TOTP)
    if not device.verify_token(digits):  # counts the failure itself (a growing delay)
        return MFAError(WRONG_TOTP)
    return None


def _retry_after(details):
    until = (details or {}).get("locked_until")
    return (until - timezone.now()).total_seconds() if until else 1


def _use_recovery_code(user, code):
    with transaction.atomic():
        device = StaticDevice.objects.select_for_update().filter(user=user, name=RECOVERY_NAME).first()
        if device is None:
            raise MFAError(WRONG_RECOVERY_CODE)
        allowed, details = device.verify_is_allowed()
        if not allowed:
            raise Throttled(_retry_after(details))
        # One DELETE: of two simultaneous uses of one code, one deletes the row, the other none.
        deleted = StaticToken.objects.filter(device=device, token__in=_digests(code)).delete()[0]
        if deleted:
            device.throttle_reset(commit=True)
            remaining = device.token_set.count()
            audit.record(event=events.RECOVERY_CODE_USED, actor=user, detail={"remaining": remaining})
        else:
            device.throttle_increment(commit=True)
            detail = {"method": "recovery_code", "throttled": False}
            audit.record(event=events.MFA_FAILED, actor=None, subject=user, outcome=events.FAILURE, detail=detail)
    if not deleted:
        raise MFAError(WRONG_RECOVERY_CODE)
    signals.recovery_code_used.send(sender=verify, user=user, remaining=remaining)
    log.warning("User %s logged in with a recovery code (%d left).", user.pk, remaining)
    return "recovery_code"


def _replace_recovery_codes(user):
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = recovery_codes.generate()
    StaticToken.objects.bulk_create(StaticToken(device=device, token=_digest(code)) for code in codes)
    return [recovery_codes.display(code) for code in codes]


def _digest(code, secret=None):
    # 16 hex characters fit django-otp's column: 64 bits of a keyed hash of a 49-bit code.
    return salted_hmac(_HASH_SALT, code, secret=secret, algorithm="sha256").hexdigest()[:16]


def _digests(code):
    return [_digest(code, secret) for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]]
