import uuid

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models.functions import Lower


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
