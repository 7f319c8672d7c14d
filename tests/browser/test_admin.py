"""The admin console, in Chromium: staff log in through the one login page, and the pages
operators use every day load, pass the accessibility check and submit."""

import pytest
import requests

from oauth import keys
from oauth.models import Client

from . import pages


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
    "access-tokens": "/admin/oauth/accesstoken/",
    "audit-log": "/admin/audit/securityevent/",
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


def test_rotate_secret_shows_the_new_secret_once(admin_tab, web_app, issuer):
    client, old_secret = web_app
    admin_tab.goto(f"/admin/oauth/client/{client.pk}/change/")
    assert admin_tab.page.get_by_label("authorization_code: people sign in through the browser").is_checked()
    assert old_secret not in admin_tab.page.content()
    admin_tab.check("admin-client")
    admin_tab.click("Rotate secret", within="#content")
    assert admin_tab.heading() == "Client secret"
    secret = admin_tab.page.inner_text("#client-secret").strip()
    assert len(secret) >= 32 and secret != old_secret
    assert "shown only this once" in admin_tab.page.inner_text("#content")
    admin_tab.check("admin-client-secret")
    # The new secret authenticates the client; the old one no longer does.
    token_url = f"{issuer}/oauth/token/"
    grant = {"grant_type": "client_credentials"}
    assert requests.post(token_url, data=grant, auth=(client.client_id, old_secret), timeout=10).status_code == 401
    answer = requests.post(token_url, data=grant, auth=(client.client_id, secret), timeout=10)
    assert answer.json()["error"] == "unauthorized_client"  # authenticated; the grant is not this client's
    # Back on the client's page the secret is gone for good.
    admin_tab.click("Back to the client", role="link", within="#content")
    assert secret not in admin_tab.page.content()
    assert "never shown again" in admin_tab.page.inner_text("#content")


def test_add_a_client_shows_its_secret_once(admin_tab):
    admin_tab.goto("/admin/oauth/client/add/")
    page = admin_tab.page
    page.locator("#id_name").fill("Reports")
    page.get_by_label("Client type").select_option("confidential")
    page.get_by_label("client_credentials: the client acts on its own (no user)").check()
    page.get_by_label("Access token lifetime (seconds)").fill("300")
    page.get_by_label("Access token audience").fill("https://reports.example.com\nhttps://api.example.com")
    admin_tab.click("Save", exact=True, within="#content")
    assert admin_tab.heading() == "Client secret"
    secret = page.inner_text("#client-secret").strip()
    client = Client.objects.get(name="Reports")
    assert page.inner_text("#client-id").strip() == client.client_id
    assert client.client_secret != secret and client.audience == "https://reports.example.com https://api.example.com"
    admin_tab.goto(f"/admin/oauth/client/{client.pk}/change/")
    assert secret not in page.content()


def test_log_out_everywhere_from_the_users_page(admin_tab, second_browser, user):
    second_browser.goto("/accounts/login/")
    second_browser.login(user.username)
    assert second_browser.page.url.endswith("/accounts/profile/")
    admin_tab.goto(f"/admin/accounts/user/{user.pk}/change/")
    assert admin_tab.page.locator("#content").get_by_text("SSO sessions").count() >= 1
    admin_tab.click("Log out everywhere", within="#content")
    assert "logged out everywhere" in admin_tab.page.inner_text(".messagelist")
    assert admin_tab.page.url.endswith(f"/admin/accounts/user/{user.pk}/change/")
    admin_tab.check("admin-user-logged-out")
    second_browser.goto("/accounts/profile/")
    assert "/accounts/login/" in second_browser.page.url  # that browser's session is over
    admin_tab.goto("/admin/")  # the operator's own session is not
    assert admin_tab.page.url.endswith("/admin/")


OVERFLOW = """Math.max(
    document.documentElement.scrollWidth - window.innerWidth,
    ...Array.from(document.querySelectorAll("#changelist .results, #changelist table"),
                  (box) => box.scrollWidth - box.clientWidth))"""


def test_no_changelist_overflows_at_1280_pixels(admin_tab, web_app, user, make_client):
    """Every list an operator opens fits a 1280×800 screen: no horizontal scrolling, with rows
    in it (tokens, codes, sessions, events, consents)."""
    from django.contrib import admin

    from conftest import Flow

    make_client(name="A client with a rather long descriptive name for its list row", public=True)
    client, secret = web_app
    flow = Flow(user, client, secret, redirect_uri=client.redirect_uris.split()[0])
    flow.tokens(scope="openid profile email")  # tokens, an ID token, a consent, a session
    flow.code()  # an unredeemed code
    overflowing = {}
    for model in admin.site._registry:
        opts = model._meta
        url = f"/admin/{opts.app_label}/{opts.model_name}/"
        assert admin_tab.goto(url).status == 200, url
        # The admin scrolls a wide table inside its own box (.results): measure that too.
        width = admin_tab.page.evaluate(OVERFLOW)
        if width > 0:
            overflowing[url] = width
            admin_tab.page.screenshot(path=pages.SCREENSHOTS / f"overflow-{opts.model_name}.png", full_page=True)
    assert admin_tab.page.viewport_size == {"width": 1280, "height": 800}
    assert not overflowing, f"wider than 1280 px: {overflowing}"
