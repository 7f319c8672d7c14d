from django.core.exceptions import ValidationError

# Self-chosen usernames are ASCII: Unicode letters allow look-alikes ("аlice" with a Cyrillic
# "а") that the case-insensitive uniqueness constraint cannot tell apart.
USERNAME_PATTERN = r"^[A-Za-z0-9.@+_-]+\Z"


class MaximumLengthValidator:
    """Cap password length: a multi-megabyte password is a denial-of-service lever."""

    def __init__(self, max_length=256):
        self.max_length = max_length

    def validate(self, password, user=None):
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is too long (more than {self.max_length} characters).",
                code="password_too_long",
            )

    def get_help_text(self):
        return f"Your password can be at most {self.max_length} characters long."
