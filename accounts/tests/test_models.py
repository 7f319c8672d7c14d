import uuid

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User


def test_subject_is_a_random_uuid_not_the_pk(make_user):
    first, second = make_user(), make_user()
    assert uuid.UUID(first.subject).version == 4
    assert first.subject != second.subject
    assert first.subject != str(first.pk)


def test_subject_is_stable(user):
    subject = user.subject
    user.username = "renamed"
    user.set_password("another long passphrase")
    user.save()
    user.refresh_from_db()
    assert user.subject == subject


def test_subject_is_unique_in_the_database(make_user):
    first, second = make_user(), make_user()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=second.pk).update(subject=first.subject)


def test_username_unique_ignoring_case(make_user):
    make_user(username="Alice")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="alice", email="other@example.com")


def test_email_unique_ignoring_case(make_user):
    make_user(username="alice", email="Alice@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="bob", email="alice@example.COM")


def test_many_users_may_have_no_email(make_user):
    make_user(email="")
    make_user(email="")
    assert User.objects.filter(email="").count() == 2


def test_natural_key_lookup_ignores_case(make_user):
    alice = make_user(username="Alice")
    assert User.objects.get_by_natural_key("aLICE") == alice
