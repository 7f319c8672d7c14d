"""Account use cases: registration."""

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction


class RegistrationError(Exception):
    """Registration refused; `errors` maps field names to lists of messages."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def register_user(*, username, email, password):
    """Create an active user after checking uniqueness (case-insensitive) and password rules."""
    User = get_user_model()
    errors = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["A user with that username already exists."]
    if email and User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["A user with that email address already exists."]
    candidate = User(username=username, email=email)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise RegistrationError(errors)
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError:
        # Lost a race with a concurrent registration of the same name.
        raise RegistrationError({"username": ["A user with that username or email already exists."]}) from None
