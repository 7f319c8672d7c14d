import time

import pytest
from django_otp.oath import TOTP

from accounts.mfa import flows


def code_for(device, *, at=None, offset_steps=0):
    """The code an authenticator app would show for `device` (django-otp's own TOTP maths)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = (at if at is not None else time.time()) + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def enrolled(user):
    """`user` with a confirmed authenticator app; (device, recovery codes)."""
    device = flows.start_totp(user=user)
    codes = flows.confirm_totp(user=user, code=code_for(device, offset_steps=-1))  # last_t: one step ago
    device.refresh_from_db()
    return device, codes
