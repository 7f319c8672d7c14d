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
