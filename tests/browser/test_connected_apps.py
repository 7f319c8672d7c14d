"""Remembered consent, the connected apps page and the sessions page, in Chromium.

A person allows an app (its logo loaded from the app's own origin), is not asked again the
next time, finds the app on the connected apps page and on the sessions page, revokes its
access (its token is refused at once), and is asked again on the next sign-in.
"""

import http.server
import re
import secrets
import threading
from urllib.parse import urlencode

import pytest
import requests

from conftest import PASSWORD
from oauth import pkce
from sso import devices

APP_ORIGIN = "https://photos.example"
LOGO_ORIGIN = "https://cdn.photos.example"
LOGO_URI = f"{LOGO_ORIGIN}/logo.svg"
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
    '<rect width="64" height="64" rx="14" fill="#e85d3f"/><circle cx="32" cy="34" r="13" fill="#fff"/>'
    '<circle cx="32" cy="34" r="7" fill="#e85d3f"/><rect x="18" y="16" width="12" height="6" rx="2" fill="#fff"/></svg>'
)
CHROME_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.0.0 Safari/537.36"


class _AppPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><html lang=en><title>Photo Album</title><h1>Photo Album</h1></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def redirect_uri():
    """The app's redirect URI, answered by a small server on loopback. (Playwright's routes
    never see the request a redirect leads to, so `Tab.serve` cannot answer an authorization
    response: the browser would try to resolve the app's host.)"""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AppPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def photo_app(make_client, redirect_uri):
    return make_client(
        name="Photo Album",
        redirect_uris=[redirect_uri],
        scopes="openid profile email",
        logo_uri=LOGO_URI,
        client_uri=f"{APP_ORIGIN}/",
        policy_uri=f"{APP_ORIGIN}/privacy",
        tos_uri=f"{APP_ORIGIN}/terms",
    )


def with_app(tab, redirect_uri):
    """The browser may visit the app's redirect URI and load its logo (answered here as the
    app's CDN would)."""
    tab.other_origins.add(redirect_uri.rpartition("/callback")[0])
    tab.other_origins.add(LOGO_ORIGIN)
    tab.context.route(LOGO_URI, lambda route: route.fulfill(status=200, content_type="image/svg+xml", body=LOGO))
    return tab


def start_authorization(tab, client, redirect_uri, scope="openid profile"):
    """Open the authorization request as the app would send the browser; returns (state, verifier)."""
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "code_challenge": pkce.s256(verifier),
        "code_challenge_method": "S256",
    }
    tab.goto("/oauth/authorize/?" + urlencode(params))
    tab.page.wait_for_load_state()
    return state, verifier


def assert_back_at_the_app(tab, redirect_uri, state, issuer):
    assert tab.page.url.startswith(redirect_uri + "?"), tab.page.url
    query = tab.query()
    assert query["code"] and query["state"] == state and query["iss"] == issuer
    return query["code"]


def redeem(issuer, pair, redirect_uri, code, verifier):
    client, secret = pair
    response = requests.post(
        f"{issuer}/oauth/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(client.client_id, secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def api_me(issuer, access_token):
    return requests.get(f"{issuer}/api/me", headers={"Authorization": f"Bearer {access_token}"}, timeout=10)


def test_consent_is_remembered_listed_and_revoked(browser, issuer, photo_app, redirect_uri, user):
    tab = with_app(browser, redirect_uri)
    client = photo_app[0]

    # First sign-in: log in, then the consent page with the app's logo and links.
    state, verifier = start_authorization(tab, client, redirect_uri)
    tab.login(user.username, check="login")
    assert tab.heading() == "Allow Photo Album to use your account?"
    assert tab.page.locator(".client img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert tab.page.get_by_role("link", name="Privacy policy").get_attribute("href") == f"{APP_ORIGIN}/privacy"
    tab.check("consent")
    tab.click("Allow")
    tokens = redeem(issuer, photo_app, redirect_uri, assert_back_at_the_app(tab, redirect_uri, state, issuer), verifier)
    assert api_me(issuer, tokens["access_token"]).status_code == 200

    # Second sign-in: no consent page, straight back to the app.
    state, _ = start_authorization(tab, client, redirect_uri, scope="openid")
    assert_back_at_the_app(tab, redirect_uri, state, issuer)

    # A new scope: asked again, with what was allowed before marked.
    start_authorization(tab, client, redirect_uri, scope="openid profile email")
    assert tab.heading() == "Allow Photo Album to use your account?"
    assert tab.page.locator(".tag", has_text="already allowed").count() == 2
    assert tab.page.locator(".tag", has_text="new").count() == 1
    tab.check("consent-more-scopes")
    tab.click("Deny")
    assert tab.query()["error"] == "access_denied"

    # The sessions page: this browser, its device as ua-parser names it, and the app it used.
    tab.goto("/accounts/sessions/")
    user_agent = tab.page.evaluate("navigator.userAgent")
    device = devices.describe(user_agent)
    assert device == "HeadlessChrome on Linux"  # what Playwright's headless Chromium says it is
    card = tab.page.locator("li.card.current")
    assert device in card.locator("h2").inner_text()
    assert "Photo Album" in card.inner_text()
    tab.check("sessions")

    # The connected apps page lists it; Revoke access ends its token at once.
    tab.goto("/accounts/apps/")
    assert tab.heading() == "Connected apps"
    app = tab.page.locator("li.card.app")
    assert app.count() == 1
    assert "Photo Album" in app.inner_text()
    assert "Sign you in with your account (OpenID Connect)" in app.inner_text()
    assert "See your email address" not in app.inner_text()  # denied: not allowed
    tab.check("connected-apps")
    tab.click("Revoke access", exact=False)
    assert tab.page.get_by_role("status").inner_text() == "Photo Album no longer has access to your account."
    assert tab.page.get_by_text("No apps are connected to your account.").is_visible()
    tab.check("connected-apps-revoked")
    assert api_me(issuer, tokens["access_token"]).status_code == 401

    # The next sign-in asks again.
    start_authorization(tab, client, redirect_uri)
    assert tab.heading() == "Allow Photo Album to use your account?"
    assert tab.page.locator(".tag").count() == 0


@pytest.fixture
def chrome(chromium, issuer, request):
    """A browser that says what a desktop Chrome on Linux says (the same Chromium, without the
    "Headless" in its User-Agent)."""
    from . import pages

    major = chromium.version.split(".")[0]
    context = chromium.new_context(
        base_url=issuer, viewport={"width": 1280, "height": 800}, user_agent=CHROME_ON_LINUX.format(major)
    )
    context.set_default_timeout(10_000)
    tab = pages.Tab(context, issuer, name=re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-"))
    yield tab
    context.close()
    tab.assert_clean()


def test_the_sessions_page_says_chrome_on_linux(chrome, second_browser, user):
    second_browser.goto("/accounts/login/")
    second_browser.login(user.username, PASSWORD)  # another device: HeadlessChrome
    chrome.goto("/accounts/login/")
    chrome.login(user.username, PASSWORD)
    chrome.goto("/accounts/sessions/")
    current = chrome.page.locator("li.card.current h2").inner_text()
    assert current.startswith("Chrome on Linux")
    other = chrome.page.locator("li.card:not(.current) h2").inner_text()
    assert other == "HeadlessChrome on Linux"
    chrome.check("sessions-chrome-on-linux")
    chrome.page.locator("li.card:not(.current)").get_by_role("button", name="End session").click()
    chrome.page.wait_for_load_state()
    assert chrome.page.locator("li.card").count() == 1
