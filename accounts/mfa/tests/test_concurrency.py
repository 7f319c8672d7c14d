"""Two simultaneous uses of one code: exactly one wins (PostgreSQL, separate connections)."""

import pytest

from accounts.mfa import flows
from conftest import run_concurrently

from .conftest import code_for

pytestmark = [
    pytest.mark.postgres("simultaneous uses of one code on separate connections"),
    pytest.mark.django_db(transaction=True),
]


def outcome(user, code):
    try:
        return flows.verify(user=user, code=code)
    except flows.MFAError:
        return "refused"


def test_one_recovery_code_used_twice_at_once_logs_in_once(enrolled, user):
    _, codes = enrolled
    results, errors = run_concurrently(lambda: outcome(user, codes[0]), 8)
    assert errors == []
    assert sorted(results) == ["recovery_code"] + ["refused"] * 7
    assert flows.remaining_recovery_codes(user) == 9


def test_one_totp_code_used_twice_at_once_logs_in_once(enrolled, user):
    device, _ = enrolled
    code = code_for(device, offset_steps=1)
    results, errors = run_concurrently(lambda: outcome(user, code), 8)
    assert errors == []
    assert sorted(results) == ["refused"] * 7 + ["totp"]
