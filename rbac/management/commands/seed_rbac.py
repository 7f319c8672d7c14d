"""The default roles and permissions, and optionally the first administrator: idempotent,
all or nothing, safe to re-run in deployment scripts."""

import os

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from rbac import flows
from rbac.permissions import ADMIN

PASSWORD_VARIABLE = "SEED_ADMIN_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create or complete the default roles (admin, operator, auditor, user) and their permissions; with "
        f"--admin-username and --admin-email, also the first administrator (password from ${PASSWORD_VARIABLE})."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--admin-username", help="Create or update this administrator (admin role, staff, superuser)."
        )
        parser.add_argument("--admin-email", help="The administrator's email address.")

    def handle(self, *args, **options):
        username, email = options["admin_username"], options["admin_email"]
        if bool(username) != bool(email):
            raise CommandError("Give both --admin-username and --admin-email, or neither.")
        password = os.environ.get(PASSWORD_VARIABLE) or None
        try:
            with transaction.atomic():
                changes = flows.seed_default_roles()
                if username:
                    changes += self._admin(username=username, email=email, password=password)
        except IntegrityError as exc:
            raise CommandError(f"Nothing was changed: {exc}") from exc
        for change in changes:
            self.stdout.write(change)
        if not changes:
            self.stdout.write("Nothing to do: everything was already in place.")

    def _admin(self, *, username, email, password):
        User = get_user_model()
        user = User.objects.filter(username__iexact=username).first()
        if user is None and password is None:
            raise CommandError(f"Set {PASSWORD_VARIABLE} to create the administrator {username!r}.")
        if User.objects.filter(email__iexact=email).exclude(pk=getattr(user, "pk", None)).exists():
            raise CommandError(f"Another user already has the address {email}.")
        changes, new = [], user is None
        if new:
            user = User(username=username)
            changes.append(f"created administrator {username}")
        new_password = password is not None and (new or not user.check_password(password))
        if new_password:
            self._validate(password, User(username=username, email=email))
            user.set_password(password)  # a re-run with the same password changes nothing
            if not new:
                changes.append(f"administrator {username}: password set")
        wanted = {"email": email, "is_staff": True, "is_superuser": True, "is_active": True}
        changed = [name for name, value in wanted.items() if getattr(user, name) != value]
        for name in changed:
            setattr(user, name, wanted[name])
        if changed and not new:
            changes.append(f"administrator {username}: {', '.join(changed)} updated")
        if new or changed or new_password:
            user.save()
        if flows.assign_role(user=user, role=ADMIN):
            changes.append(f"administrator {username} given the {ADMIN} role")
        return changes

    def _validate(self, password, user):
        try:
            password_validation.validate_password(password, user=user)
        except ValidationError as exc:
            raise CommandError(f"{PASSWORD_VARIABLE} is refused: {' '.join(exc.messages)}") from exc
