"""Signing in to an app, in Chromium: login named for the app, consent, the redirect back."""

import html
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import requests

from conftest import PASSWORD
from oauth import flows
from oauth.models import Client
from tests.browser.relying_party import RelyingParty
from tests.e2e.live.support import one_shot


def test_log_in_consent_and_get_tokens(browser, rp, user):
    browser.goto(rp.authorization_url())
    # The login page names the app, with its logo and links.
    assert browser.heading() == "Log in"
    assert "Log in to continue to Acme Notes" in browser.page.inner_text("main")
    assert browser.page.get_by_role("link", name="Privacy policy").get_attribute("href") == rp.client.policy_uri
    logo = browser.page.locator(".client img")
    assert logo.evaluate("img => img.complete && img.naturalWidth > 0"), "the client's logo did not load"
    browser.login(user.username, check="login-for-client")

    assert browser.heading() == "Allow Acme Notes to use your account?"
    browser.check("consent")
    browser.click("Allow")

    assert browser.page.url.startswith(rp.redirect_uri + "?")
    query = browser.query()
    assert query["state"] == rp.state
    assert query["iss"] == rp.issuer
    tokens = rp.redeem(query["code"])
    assert {"access_token", "refresh_token", "id_token"} <= set(tokens)
    me = rp.me(tokens["access_token"])
    assert me.status_code == 200 and me.json()["sub"] == user.subject


def test_deny_sends_access_denied_back(browser, rp, user):
    browser.goto(rp.authorization_url())
    browser.login(user.username)
    browser.click("Deny")
    query = browser.query()
    assert browser.page.url.startswith(rp.redirect_uri + "?")
    assert query["error"] == "access_denied"
    assert query["state"] == rp.state
    assert query["iss"] == rp.issuer
    assert "code" not in query


def test_wrong_password_is_announced_and_the_app_still_named(browser, rp, user):
    browser.goto(rp.authorization_url())
    browser.login(user.username, "not the password")
    alert = browser.page.get_by_role("alert")
    assert "correct username and password" in alert.inner_text()
    assert "Log in to continue to Acme Notes" in browser.page.inner_text("main")
    browser.check("login-error")
    browser.login(user.username, PASSWORD)
    assert browser.heading() == "Allow Acme Notes to use your account?"


def test_unknown_client_is_an_error_page_before_any_login(browser, rp):
    url = rp.authorization_url().replace(f"client_id={rp.client.client_id}", "client_id=no-such-client")
    response = browser.goto(url)
    assert response.status == 400
    assert browser.heading() == "This sign-in request cannot be completed"
    assert "/accounts/login/" not in browser.page.url
    browser.check("error-unknown-client")


def test_unregistered_redirect_uri_is_an_error_page_and_never_a_redirect(browser, rp):
    url = rp.authorization_url(redirect_uri="https://evil.example/callback")
    response = browser.goto(url)
    assert response.status == 400
    assert browser.page.url.startswith(rp.issuer + "/oauth/authorize/")
    assert browser.heading() == "This sign-in request cannot be completed"
    browser.check("error-redirect-uri")


def test_a_signed_in_person_goes_straight_to_consent(browser, rp, user):
    browser.goto("/accounts/login/")
    browser.login(user.username)
    browser.goto(rp.authorization_url())
    assert browser.heading() == "Allow Acme Notes to use your account?"


def test_an_authorization_request_posted_by_the_apps_page_reaches_consent(browser, rp, user):
    # OpenID Connect Core 3.1.2.1: the relying party may POST the request (form serialization)
    # from its own page, on another site: no CSRF token, and a cross-site POST carries no
    # SameSite=Lax session cookie. The person, already signed in, still reaches consent.
    browser.goto("/accounts/login/")
    browser.login(user.username)
    params = parse_qsl(urlsplit(rp.authorization_url()).query)
    fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params)
    start = (
        '<!doctype html><html lang="en"><title>Acme Notes</title><main>'
        f'<form method="post" action="{rp.issuer}/oauth/authorize/">{fields}<button>Sign in</button></form></main>'
    )
    rp_page = "http://notes.example/start"
    browser.other_origins.add("http://notes.example")
    browser.page.route(rp_page, lambda route: route.fulfill(status=200, content_type="text/html", body=start))
    browser.page.goto(rp_page)
    browser.page.get_by_role("button", name="Sign in").click()
    browser.page.wait_for_load_state()
    assert browser.heading() == "Allow Acme Notes to use your account?"
    browser.click("Allow")
    query = browser.query()
    assert query["state"] == rp.state
    assert "access_token" in rp.redeem(query["code"])


def test_an_app_that_registered_itself_is_marked_on_the_consent_page(browser, issuer, app_server, user, settings):
    """Client registration (RFC 7591): the app registers over HTTP with an initial access token,
    then signs the person in; the consent page says its name and logo are its own claims."""

    settings.CLIENT_REGISTRATION = "token"
    _, initial_token = flows.issue_initial_access_token(expires_in=timedelta(hours=1))
    with one_shot(requests.Session()) as http:
        response = http.post(
            f"{issuer}/oauth/register/",
            json={"client_name": "Acme Notes", "redirect_uris": [app_server.redirect_uri], "scope": "openid profile"},
            headers={"Authorization": f"Bearer {initial_token}"},
            timeout=10,
        )
    assert response.status_code == 201, response.text
    registered = response.json()
    client = Client.objects.get(client_id=registered["client_id"])
    rp = RelyingParty(issuer, client, registered["client_secret"], redirect_uri=app_server.redirect_uri)

    browser.goto(rp.authorization_url(scope="openid profile"))
    browser.login(user.username)
    assert browser.heading() == "Allow Acme Notes to use your account?"
    assert "This app registered itself" in browser.page.inner_text("main")
    browser.check("consent-self-registered")
    browser.click("Allow")
    tokens = rp.redeem(browser.query()["code"])
    assert rp.me(tokens["access_token"]).status_code == 200
