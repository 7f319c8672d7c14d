"""Receivers that record accounts' security events in the audit log (connected in
AccountsConfig.ready()): logins, failed logins, lockouts, password changes. The flows of
accounts (and accounts.mfa) record their own events inline."""

from django.contrib.auth import get_user_model

import audit
from audit import events

from . import lockout, stages
from .signals import is_password_reset


def login_succeeded(sender, request, user, **kwargs):
    """`user_logged_in` (the browser login, once every stage is done), with the methods it
    used (RFC 8176 `amr`: which factors, a passkey's `hwk`/`swk`) when the stages set them."""
    amr = getattr(request, stages.AMR_REQUEST_ATTRIBUTE, None)
    detail = {"amr": sorted(amr)} if amr else None
    audit.record(event=events.LOGIN_SUCCEEDED, request=request, actor=user, detail=detail)


def login_failed(sender, credentials, request=None, **kwargs):
    """`user_login_failed` (Django has already masked the password in `credentials`): the
    username tried, and the account when there is one by that name."""
    username = lockout.attempted_username(request, credentials) if request is not None else None
    username = username or str((credentials or {}).get("username") or "")[:150]
    audit.record(
        event=events.LOGIN_FAILED,
        request=request,
        actor=None,
        subject=_account(username),
        outcome=events.FAILURE,
        detail={"username": username},
    )


def locked_out(sender, request, username, ip_address, **kwargs):
    """axes' `user_locked_out`: a login refused (or just locked) for too many failures; for the
    password grant, with its client_id and whether the account (for that client) or the client
    IP was locked out."""
    detail = {"username": username or ""}
    client_id = getattr(request, lockout.GRANT_CLIENT_ATTRIBUTE, None)
    if client_id is not None:
        detail.update(client_id=client_id, locked=lockout.locked_by(request) or lockout.ACCOUNT)
    audit.record(
        event=events.LOGIN_LOCKED_OUT,
        request=request,
        actor=None,
        subject=_account(username),
        outcome=events.FAILURE,
        detail=detail,
    )


def password_changed(sender, user, request=None, **kwargs):
    """`accounts.signals.password_changed`: by the user, an administrator, or a reset link."""
    event = events.PASSWORD_RESET if is_password_reset() else events.PASSWORD_CHANGED
    audit.record(event=event, subject=user)


def _account(username):
    if not username or not username.isprintable():  # PostgreSQL refuses a NUL in a literal
        return None
    User = get_user_model()
    return User._default_manager.filter(**{f"{User.USERNAME_FIELD}__iexact": username}).first()
