import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from core import locks


def test_lock_ids_are_unique():
    ids = [value for name, value in vars(locks).items() if name.isupper() and isinstance(value, int)]
    assert len(ids) == len(set(ids)) >= 2


def test_key_of_is_stable_and_fits_a_signed_int():
    assert locks.key_of("alice\n203.0.113.7") == locks.key_of("alice\n203.0.113.7")
    assert locks.key_of("alice\n203.0.113.7") != locks.key_of("bob\n203.0.113.7")
    assert -(2**31) <= locks.key_of("x") < 2**31


@pytest.mark.django_db
def test_a_lock_is_taken_inside_a_transaction():
    with transaction.atomic():
        locks.xact_lock(connection, locks.SIGNING_KEYS)
        locks.xact_lock(connection, locks.LOGIN_ATTEMPT, locks.key_of("k"))


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_is_refused():
    with pytest.raises(TransactionManagementError):
        locks.xact_lock(connection, locks.SIGNING_KEYS)
