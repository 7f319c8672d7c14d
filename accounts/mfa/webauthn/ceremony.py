"""The WebAuthn ceremonies on py_webauthn: the relying party, the options sent to the browser,
their one-time challenge, and the verification of what the browser sends back.

The relying-party id is ISSUER's host and the only accepted origin is ISSUER's origin (scheme,
host and port): a passkey works only on the address people log in at. A challenge lives in
the Django session (server-side), one at a time, for MFA_WEBAUTHN_TIMEOUT_SECONDS, bound to
its purpose and, where there is one, to its user; taking it to verify a response removes it,
whatever the verification then says, so that each challenge is answered at most once.
"""

import json
import re
import secrets
import time
from urllib.parse import urlsplit

from django.conf import settings
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

SESSION_KEY = "identity_webauthn_ceremony"
REGISTER = "register"
SECOND_FACTOR = "second_factor"
PASSWORDLESS = "passwordless"
# A passkey response is a few hundred bytes (a few KB with attestation certificates).
MAX_RESPONSE_LENGTH = 16 * 1024
_TRANSPORTS = {transport.value for transport in AuthenticatorTransport}
# A credential id: base64url of at most 1,023 bytes (WebAuthn Level 3, 5.1).
_BASE64URL = re.compile(r"[A-Za-z0-9_-]{1,1364}")


class CeremonyError(Exception):
    """The browser's answer is not accepted; `reason` is a short code for the audit log."""

    def __init__(self, reason, message="That passkey could not be used. Try again."):
        super().__init__(message)
        self.reason = reason


def relying_party():
    """(rp id, origin): ISSUER's host, and ISSUER's scheme://host[:port]."""
    parts = urlsplit(settings.ISSUER)
    return parts.hostname, f"{parts.scheme}://{parts.netloc}"


def registration_options(request, *, user, user_handle, existing):
    """The options of navigator.credentials.create() (as JSON-ready dict) for `user`, whose
    passkeys `existing` (credential ids and transports) the authenticator is asked not to
    register again; the challenge is remembered for `user`."""
    rp_id, _ = relying_party()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=settings.SITE_NAME,
        user_id=base64url_to_bytes(user_handle),
        user_name=user.get_username(),
        user_display_name=user.get_full_name() or user.get_username(),
        timeout=settings.MFA_WEBAUTHN_TIMEOUT_SECONDS * 1000,
        attestation=AttestationConveyancePreference.NONE,
        # Discoverable when the authenticator can (then it also logs in without a password).
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED
        ),
        exclude_credentials=[_descriptor(credential_id, transports) for credential_id, transports in existing],
    )
    _remember(request, REGISTER, options.challenge, user)
    return json.loads(options_to_json(options))


def authentication_options(request, *, purpose, user=None, allowed=()):
    """The options of navigator.credentials.get(): for a second factor, `user`'s passkeys
    (`allowed`: credential ids and transports) with user verification preferred; for a
    passwordless login, any discoverable passkey, with user verification required."""
    rp_id, _ = relying_party()
    required = UserVerificationRequirement.REQUIRED if purpose == PASSWORDLESS else None
    options = generate_authentication_options(
        rp_id=rp_id,
        timeout=settings.MFA_WEBAUTHN_TIMEOUT_SECONDS * 1000,
        allow_credentials=[_descriptor(credential_id, transports) for credential_id, transports in allowed],
        user_verification=required or UserVerificationRequirement.PREFERRED,
    )
    _remember(request, purpose, options.challenge, user)
    return json.loads(options_to_json(options))


def take_challenge(request, *, purpose, user=None):
    """The challenge this browser was given for `purpose` (and `user`), removed from the
    session. Raises CeremonyError when there is none, it expired, or it was another's."""
    state = request.session.pop(SESSION_KEY, None)
    if not isinstance(state, dict) or state.get("purpose") != purpose:
        raise CeremonyError("no_challenge", "That took too long, or was started elsewhere. Try again.")
    if state.get("user_id") != (user.pk if user is not None else None):
        raise CeremonyError("other_user")
    if time.time() > state.get("expires_at", 0):
        raise CeremonyError("challenge_expired", "That took too long. Try again.")
    return base64url_to_bytes(state["challenge"])


def parse(response_json):
    """The browser's PublicKeyCredential (as JSON text) as a dict with an `id`, or CeremonyError."""
    if not response_json or len(response_json) > MAX_RESPONSE_LENGTH:
        raise CeremonyError("malformed")
    try:
        credential = json.loads(response_json)
    except ValueError as exc:
        raise CeremonyError("malformed") from exc
    if not isinstance(credential, dict) or not isinstance(credential.get("response"), dict):
        raise CeremonyError("malformed")
    if not isinstance(credential.get("id"), str) or not _BASE64URL.fullmatch(credential["id"]):
        raise CeremonyError("malformed")
    return credential


def verify_registration(credential, *, challenge):
    """py_webauthn's VerifiedRegistration of `credential` (parsed), and its transports."""
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin
        )
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CeremonyError("invalid_registration", "That passkey could not be registered. Try again.") from exc
    transports = (credential.get("response") or {}).get("transports") or []
    return verified, [t for t in transports if isinstance(t, str) and t in _TRANSPORTS]


def verify_assertion(credential, *, challenge, public_key, sign_count, require_user_verification):
    """py_webauthn's VerifiedAuthentication of `credential` against a stored key. A signature
    counter that did not move forward (a cloned authenticator, WebAuthn 6.1.1) is refused;
    authenticators that keep no counter (0 and 0) pass, as the spec allows."""
    rp_id, origin = relying_party()
    try:
        return verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=require_user_verification,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError) as exc:
        text = str(exc)
        reason = "sign_count" if "sign count" in text else "uv_required" if "User verification" in text else "invalid"
        raise CeremonyError(reason) from exc


def new_user_handle():
    """A WebAuthn user handle: 32 random bytes, base64url."""
    return bytes_to_base64url(secrets.token_bytes(32))


def encode(raw):
    return bytes_to_base64url(raw)


def _descriptor(credential_id, transports):
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(credential_id),
        transports=[AuthenticatorTransport(t) for t in transports or [] if t in _TRANSPORTS] or None,
    )


def _remember(request, purpose, challenge, user):
    request.session[SESSION_KEY] = {
        "purpose": purpose,
        "challenge": bytes_to_base64url(challenge),
        "user_id": user.pk if user is not None else None,
        "expires_at": time.time() + settings.MFA_WEBAUTHN_TIMEOUT_SECONDS,
    }
