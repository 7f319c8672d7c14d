"""Trust this browser for N days (MFA_TRUST_BROWSER_DAYS; 0, the default, does not offer it).

Ticking the box on the code step sets a cookie: signed (django.core.signing, SECRET_KEY),
HttpOnly, SameSite=Lax, Secure whenever the session cookie is (production), sent only to the
login page's path. It names the user and a fingerprint of what the trust was given to: the
user's password hash (Django's session auth hash) and their second-factor devices. A password
change, or the devices removed (by the user or an operator) or set up again, changes the
fingerprint, and every trusted browser of that user asks for the code again.

A trusted browser skips the code step of a login, which then used the password alone: its
`amr` is ["pwd"] and its `acr` one factor (RFC 8176 has no method for "a cookie set after an
earlier second factor", and saying `otp` would claim a code nobody typed). So a client asking
for two factors (`acr_values`), or the admin console for staff, still gets the code step.
"""

import hmac
import logging

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .webauthn.models import WebAuthnCredential

COOKIE_NAME = "identity_trusted_browser"
_SALT = "identity.mfa.trusted_browser"

log = logging.getLogger(__name__)


def offered():
    return settings.MFA_TRUST_BROWSER_DAYS > 0


def _max_age():
    return settings.MFA_TRUST_BROWSER_DAYS * 24 * 3600


def _fingerprint(user):
    # Tagged per kind: a device removed or added of any kind (the app, recovery codes, a
    # passkey) changes the fingerprint and ends the trust.
    devices = [
        *(
            ("totp", pk, key)
            for pk, key in TOTPDevice.objects.filter(user=user, confirmed=True).values_list("pk", "key")
        ),
        *(("static", pk, name) for pk, name in StaticDevice.objects.filter(user=user).values_list("pk", "name")),
        *(
            ("passkey", pk, credential_id)
            for pk, credential_id in WebAuthnCredential.objects.filter(user=user, confirmed=True).values_list(
                "pk", "credential_id"
            )
        ),
    ]
    material = f"{user.get_session_auth_hash()}\n{sorted(devices)!r}"
    return salted_hmac(_SALT, material, algorithm="sha256").hexdigest()


def remember(response, *, user):
    """Make the browser receiving `response` trusted for `user`."""
    value = signing.dumps({"u": str(user.pk), "f": _fingerprint(user)}, salt=_SALT)
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=_max_age(),
        path=reverse("accounts:login"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    log.info("Browser trusted for %d days by user %s.", settings.MFA_TRUST_BROWSER_DAYS, user.pk)
    return response


def is_trusted(request, user):
    """Whether this browser carries a valid trust cookie of `user` (and trust is offered)."""
    value = request.COOKIES.get(COOKIE_NAME)
    if not (offered() and value):
        return False
    try:
        data = signing.loads(value, salt=_SALT, max_age=_max_age())
    except signing.BadSignature:  # also an expired one
        return False
    if not isinstance(data, dict) or data.get("u") != str(user.pk):
        return False
    return hmac.compare_digest(str(data.get("f", "")), _fingerprint(user))
