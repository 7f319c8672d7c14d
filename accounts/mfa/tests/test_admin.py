import pytest
from django.contrib import admin
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.mfa import flows, signals

pytestmark = pytest.mark.django_db


def test_the_device_secrets_have_no_admin_pages():
    assert not admin.site.is_registered(TOTPDevice)


def test_an_operator_removes_a_users_two_factor_and_it_is_announced(user, enrolled, make_user):
    operator = make_user(username="operator", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(operator)
    assert b"authenticator app" in browser.get(f"/admin/accounts/user/{user.pk}/change/").content.lower()
    events = []
    signals.mfa_disabled.connect(lambda **kw: events.append(kw), weak=False, dispatch_uid="t")
    try:
        response = browser.post("/admin/accounts/user/", {"action": "remove_two_factor", "_selected_action": [user.pk]})
    finally:
        signals.mfa_disabled.disconnect(dispatch_uid="t")
    assert response.status_code == 302
    assert not flows.is_enabled(user)
    assert [(e["user"], e["by"]) for e in events] == [(user, operator)]
