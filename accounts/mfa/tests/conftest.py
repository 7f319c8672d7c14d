import time

import pytest
from django_otp.oath import TOTP

from accounts.mfa import flows
from conftest import PASSWORD


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


@pytest.fixture
def operator(make_user):
    """A superuser with a confirmed authenticator app (MFA_REQUIRED=staff asks staff for one)."""
    staff = make_user(username="operator", is_staff=True, is_superuser=True)
    device = flows.start_totp(user=staff)
    flows.confirm_totp(user=staff, code=code_for(device, offset_steps=-1))
    device.refresh_from_db()
    staff.totp_device = device
    return staff


def log_in_with_code(client, user, device, *, offset_steps=1):
    """Log `client` in as `user` through the login page and the code step."""
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    response = client.post("/accounts/login/code/", {"code": code_for(device, offset_steps=offset_steps)})
    assert response.status_code == 302, response.content
    return response
