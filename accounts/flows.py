"""Account use cases: registration, email verification, password reset, the profile."""

from axes.utils import reset as reset_login_failures
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

import audit
from audit import events

from . import claims, lockout, mail, signals, verification
from .forms import PasswordResetForm

SUBJECT_MAX_LENGTH = 64  # accounts.User.subject's
EMAIL_TAKEN = "A user with that email address already exists."  # said to operators only


class RegistrationError(Exception):
    """Registration refused; `errors` maps field names to lists of messages."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def register_user(*, username, email, password):
    """Create an active user after checking uniqueness (case-insensitive) and password rules,
    and mail them a link to verify their address."""
    User = get_user_model()
    errors = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["A user with that username already exists."]
    if email and User.objects.filter(email__iexact=email).exists():
        errors["email"] = [EMAIL_TAKEN]
    candidate = User(username=username, email=email)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise RegistrationError(errors)
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError:
        # Lost a race with a concurrent registration of the same name.
        raise RegistrationError({"username": ["A user with that username or email already exists."]}) from None
    send_verification_email(user=user)
    return user


def sign_up(*, username, email, password):
    """Self-registration (the sign-up form, `POST /api/users/`), which never says whether
    `email` already has an account: the same checks, the same work and the same answer either
    way (issue 15). The account is created without an address; the address joins it when its
    owner follows the link mailed there (verify_email). When an account already has it, that
    account's owner is mailed instead ("someone tried to register with your address"), and the
    new account simply has no address. A taken username is still refused: usernames are the
    public, chosen login names (and `preferred_username`), and say nothing about addresses."""
    User = get_user_model()
    errors = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["A user with that username already exists."]
    try:
        password_validation.validate_password(password, user=User(username=username, email=email))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise RegistrationError(errors)
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email="", password=password)
    except IntegrityError:
        raise RegistrationError({"username": ["A user with that username already exists."]}) from None
    holders = list(User.objects.filter(email__iexact=email))
    _tell_holders(holders, template_prefix="registration_attempt")
    if not holders:
        send_verification_email(user=user, email=email)
    return user


def _tell_holders(holders, *, template_prefix):
    """Mail the active accounts among `holders` that someone tried to give their address to
    another account (which did not get it); a disabled one is not told."""
    for owner in (holder for holder in holders if holder.is_active):
        context = {
            "user": owner,
            "login_url": mail.absolute_url("accounts:login"),
            "reset_url": mail.absolute_url("accounts:password-reset"),
        }
        mail.send(to=owner.email, template_prefix=template_prefix, context=context)


def ensure_user(*, username, email, password):
    """The user called `username` (case-insensitive), created with `email` and `password` if
    there is none; an existing user is left as it is. Returns (user, created).

    For seeding commands run by an operator (`seed_demo`): no password rules, no verification
    mail, no uniqueness check of the email address beyond the database's."""
    User = get_user_model()
    user = User.objects.filter(username__iexact=username).first()
    if user is not None:
        return user, False
    return User.objects.create_user(username=username, email=email, password=password), True


# --- Email verification ----------------------------------------------------------------------


def send_verification_email(*, user, email=None):
    """Mail `user` a link that verifies their current address (or `email`, an address given at
    sign-up or asked for on the profile page, which becomes the account's when verified); False
    when there is nothing to verify (no address, or already verified)."""
    address = email or user.email
    if not address or (user.email_verified and not email):
        return False
    url = mail.absolute_url("accounts:verify-email", token=verification.make_token(user, email=address))
    hours = max(1, settings.EMAIL_VERIFICATION_TIMEOUT // 3600)
    context = {"user": user, "email": address, "url": url, "hours": hours}
    mail.send(to=address, template_prefix="verify_email", context=context)
    return True


def verify_email(*, token):
    """Mark the address `token` was mailed to as verified; returns its user.

    A token for a new address (given at sign-up, or asked for on the profile page) makes it the
    account's now, in place of the address the account had when the link was mailed; a
    verified old address is then told of the change. Raises verification.InvalidToken for a
    forged or expired link, one for an address the user no longer has, or one for an address
    another account has taken since. The update is conditional on the address, so a change of
    email racing with the click cannot leave the wrong address verified."""
    user = verification.user_for_token(token)
    if user.email_verified:
        return user
    pending = getattr(user, "email_pending", False)
    old_email, old_verified = user.email_replaced if pending else (user.email, False)
    current = get_user_model().objects.filter(pk=user.pk, email=old_email)
    changes = {"email": user.email, "email_verified": True}
    if pending and old_email:
        changes["profile_updated_at"] = timezone.now()  # the `updated_at` claim
    try:
        with transaction.atomic():
            if not current.update(**changes):
                raise verification.InvalidToken  # the address changed since
            detail = {"email": user.email, **({"previous_email": old_email} if pending and old_email else {})}
            audit.record(event=events.EMAIL_VERIFIED, subject=user, detail=detail)
    except IntegrityError:  # another account took the address since
        raise verification.InvalidToken from None
    user.email_verified = True
    if pending and old_email and old_verified:
        mail.send(to=old_email, template_prefix="email_changed", context={"user": user, "old_email": old_email})
    return user


# --- Password reset --------------------------------------------------------------------------


def reset_uid(user):
    """The user part of a reset link: the subject, not the pk (which would count the users)."""
    return urlsafe_base64_encode(force_bytes(user.subject))


def user_for_reset_uid(uidb64):
    """The active user a reset link's user part names, or None."""
    try:
        subject = force_str(urlsafe_base64_decode(uidb64))
    except (TypeError, ValueError, UnicodeDecodeError):
        return None
    # A subject is a UUID string: anything else (NUL, which PostgreSQL refuses in a literal, or
    # a long string) names nobody and is not looked up.
    if not subject or len(subject) > SUBJECT_MAX_LENGTH or not subject.isprintable():
        return None
    return get_user_model().objects.filter(subject=subject, is_active=True).first()


def request_password_reset(*, email):
    """Mail a reset link to each active user with a usable password whose address is `email`
    (case-insensitively, as Django's form matches it). Says nothing about whether one exists:
    the caller answers the same either way, and the mail leaves from a background thread, so
    the time of the answer does not tell either (only a lookup and, for a known address, the
    rendering of a short template differ: well under a millisecond against the noise of a
    request)."""
    minutes = max(1, settings.PASSWORD_RESET_TIMEOUT // 60)
    for user in PasswordResetForm().get_users(email):
        url = mail.absolute_url(
            "accounts:password-reset-confirm", uidb64=reset_uid(user), token=default_token_generator.make_token(user)
        )
        context = {"user": user, "url": url, "minutes": minutes}
        audit.record(event=events.PASSWORD_RESET_REQUESTED, subject=user)
        mail.send(to=user.email, template_prefix="password_reset", context=context)


def reset_password(*, request, user, password):
    """Set the password chosen through a reset link.

    The save announces a password change by no logged-in browser of the user's
    (accounts.signals.password_changed with request=None): sso ends every session of the user,
    this browser's included, and every earlier token is refused. The link was mailed to the
    user's current address (Django's token covers it), so that address is now verified too.
    The login lockout of this username from this client IP is lifted: the person just proved
    they receive the account's mail, and their failures were against the old password.
    """
    user.set_password(password)
    user.email_verified = bool(user.email)
    with transaction.atomic(), signals.password_reset():  # the save records it (accounts.audit_log)
        user.save()
    username = lockout.attempted_username(request, {"username": user.get_username()})
    reset_login_failures(ip=lockout.client_ip(request), username=username)
    return user


# --- The profile -----------------------------------------------------------------------------


def update_profile(*, user, email, **details):
    """Save the user's profile: `details` are any of accounts.claims.EDITABLE_FIELDS (names,
    picture, phone, address, …). A new phone number is unverified. Returns the new address a
    link was mailed to, or None when the address did not change.

    A new address is only asked for: the account keeps its address until the link mailed to
    the new one is followed (verify_email), and the same happens, with the same answer and the
    same queries, whether or not another account has the new address (issue 15: the profile
    page must not tell whether an address has an account). When one has it (case-insensitive,
    as the User model's constraint), its owner is mailed instead, and no link is sent. An
    empty address (no form offers it) removes the address at once."""
    unknown = set(details) - set(claims.EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"update_profile() got unexpected fields {sorted(unknown)}")
    asked = email if email != user.email else None
    holders = list(get_user_model().objects.filter(email__iexact=asked).exclude(pk=user.pk)) if asked else []
    fields = [name for name, value in details.items() if getattr(user, name) != value]
    for name in fields:
        setattr(user, name, details[name])
    if "phone_number" in fields:
        user.phone_number_verified = False
        fields.append("phone_number_verified")
    if email == "" and user.email:
        user.email, user.email_verified = "", False
        fields += ["email", "email_verified"]
    if fields:
        user.profile_updated_at = timezone.now()
        with transaction.atomic():
            user.save(update_fields=[*fields, "profile_updated_at"])
    if asked:
        _tell_holders(holders, template_prefix="email_change_attempt")
        if not holders:
            send_verification_email(user=user, email=asked)
    return asked


# --- Operators ---------------------------------------------------------------------------------


def set_active(*, user, active):
    """Disable or enable `user`'s account; True if it changed. A disabled account can no longer
    log in, and sso ends its sessions and refuses its tokens (its post_save receiver)."""
    if user.is_active == active:
        return False
    user.is_active = active
    with transaction.atomic():
        user.save(update_fields=["is_active"])
        audit.record(event=events.USER_ENABLED if active else events.USER_DISABLED, subject=user)
    return True
