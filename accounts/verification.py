"""Email verification tokens: signed (SECRET_KEY, with its fallbacks), expiring, bound to the
user and to the address they were sent to.

The payload names the user's subject and the address, so a link dies once the email changes
(the payload no longer matches), and it has done its work once the address is verified: it
verifies that one address of that one user, within EMAIL_VERIFICATION_TIMEOUT, and nothing else.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing

SALT = "accounts.verification.email"


def make_token(user, email=None):
    """A token for `user`'s current address, or for `email`, the address given at sign-up
    (accounts.flows.sign_up), which joins the account only once verified."""
    return signing.dumps({"sub": user.subject, "email": email or user.email}, salt=SALT, compress=True)


class InvalidToken(Exception):
    """The link is malformed, forged, expired, or for an address the user no longer has."""


def user_for_token(token):
    """The user whose current, not yet verified address `token` was made for.

    Raises InvalidToken when it was not signed by us, has expired, or the user's address has
    changed since (or the user is gone or disabled). A user without an address gets the one
    the token names (the address given at sign-up), unsaved, with `email_pending` set. An
    already verified address is returned as it is: following a link twice is harmless, and
    says so.
    """
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.EMAIL_VERIFICATION_TIMEOUT)
    except signing.BadSignature:  # SignatureExpired is one
        raise InvalidToken from None
    if not isinstance(payload, dict) or not isinstance(payload.get("sub"), str):
        raise InvalidToken
    user = get_user_model().objects.filter(subject=payload["sub"], is_active=True).first()
    address = payload.get("email")
    if user is None or not isinstance(address, str) or not address:
        raise InvalidToken
    if not user.email:
        # The address given at sign-up, not yet the account's: it joins when verified
        # (accounts.flows.verify_email); meanwhile this instance shows it, unsaved.
        user.email, user.email_verified, user.email_pending = address, False, True
    elif user.email != address:
        raise InvalidToken
    return user
