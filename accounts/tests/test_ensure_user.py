"""accounts.flows.ensure_user: the seeding commands' way to a user."""

import pytest
from django.contrib.auth import get_user_model

from accounts import flows

pytestmark = pytest.mark.django_db


def test_a_missing_user_is_created_with_a_hashed_password():
    user, created = flows.ensure_user(username="seeded", email="seeded@example.com", password="a-long-demo-secret")
    assert created
    stored = get_user_model().objects.get(pk=user.pk)
    assert (stored.username, stored.email, stored.is_active) == ("seeded", "seeded@example.com", True)
    assert stored.check_password("a-long-demo-secret") and "a-long-demo-secret" not in stored.password


def test_an_existing_user_in_any_case_is_left_as_it_is(make_user):
    existing = make_user(username="Seeded", email="kept@example.com")
    existing.set_password("the-operators-choice")
    existing.save()
    user, created = flows.ensure_user(username="seeded", email="other@example.com", password="something-else-1")
    assert not created and user.pk == existing.pk
    user.refresh_from_db()
    assert user.email == "kept@example.com" and user.check_password("the-operators-choice")
    assert get_user_model().objects.count() == 1
