"""Email verification tokens: signed (SECRET_KEY, with its fallbacks), expiring, bound to the
user and to the address they were sent to.

The payload names the user's subject, the address it verifies and the address the account had
when it was made, so a link dies once the email changes (the payload no longer matches), and it
has done its work once the address is verified: it verifies that one address of that one user,
within EMAIL_VERIFICATION_TIMEOUT, and nothing else. A link for a new address (at sign-up, or a
change on the profile page) is what makes it the account's (issue 15: an address joins an
account only once its owner proves they receive its mail, so no page says it is taken).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing

SALT = "accounts.verification.email"


def make_token(user, email=None):
    """A token for `user`'s current address, or for `email`: the address given at sign-up or
    asked for on the profile page (accounts.flows), which becomes the account's only once
    verified. The token names the address the account has now (`from`): a change of address
    completes only if that is still the account's address when the link is followed."""
    payload = {"sub": user.subject, "email": email or user.email, "from": user.email}
    return signing.dumps(payload, salt=SALT, compress=True)


class InvalidToken(Exception):
    """The link is malformed, forged, expired, or for an address the user no longer has."""


def user_for_token(token):
    """The user `token` was made for, showing the address it verifies.

    Raises InvalidToken when it was not signed by us, has expired, or the user's address has
    changed since (or the user is gone or disabled). When the token is for a new address (the
    one given at sign-up, or asked for on the profile page) and the account still has the
    address it had when the token was made, the user is returned with the new address, unsaved,
    `email_pending` set and `email_replaced` = (old address, whether it was verified). An
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
    address, previous = payload.get("email"), payload.get("from")
    if user is None or not isinstance(address, str) or not address:
        raise InvalidToken
    if user.email == address:
        return user
    # Tokens made before `from` existed were for the current address or a sign-up's.
    if user.email != (previous if isinstance(previous, str) else ""):
        raise InvalidToken
    # The address given at sign-up or asked for on the profile page, not yet the account's:
    # it replaces `previous` when verified (accounts.flows.verify_email); meanwhile this
    # instance shows it, unsaved.
    user.email_replaced = (user.email, user.email_verified)
    user.email, user.email_verified, user.email_pending = address, False, True
    return user
