"""The admin console, in Chromium: staff log in through the one login page, set up their
authenticator app there (MFA_REQUIRED=staff, the default), and the pages operators use every day
load, pass the accessibility check and submit."""

import pytest

from oauth import keys
from sso.models import SSOSession

from .test_two_factor import current_code


@pytest.fixture
def operator(make_user):
    return make_user(username="operator", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_tab(browser, operator, user, web_app):
    keys.signing_key()  # the first key, as the first token would create it
    browser.goto("/admin/")
    assert "/accounts/login/" in browser.page.url  # the admin has no password form of its own
    browser.login(operator.username)
    enrol_at_login(browser)
    assert browser.page.url.endswith("/admin/")
    return browser


def enrol_at_login(browser, *, check=False):
    """The login's enrolment step: type the key shown on the page into "the app", confirm its
    code, go on past the recovery codes."""
    assert browser.page.url.endswith("/accounts/login/2fa/")
    if check:
        browser.check("admin-enrol-at-login")
    secret = browser.page.locator("[data-secret]").get_attribute("data-secret")
    browser.page.get_by_label("Code from your app").fill(current_code(secret))  # ±1 step either side
    browser.click("Turn on")
    assert browser.heading() == "Your recovery codes"
    if check:
        browser.check("admin-enrol-recovery-codes")
    browser.click("I have saved them", role="link")


ADMIN_PAGES = {
    "index": "/admin/",
    "users": "/admin/accounts/user/",
    "clients": "/admin/oauth/client/",
    "add-client": "/admin/oauth/client/add/",
    "signing-keys": "/admin/oauth/signingkey/",
    "sso-sessions": "/admin/sso/ssosession/",
    "roles": "/admin/rbac/role/",
    "add-role": "/admin/rbac/role/add/",
    "permissions": "/admin/rbac/permission/",
}


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_pages(admin_tab, page):
    response = admin_tab.goto(ADMIN_PAGES[page])
    assert response.status == 200
    admin_tab.check(f"admin-{page}")


def test_edit_a_user(admin_tab, user):
    admin_tab.goto(f"/admin/accounts/user/{user.pk}/change/")
    admin_tab.check("admin-user")
    admin_tab.page.get_by_label("First name").fill("Ada")
    admin_tab.click("Save", exact=True, within="#content")
    assert "was changed successfully" in admin_tab.page.inner_text(".messagelist")
    user.refresh_from_db()
    assert user.first_name == "Ada"


def test_view_site_leads_to_the_start_page(admin_tab):
    admin_tab.click("View site", role="link", within="#header")
    assert admin_tab.page.url == admin_tab.origin + "/accounts/profile/"  # `/`, signed in


def test_staff_set_up_a_second_factor_before_the_admin_opens(browser, operator):
    browser.goto("/admin/")
    browser.login(operator.username)
    assert browser.page.url.endswith("/accounts/login/2fa/")  # not logged in yet
    assert not SSOSession.objects.filter(user=operator).exists()
    enrol_at_login(browser, check=True)
    assert browser.page.url.endswith("/admin/")
    assert SSOSession.objects.get(user=operator).amr == ["otp", "pwd"]
    browser.check("admin-index-after-enrolment")


def test_remove_a_users_second_factor_on_their_page(admin_tab, user, operator):
    from accounts.mfa import flows
    from accounts.mfa.tests.conftest import code_for
    from audit import events
    from audit.models import SecurityEvent

    device = flows.start_totp(user=user)
    flows.confirm_totp(user=user, code=code_for(device))
    admin_tab.goto(f"/admin/accounts/user/{user.pk}/change/")
    row = admin_tab.page.locator("tr", has_text="Authenticator app")
    row.get_by_role("checkbox").check()
    admin_tab.check("admin-user-remove-two-factor")
    admin_tab.click("Save", exact=True, within="#content")
    assert "was changed successfully" in admin_tab.page.inner_text(".messagelist")
    assert not flows.is_enabled(user) and flows.remaining_recovery_codes(user) == 0
    event = SecurityEvent.objects.get(event=events.MFA_DISABLED)
    assert (event.actor_id, event.subject_id) == (operator.pk, user.pk)
    assert event.detail["reason"] == "removed by an operator"
