import pytest


@pytest.fixture(autouse=True)
def _staff_need_no_second_factor(mfa_not_required):
    """These tests are about the console, not two-factor: staff reach it with the password
    (MFA_REQUIRED=none). accounts/mfa/tests/test_policy.py and tests/browser/test_admin.py cover
    the default, which asks staff for a second factor."""
