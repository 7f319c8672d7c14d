"""Signals accounts sends: documented contracts for the apps above it (sso)."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.dispatch import Signal

# Sent after a user's new password has been saved, however it was changed (the password page,
# the admin, `manage.py changepassword`, a shell: any save after `set_password`).
# Arguments:
#   user    - the User whose password changed.
#   request - the HttpRequest of the change when the user made it from their own logged-in
#             browser (that session may stay logged in), else None (an administrator, a
#             command, a reset link: every session of the user is to end).
# sso moves the user's not-before and ends the user's other sessions.
password_changed = Signal()

_changing_request = ContextVar("identity_password_change_request", default=None)
_resetting = ContextVar("identity_password_reset", default=False)


@contextmanager
def password_change_by(request):
    """Views that change a password wrap the save in this, so that `password_changed` can
    tell the user's own browser (which may stay logged in) from anyone else."""
    token = _changing_request.set(request)
    try:
        yield
    finally:
        _changing_request.reset(token)


@contextmanager
def password_reset():
    """accounts.flows.reset_password wraps its save in this: the change is a reset (a link
    mailed to the user), recorded in the audit log as such."""
    token = _resetting.set(True)
    try:
        yield
    finally:
        _resetting.reset(token)


def is_password_reset():
    return _resetting.get()


def announce_password_change(sender, instance, created, **kwargs):
    """`post_save` of the user model: a save after `set_password` is a password change."""
    if created or getattr(instance, "_password", None) is None:
        return
    request = _changing_request.get()
    own = request is not None and getattr(request.user, "pk", None) == instance.pk
    password_changed.send(sender=sender, user=instance, request=request if own else None)
