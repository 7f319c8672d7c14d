"""The admin console as operators use it, through Django's test client as staff: every page
loads, its buttons and actions do what they say through the apps' flows, and no page shows a
secret or a token."""

import re

import pytest
from django.contrib import admin
from django.test import Client as BrowserClient
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit import events
from audit.models import SecurityEvent
from conftest import Flow, basic, form_post, shown_once
from oauth import keys
from oauth.models import AccessToken, Client, Consent, Grant, IDToken, RefreshToken
from rbac import flows as rbac_flows
from sso.models import SSOSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(make_user):
    return make_user(username="operator", is_staff=True, is_superuser=True)


@pytest.fixture
def staff(operator):
    browser = BrowserClient()
    browser.force_login(operator)
    return browser


@pytest.fixture
def issued(flow):
    """A user with tokens, an ID token, a code, a consent and an SSO session."""
    tokens = flow.tokens(scope="openid profile")
    flow.code()  # an unredeemed code
    return tokens


def page(staff, url):
    response = staff.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_branding(staff, settings):
    html = page(staff, "/admin/")
    assert f"<title>Operations console | {settings.SITE_NAME} admin</title>" in html
    assert f"{settings.SITE_NAME} administration" in html
    assert "Operations console" in html
    assert "Django administration" not in html and "Site administration" not in html


CHANGELISTS = [
    "/admin/accounts/user/",
    "/admin/oauth/client/",
    "/admin/oauth/accesstoken/",
    "/admin/oauth/refreshtoken/",
    "/admin/oauth/grant/",
    "/admin/oauth/idtoken/",
    "/admin/oauth/consent/",
    "/admin/oauth/signingkey/",
    "/admin/oauth/backchannellogout/",
    "/admin/sso/ssosession/",
    "/admin/sso/usernotbefore/",
    "/admin/rbac/role/",
    "/admin/rbac/permission/",
    "/admin/audit/securityevent/",
    "/admin/axes/accessattempt/",
]


def test_every_page_loads_and_shows_no_token_or_secret(staff, issued, flow, user):
    keys.signing_key()
    secrets = [issued["access_token"], issued["refresh_token"], issued["id_token"], flow.secret]
    session = SSOSession.objects.filter(user=user).first()
    if session is not None:
        secrets.append(session.sid)
    urls = [*CHANGELISTS, *(u + "?q=user" for u in CHANGELISTS)]
    for model in (AccessToken, RefreshToken, Grant, IDToken, Consent, SSOSession):
        row = model.objects.first()
        urls.append(f"/admin/{model._meta.app_label}/{model._meta.model_name}/{row.pk}/change/")
    urls += [
        f"/admin/oauth/client/{flow.client.pk}/change/",
        f"/admin/accounts/user/{user.pk}/change/",
        "/admin/oauth/client/add/",
        "/admin/accounts/user/add/",
    ]
    for url in urls:
        html = page(staff, url)
        for secret in secrets:
            assert secret not in html, url
    for code in Grant.objects.values_list("code", flat=True):
        assert code not in page(staff, "/admin/oauth/grant/")


@pytest.mark.parametrize("model", [AccessToken, RefreshToken, Grant, IDToken, SecurityEvent, SSOSession])
def test_no_add_for_tokens_codes_events_and_sessions(staff, model):
    opts = model._meta
    assert staff.get(f"/admin/{opts.app_label}/{opts.model_name}/add/").status_code == 403
    assert f"/admin/{opts.app_label}/{opts.model_name}/add/" not in page(staff, "/admin/")


@pytest.mark.parametrize("model", [AccessToken, RefreshToken, Grant, IDToken])
def test_token_and_code_lists_filter_by_client_by_that_name(staff, issued, make_client, model):
    make_client()  # Django shows a filter only when it has two choices or more
    opts = model._meta
    html = page(staff, f"/admin/{opts.app_label}/{opts.model_name}/")
    assert "By client" in html and "By application" not in html


def test_token_pages_are_read_only_and_revoke_works(staff, issued):
    row = AccessToken.objects.get()
    html = page(staff, f"/admin/oauth/accesstoken/{row.pk}/change/")
    assert 'name="_save"' not in html  # a view, no form to save
    response = staff.post("/admin/oauth/accesstoken/", {"action": "revoke", "_selected_action": [row.pk]})
    assert response.status_code == 302
    assert not AccessToken.objects.filter(pk=row.pk).exists()
    refresh = RefreshToken.objects.get()
    assert refresh.revoked is not None


def test_refresh_token_revoke_action(staff, issued):
    row = RefreshToken.objects.get()
    staff.post("/admin/oauth/refreshtoken/", {"action": "revoke", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.revoked is not None


def test_labels(staff, issued, user):
    session = SSOSession.objects.filter(user=user).first() or SSOSession.objects.create(user=user, sid="x" * 43)
    html = page(staff, f"/admin/sso/ssosession/{session.pk}/change/")
    assert "IP address" in html and "Authentication methods" in html
    assert ">Ip<" not in html and ">Amr<" not in html
    assert "IP address" in page(staff, "/admin/sso/ssosession/")
    tokens = page(staff, "/admin/oauth/accesstoken/")
    assert "JWT ID" in tokens and ">Jti<" not in tokens and ">Application<" not in tokens
    assert "Client ID" in page(staff, "/admin/audit/securityevent/")


# --- clients ------------------------------------------------------------------------------


def client_form(**overrides):
    data = {
        "name": "Console app",
        "client_type": "confidential",
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": "https://app.example.com/cb\r\nhttp://127.0.0.1:8080/cb",
        "post_logout_redirect_uris": "",
        "allowed_origins": "",
        "allowed_scopes": ["openid", "profile"],
        "require_pkce": "on",
        "access_token_lifetime": "300",
        "refresh_token_lifetime": "",
        "id_token_lifetime": "",
        "audience": "https://api.example.com\nhttps://reports.example.com",
        "logo_uri": "",
        "client_uri": "https://app.example.com",
        "policy_uri": "",
        "tos_uri": "",
        "backchannel_logout_uri": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_add_client_shows_the_secret_once(staff):
    html = page(staff, "/admin/oauth/client/add/")
    assert 'type="checkbox" name="grant_types" value="client_credentials"' in html
    assert 'type="checkbox" name="allowed_scopes" value="openid"' in html
    response = staff.post("/admin/oauth/client/add/", client_form())
    assert response.status_code == 200, response.content.decode()[:2000]
    assert "no-store" in response["Cache-Control"]
    secret = shown_once(response, "client-secret")
    client = Client.objects.get(name="Console app")
    assert secret in response.content.decode() and len(secret) >= 32
    assert client.client_secret != secret  # stored hashed
    assert client.grant_types == "authorization_code refresh_token"
    assert client.redirect_uris == "https://app.example.com/cb http://127.0.0.1:8080/cb"
    assert client.allowed_scopes == "openid profile"
    assert (client.access_token_lifetime, client.refresh_token_lifetime) == (300, None)
    assert client.audience == "https://api.example.com https://reports.example.com"
    # The secret works, once only shown: the change page never shows it again.
    token = form_post(
        BrowserClient(),
        "/oauth/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    assert token.json()["error"] == "unauthorized_client"  # authenticated: the grant is not allowed
    html = page(staff, f"/admin/oauth/client/{client.pk}/change/")
    assert secret not in html
    assert "https://app.example.com/cb\nhttp://127.0.0.1:8080/cb</textarea>" in html
    assert only(events.CLIENT_CREATED).actor_id is not None


def only(event):
    rows = list(SecurityEvent.objects.filter(event=event))
    assert len(rows) == 1, rows
    return rows[0]


def test_add_public_client_has_no_secret(staff):
    response = staff.post(
        "/admin/oauth/client/add/", client_form(name="SPA", client_type="public", access_token_lifetime="")
    )
    assert response.status_code == 302  # to the list: no secret page
    client = Client.objects.get(name="SPA")
    assert client.client_type == "public"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"redirect_uris": "https://app.example.com/cb\nhttp://evil.example/cb"}, "redirect_uris"),
        ({"redirect_uris": "https://app.example.com/*"}, "redirect_uris"),
        ({"redirect_uris": "https://app.example.com/cb#x"}, "redirect_uris"),
        ({"grant_types": []}, "grant_types"),
        ({"grant_types": ["implicit"]}, "grant_types"),
        ({"allowed_scopes": ["nope"]}, "allowed_scopes"),
        ({"access_token_lifetime": "5"}, "access_token_lifetime"),
        ({"audience": "not a uri"}, "audience"),
        ({"client_type": "public", "grant_types": ["client_credentials"]}, "grant_types"),
    ],
)
def test_client_form_refuses_what_the_model_refuses(staff, overrides, field):
    response = staff.post("/admin/oauth/client/add/", client_form(**overrides))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors, response.context["adminform"].form.errors
    assert not Client.objects.filter(name="Console app").exists()


def test_rotate_secret_button_shows_the_new_secret_once(staff, confidential, operator):
    client, old_secret = confidential
    html = page(staff, f"/admin/oauth/client/{client.pk}/change/")
    assert f'action="/admin/oauth/client/{client.pk}/rotate-secret/"' in html
    assert staff.get(f"/admin/oauth/client/{client.pk}/rotate-secret/").status_code == 405  # POST only
    response = staff.post(f"/admin/oauth/client/{client.pk}/rotate-secret/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = shown_once(response, "client-secret")
    assert secret in response.content.decode() and secret != old_secret
    auth = {"grant_type": "client_credentials"}
    old = form_post(BrowserClient(), "/oauth/token/", auth, HTTP_AUTHORIZATION=basic(client.client_id, old_secret))
    assert old.status_code == 401
    new = form_post(BrowserClient(), "/oauth/token/", auth, HTTP_AUTHORIZATION=basic(client.client_id, secret))
    assert new.json()["error"] == "unauthorized_client"  # authenticated
    row = only(events.CLIENT_SECRET_ROTATED)
    assert row.actor_id == operator.pk and row.client_id == client.client_id
    assert secret not in page(staff, f"/admin/oauth/client/{client.pk}/change/")


def test_rotate_secret_needs_the_change_permission(confidential, make_user):
    client, _ = confidential
    viewer = make_user(username="viewer", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_client"))
    browser = BrowserClient()
    browser.force_login(viewer)
    html = page(browser, f"/admin/oauth/client/{client.pk}/change/")
    assert "rotate-secret" not in html
    assert browser.post(f"/admin/oauth/client/{client.pk}/rotate-secret/").status_code == 403
    assert not SecurityEvent.objects.filter(event=events.CLIENT_SECRET_ROTATED).exists()


def test_public_client_has_no_rotate_button(staff, public):
    assert "rotate-secret" not in page(staff, f"/admin/oauth/client/{public.pk}/change/")
    response = staff.post(f"/admin/oauth/client/{public.pk}/rotate-secret/")
    assert response.status_code == 302


def test_edit_client_keeps_its_secret_and_type(staff, confidential):
    client, secret = confidential
    html = page(staff, f"/admin/oauth/client/{client.pk}/change/")
    assert 'name="client_type"' not in html  # chosen once
    response = staff.post(
        f"/admin/oauth/client/{client.pk}/change/",
        client_form(name="Renamed", client_type=None, redirect_uris=client.redirect_uris, audience=""),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    client.refresh_from_db()
    assert client.name == "Renamed" and client.access_token_lifetime == 300 and client.audience == ""
    auth = {"grant_type": "client_credentials"}
    ok = form_post(BrowserClient(), "/oauth/token/", auth, HTTP_AUTHORIZATION=basic(client.client_id, secret))
    assert ok.json()["error"] == "unauthorized_client"  # the secret still authenticates


# --- users ----------------------------------------------------------------------------------


def test_user_page_shows_roles_devices_sessions_and_connected_apps(staff, issued, user):
    rbac_flows.seed_default_roles()
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    codes = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    codes.token_set.create(token="abcd1234")
    html = page(staff, f"/admin/accounts/user/{user.pk}/change/")
    for heading in ("Roles", "Authenticator app", "Recovery code set", "SSO sessions", "Connected apps"):
        assert heading.lower() in html.lower(), heading
    assert "abcd1234" not in html  # the recovery code itself never
    assert "Test app" in html  # the connected app
    for label in ("Log out everywhere", "Disable account", "Remove two-factor"):
        assert f">{label}</button>" in html, label


def buttons(html):
    return dict(
        re.findall(r'<form method="post" action="([^"]+)" class="object-button">.*?<button type="submit">([^<]+)', html)
    )


def test_log_out_everywhere_button(staff, issued, user, flow, operator):
    html = page(staff, f"/admin/accounts/user/{user.pk}/change/")
    url = next(u for u, label in buttons(html).items() if label == "Log out everywhere")
    assert staff.get(url).status_code == 405
    response = staff.post(url, follow=True)
    assert response.status_code == 200
    assert "logged out everywhere" in response.content.decode()
    assert not SSOSession.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert flow.browser.get("/api/me").status_code in (401, 403)  # the user's browser is anonymous
    intro = form_post(
        BrowserClient(),
        "/oauth/introspect/",
        {"token": issued["access_token"]},
        HTTP_AUTHORIZATION=basic(flow.client.client_id, flow.secret),
    )
    assert intro.json() == {"active": False}
    row = only(events.LOGOUT_EVERYWHERE)
    assert (row.actor_id, row.subject_id) == (operator.pk, user.pk)


def test_disable_and_enable_buttons(staff, user, operator):
    html = page(staff, f"/admin/accounts/user/{user.pk}/change/")
    disable = next(u for u, label in buttons(html).items() if label == "Disable account")
    staff.post(disable)
    user.refresh_from_db()
    assert not user.is_active
    assert only(events.USER_DISABLED).actor_id == operator.pk
    html = page(staff, f"/admin/accounts/user/{user.pk}/change/")
    assert "Disable account" not in html
    enable = next(u for u, label in buttons(html).items() if label == "Enable account")
    assert staff.post(disable).status_code == 403  # not offered to a disabled user
    staff.post(enable)
    user.refresh_from_db()
    assert user.is_active and only(events.USER_ENABLED).actor_id == operator.pk


def test_unticking_active_on_the_form_goes_through_the_flow(staff, user, operator):
    html = page(staff, f"/admin/accounts/user/{user.pk}/change/")
    assert 'name="is_active"' in html
    data = {
        "username": user.username,
        "email": user.email,
        "is_staff": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "first_name": "Ada",
    }
    inline = _inline_management(html)
    response = staff.post(f"/admin/accounts/user/{user.pk}/change/", {**data, **inline})
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert not user.is_active and user.first_name == "Ada"
    assert only(events.USER_DISABLED).actor_id == operator.pk


def _inline_management(html):
    """The management-form fields of every inline formset on a page (their current values)."""
    management = r'<input type="hidden" name="([\w-]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)" value="(\d*)"'
    return dict(re.findall(management, html))


def test_remove_two_factor_button(staff, user, operator):
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    html = page(staff, f"/admin/accounts/user/{user.pk}/change/")
    url = next(u for u, label in buttons(html).items() if label == "Remove two-factor")
    staff.post(url)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert only(events.MFA_DISABLED).actor_id == operator.pk
    assert "Remove two-factor" not in page(staff, f"/admin/accounts/user/{user.pk}/change/")


def test_unknown_button_or_user_is_404(staff, user):
    assert staff.post(f"/admin/accounts/user/{user.pk}/do/nope/").status_code == 404
    assert staff.post("/admin/accounts/user/999999/do/disable/").status_code == 404


def test_the_user_admin_is_registered_once_by_accounts():
    from accounts.admin import UserAdmin
    from accounts.models import User

    assert type(admin.site._registry[User]) is UserAdmin


def test_flow_client_still_works_for_users_list(staff, make_user):
    for i in range(3):
        make_user(username=f"person{i}")
    html = page(staff, "/admin/accounts/user/?q=person")
    assert "person2" in html


def test_a_flow_with_a_tuned_client_from_the_admin(staff, user):
    response = staff.post(
        "/admin/oauth/client/add/",
        client_form(name="Tuned", audience="https://api.example.com", access_token_lifetime="240"),
    )
    client = Client.objects.get(name="Tuned")
    flow = Flow(user, client, shown_once(response, "client-secret"), redirect_uri="https://app.example.com/cb")
    assert flow.tokens()["expires_in"] == 240
