"""The admin console, in Chromium: staff log in through the one login page, set up their
authenticator app there (MFA_REQUIRED=staff, the default), and the pages operators use every day
load, pass the accessibility check and submit."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from oauth import keys
from oauth.models import Client, InitialAccessToken, token_checksum
from sso.models import SSOSession

from . import pages
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
    "initial-access-tokens": "/admin/oauth/initialaccesstoken/",
    "add-initial-access-token": "/admin/oauth/initialaccesstoken/add/",
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


def test_an_operator_sets_how_a_client_authenticates(admin_tab, issuer):
    admin_tab.goto("/admin/oauth/client/add/")
    page = admin_tab.page
    method = page.get_by_label("Client authentication")
    assert method.input_value() == ""  # "Either", the default
    page.locator("#id_name").fill("Batch")
    page.get_by_label("Client type").select_option("confidential")
    page.get_by_label("client_credentials: the client acts on its own (no user)").check()
    method.select_option("client_secret_post")
    admin_tab.check("admin-client-auth-method")
    admin_tab.click("Save", exact=True, within="#content")
    secret = page.inner_text("#client-secret").strip()
    client = Client.objects.get(name="Batch")
    assert client.token_endpoint_auth_method == "client_secret_post"
    # The secret works in the body only; HTTP Basic is refused like a wrong secret.
    token_url, grant = f"{issuer}/oauth/token/", {"grant_type": "client_credentials"}
    basic = requests.post(token_url, data=grant, auth=(client.client_id, secret), timeout=10)
    assert basic.status_code == 401 and basic.json()["error"] == "invalid_client"
    body = {**grant, "client_id": client.client_id, "client_secret": secret}
    assert requests.post(token_url, data=body, timeout=10).status_code == 200
    # Back to "Either": HTTP Basic works again.
    admin_tab.goto(f"/admin/oauth/client/{client.pk}/change/")
    assert page.get_by_label("Client authentication").input_value() == "client_secret_post"
    page.get_by_label("Client authentication").select_option("")
    admin_tab.click("Save", exact=True, within="#content")
    assert "was changed successfully" in page.inner_text(".messagelist")
    assert requests.post(token_url, data=grant, auth=(client.client_id, secret), timeout=10).status_code == 200


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


def test_issue_an_initial_access_token(admin_tab):
    """Client registration (RFC 7591): the operator issues an initial access token, shown once."""
    admin_tab.goto("/admin/oauth/initialaccesstoken/add/")
    tomorrow = timezone.localtime() + timedelta(days=1)
    admin_tab.page.get_by_label("Label").fill("Partner A")
    admin_tab.page.get_by_label("Expires at").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    admin_tab.page.get_by_label("Uses left").fill("2")
    admin_tab.click("Save", exact=True, within="#content")
    assert admin_tab.heading() == "Initial access token"
    token = admin_tab.page.inner_text("#initial-access-token").strip()
    admin_tab.check("admin-initial-access-token")
    row = InitialAccessToken.objects.get()
    assert row.checksum == token_checksum(token) and row.uses_left == 2 and row.label == "Partner A"
    # Listed without the token.
    admin_tab.goto("/admin/oauth/initialaccesstoken/")
    assert "Partner A" in admin_tab.page.inner_text("#result_list")
    assert token not in admin_tab.page.content()


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
