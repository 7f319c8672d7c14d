import pytest
from django.contrib import admin
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.mfa import flows, signals

from .conftest import log_in_with_code

pytestmark = pytest.mark.django_db


def test_the_device_secrets_have_no_admin_pages():
    assert not admin.site.is_registered(TOTPDevice)


def test_an_operator_removes_a_users_two_factor_and_it_is_announced(user, enrolled, operator):
    browser = Client()
    log_in_with_code(browser, operator, operator.totp_device)
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


def test_an_operator_reset_ends_the_users_sessions_and_tokens(user, enrolled, make_user):
    from sso.models import SSOSession, UserNotBefore

    device, _ = enrolled
    from .conftest import code_for

    person = Client()
    person.post("/accounts/login/", {"username": user.username, "password": "correct horse battery staple"})
    person.post("/accounts/login/code/", {"code": code_for(device, offset_steps=1)})
    assert SSOSession.objects.active(timezone.now()).filter(user=user).exists()
    operator = make_user(username="operator", is_staff=True, is_superuser=True)
    flows.disable(user=user, by=operator, reason="lost phone")
    assert not SSOSession.objects.active(timezone.now()).filter(user=user).exists()
    assert UserNotBefore.objects.filter(user=user).exists()  # earlier tokens refused
    assert person.get("/accounts/profile/").status_code == 302


def test_turning_it_off_oneself_keeps_the_session(client, user, enrolled):
    from sso.models import SSOSession

    client.force_login(user)
    client.get("/accounts/profile/")
    before = SSOSession.objects.active(timezone.now()).filter(user=user).count()
    flows.disable(user=user, by=user)
    assert SSOSession.objects.active(timezone.now()).filter(user=user).count() == before
