"""The connected apps page (/accounts/apps/) and "Revoke access"."""

from datetime import timedelta

import pytest
from django.test import Client as BrowserClient
from django.utils import timezone

from accounts.tests.helpers import csrf_token
from conftest import PASSWORD, Flow
from oauth import connected_apps
from oauth.models import AccessToken, BackchannelLogout, Consent, RefreshToken
from tests.e2e.helpers import client_credentials_token, creds, introspect, me, post_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("password_grant_enabled")]  # legacy apps

PAGE = "/accounts/apps/"


def revoke_url(client):
    return f"/accounts/apps/{client.client_id}/revoke/"


def password_tokens(pair, user, scope="profile read"):
    response = post_token(
        {"grant_type": "password", "username": user.username, "password": PASSWORD, "scope": scope}, auth=creds(pair)
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def legacy(make_client):
    return make_client(name="Legacy app", grant_types=["password", "refresh_token"])


def test_the_page_needs_a_login():
    response = BrowserClient().get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_no_apps(flow):
    response = flow.browser.get(PAGE)
    assert response.status_code == 200
    assert b"No apps are connected to your account." in response.content
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_the_page_lists_consented_apps_and_apps_holding_tokens(flow, legacy, user, make_user, make_client, service):
    flow.tokens(scope="openid profile")
    password_tokens(legacy, user)
    client_credentials_token(service)  # a client's own token: no user's app
    someone = make_user()
    Flow(someone, *make_client(name="Their app")).tokens()  # another user's app
    response = flow.browser.get(PAGE)
    body = response.content.decode()
    assert "Test app" in body and "Legacy app" in body and "Service" not in body and "Their app" not in body
    assert "Sign you in with your account (OpenID Connect)" in body  # consented scopes, described
    assert "Read your data in connected APIs" in body  # the password grant's token scopes
    assert body.count("Revoke access") == 2
    assert revoke_url(flow.client) in body and revoke_url(legacy[0]) in body


def test_first_authorized_and_last_used(flow, user):
    tokens = flow.tokens()
    consent = Consent.objects.get(user=user)
    refreshed = flow.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200
    (app,) = connected_apps.list_apps(user=user)
    assert app.consented and app.first_authorized == consent.created_at
    assert app.last_used == RefreshToken.objects.filter(user=user).latest("created").created
    assert app.last_used > app.first_authorized
    assert app.scopes == (("profile", "See your name, username and profile details"),)


def test_a_trusted_app_is_listed_by_its_tokens(trusted_flow, user):
    trusted_flow.tokens()
    (app,) = connected_apps.list_apps(user=user)
    assert app.trusted and not app.consented
    assert b"Trusted by your organisation" in trusted_flow.browser.get(PAGE).content


@pytest.fixture
def trusted_flow(user, make_client):
    client, secret = make_client(name="Intranet", trusted=True)
    return Flow(user, client, secret)


def test_an_app_whose_tokens_all_ended_is_no_longer_listed_without_consent(legacy, user):
    password_tokens(legacy, user)
    assert [app.client for app in connected_apps.list_apps(user=user)] == [legacy[0]]
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert [app.client for app in connected_apps.list_apps(user=user)] == [legacy[0]]  # the refresh token lives
    RefreshToken.objects.update(revoked=timezone.now())
    assert connected_apps.list_apps(user=user) == []


def test_an_app_with_a_longer_refresh_lifetime_of_its_own_stays_listed(make_client, user, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_EXPIRE_SECONDS": 3600}
    pair = make_client(name="Long", grant_types=["password", "refresh_token"], refresh_token_lifetime=7 * 24 * 3600)
    tokens = password_tokens(pair, user)
    AccessToken.objects.update(expires=timezone.now() - timedelta(days=2))  # past the server's hour
    assert [app.client for app in connected_apps.list_apps(user=user)] == [pair[0]]  # still refreshable:
    refreshed = post_token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=creds(pair))
    assert refreshed.status_code == 200, refreshed.content


def test_the_page_allows_the_apps_logo_origins(make_client, user):
    pair = make_client(name="Photos", logo_uri="https://cdn.photos.example/logo.png")
    flow = Flow(user, pair[0], pair[1])
    flow.tokens()
    response = flow.browser.get(PAGE)
    assert "img-src 'self' https://cdn.photos.example" in response["Content-Security-Policy"]
    assert b'referrerpolicy="no-referrer"' in response.content


# --- Revoke access ----------------------------------------------------------------------------


def test_revoke_ends_the_apps_tokens_at_once_and_forgets_the_consent(
    flow, user, resource_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # issuance tells the fast path (Redis)
        tokens = flow.tokens(scope="openid profile")
    assert me(tokens["access_token"]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = flow.browser.post(revoke_url(flow.client))
    assert response.status_code == 302 and response["Location"] == PAGE
    assert me(tokens["access_token"]).status_code == 401
    assert introspect(tokens["access_token"], creds(resource_server)).json() == {"active": False}
    assert introspect(tokens["refresh_token"], creds(resource_server)).json() == {"active": False}
    assert flow.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert not Consent.objects.exists()
    page = flow.browser.get(PAGE)
    assert b"Test app no longer has access to your account." in page.content
    assert b"No apps are connected" in page.content
    # The next authorization request asks again.
    verifier_params = flow.authorize_params(challenge="x" * 43)
    assert flow.browser.get("/oauth/authorize/", verifier_params).status_code == 200


@pytest.fixture
def resource_server(make_client):
    return make_client(name="API", grant_types=["client_credentials"], can_introspect_any=True)


def test_revoke_leaves_other_apps_and_other_users_alone(
    flow, legacy, user, make_user, django_capture_on_commit_callbacks
):
    mine = flow.tokens()
    someone = make_user()
    theirs = Flow(someone, flow.client, flow.secret).tokens()
    legacy_tokens = password_tokens(legacy, user)
    with django_capture_on_commit_callbacks(execute=True):
        assert flow.browser.post(revoke_url(flow.client)).status_code == 302
    assert me(mine["access_token"]).status_code == 401
    assert me(theirs["access_token"]).status_code == 200
    assert me(legacy_tokens["access_token"]).status_code == 200
    assert list(Consent.objects.values_list("user", flat=True)) == [someone.pk]


def test_revoke_an_app_holding_only_tokens(legacy, user, django_capture_on_commit_callbacks):
    tokens = password_tokens(legacy, user)
    browser = BrowserClient()
    browser.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert browser.post(revoke_url(legacy[0])).status_code == 302
    assert me(tokens["access_token"]).status_code == 401
    assert (
        post_token(
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=creds(legacy)
        ).json()["error"]
        == "invalid_grant"
    )


def test_another_users_app_cannot_be_revoked(confidential, make_user):
    someone = make_user()
    theirs = Flow(someone, *confidential).tokens()
    stranger = BrowserClient()
    stranger.force_login(make_user())
    assert stranger.post(revoke_url(confidential[0])).status_code == 404
    for unknown in ("no-such-client", "%00", "a%00b", "x" * 5000, "%C3%A9", "..%2F.."):
        assert stranger.post(f"/accounts/apps/{unknown}/revoke/").status_code == 404, unknown
    assert me(theirs["access_token"]).status_code == 200
    assert Consent.objects.filter(user=someone).exists()


def test_revoke_needs_post_and_csrf(flow, user, django_capture_on_commit_callbacks):
    tokens = flow.tokens()
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(user)
    page = browser.get(PAGE)
    assert browser.get(revoke_url(flow.client)).status_code == 405
    assert browser.post(revoke_url(flow.client)).status_code == 403
    assert me(tokens["access_token"]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # the fast path (Redis) learns it after the commit
        assert browser.post(revoke_url(flow.client), {"csrfmiddlewaretoken": csrf_token(page)}).status_code == 302
    assert me(tokens["access_token"]).status_code == 401


@pytest.mark.rfc("OIDC-BackChannel", "2.4")
@pytest.mark.parametrize("session_required", [False, True])
def test_revoke_tells_the_app_through_back_channel_logout(make_client, user, session_required):
    pair = make_client(
        name="RP",
        backchannel_logout_uri="https://rp.example/backchannel",
        backchannel_logout_session_required=session_required,
    )
    flow = Flow(user, pair[0], pair[1])
    flow.tokens()
    sid = AccessToken.objects.get().sid
    assert flow.browser.post(revoke_url(pair[0])).status_code == 302
    (row,) = BackchannelLogout.objects.all()
    assert row.client == pair[0] and row.subject == user.subject
    # Without a sid: every session of the user at the app; with one when the app needs it.
    assert row.sid == (sid if session_required else "")


def test_revoke_without_a_back_channel_uri_queues_nothing(flow):
    flow.tokens()
    flow.browser.post(revoke_url(flow.client))
    assert not BackchannelLogout.objects.exists()


@pytest.mark.usefixtures("mfa_not_required")
def test_the_admin_action_revokes_access(flow, admin_client, django_capture_on_commit_callbacks):
    tokens = flow.tokens()
    consent = Consent.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/oauth/consent/", {"action": "revoke_access", "_selected_action": [consent.pk]}, follow=True
        )
    assert response.status_code == 200
    assert not Consent.objects.exists()
    assert me(tokens["access_token"]).status_code == 401


# --- The sessions page names the apps used in each session (oauth's sso.session_apps provider) --


def test_the_sessions_page_lists_the_apps_used_in_each_session(user, make_client):
    photos, notes, legacy = (
        make_client(name="Photos"),
        make_client(name="Notes"),
        make_client(name="Legacy", grant_types=["password"]),
    )
    laptop, phone = Flow(user, *photos), Flow(user, *notes)
    laptop.tokens()
    laptop.client, laptop.secret = notes  # the laptop signs in to Notes as well (a code only)
    laptop.code()
    phone.tokens()
    password_tokens(legacy, user)  # bound to no session
    response = laptop.browser.get("/accounts/sessions/")
    apps = {row.current: row.apps for row in response.context["sessions"]}
    assert apps == {True: ["Notes", "Photos"], False: ["Notes"]}
    assert "Legacy" not in response.content.decode()


def test_clients_by_session_only_answers_for_the_user(user, make_user, confidential):
    laptop = Flow(user, *confidential)
    laptop.tokens()
    sid = AccessToken.objects.get().sid
    assert connected_apps.clients_by_session(user=user, sids=[sid]) == {sid: ["Test app"]}
    assert connected_apps.clients_by_session(user=make_user(), sids=[sid]) == {}
    assert connected_apps.clients_by_session(user=user, sids=[]) == {}
