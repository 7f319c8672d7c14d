"""The admin console, in Chromium: staff log in through the one login page, and the pages
operators use every day load, pass the accessibility check and submit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from oauth import keys
from oauth.models import InitialAccessToken, token_checksum


@pytest.fixture
def operator(make_user):
    return make_user(username="operator", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_tab(browser, operator, user, web_app):
    keys.signing_key()  # the first key, as the first token would create it
    browser.goto("/admin/")
    assert "/accounts/login/" in browser.page.url  # the admin has no password form of its own
    browser.login(operator.username)
    assert browser.page.url.endswith("/admin/")
    return browser


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
    "initial-access-tokens": "/admin/oauth/initialaccesstoken/",
    "add-initial-access-token": "/admin/oauth/initialaccesstoken/add/",
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


def test_issue_an_initial_access_token(admin_tab):
    """Client registration (RFC 7591): the operator issues an initial access token, shown once."""
    admin_tab.goto("/admin/oauth/initialaccesstoken/add/")
    tomorrow = timezone.localtime() + timedelta(days=1)
    admin_tab.page.get_by_label("Label").fill("Partner A")
    admin_tab.page.get_by_label("Expires at").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    admin_tab.page.get_by_label("Uses left").fill("2")
    admin_tab.click("Save", exact=True, within="#content")
    message = admin_tab.page.inner_text(".messagelist")
    assert "Initial access token (shown once): " in message
    token = message.split("(shown once): ", 1)[1].split()[0]
    row = InitialAccessToken.objects.get()
    assert row.checksum == token_checksum(token) and row.uses_left == 2 and row.label == "Partner A"
    # Listed without the token.
    admin_tab.goto("/admin/oauth/initialaccesstoken/")
    assert "Partner A" in admin_tab.page.inner_text("#result_list")
    assert token not in admin_tab.page.content()
