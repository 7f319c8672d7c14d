import uuid

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models.functions import Lower

from . import claims


def new_subject():
    """A random, stable, non-guessable subject identifier (the `sub` claim)."""
    return str(uuid.uuid4())


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, username):
        # Usernames are unique case-insensitively, so look them up that way too.
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A person who logs in here. `subject` is what tokens carry as `sub`, never the pk."""

    subject = models.CharField(max_length=64, unique=True, default=new_subject, editable=False, verbose_name="subject")
    email = models.EmailField("email address", blank=True)
    # Set by following the link mailed to `email` (accounts.verification) or by completing a
    # password reset (whose link was mailed there too); cleared whenever `email` changes.
    email_verified = models.BooleanField(
        "email verified",
        default=False,
        help_text="Whether the user proved they receive mail at this address (the email_verified claim).",
    )

    # The standard claims of OpenID Connect Core 5.1 (accounts.claims), released by scope:
    # `profile` (names to locale), `phone`, `address`.
    middle_name = models.CharField("middle name", max_length=150, blank=True)
    nickname = models.CharField(max_length=150, blank=True)
    picture = models.URLField(
        "picture URL", max_length=2000, blank=True, validators=[claims.validate_https], help_text="https."
    )
    website = models.URLField(max_length=2000, blank=True, validators=[claims.validate_https], help_text="https.")
    gender = models.CharField(max_length=32, blank=True)
    birthdate = models.DateField("date of birth", null=True, blank=True, validators=[claims.validate_birthdate])
    zoneinfo = models.CharField(
        "time zone", max_length=64, blank=True, validators=[claims.validate_zoneinfo], help_text="e.g. Europe/Paris"
    )
    locale = models.CharField(
        "language", max_length=35, blank=True, validators=[claims.validate_locale], help_text="e.g. en-GB"
    )
    phone_number = models.CharField(
        "phone number",
        max_length=16,
        blank=True,
        validators=[claims.validate_phone_number],
        help_text="E.164: +14155550100",
    )
    phone_number_verified = models.BooleanField(
        "phone number verified",
        default=False,
        help_text="Set by an operator who checked the number; cleared whenever it changes.",
    )
    address_street_address = models.TextField("street address", blank=True)
    address_locality = models.CharField("city", max_length=150, blank=True)
    address_region = models.CharField("region", max_length=150, blank=True)
    address_postal_code = models.CharField("postal code", max_length=20, blank=True)
    address_country = models.CharField("country", max_length=100, blank=True)
    # The `updated_at` claim: when the person's profile last changed (not any save of the row).
    profile_updated_at = models.DateTimeField("profile updated", null=True, blank=True, editable=False)

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_ci_unique",
            ),
        ]

    def __str__(self):
        return self.username
