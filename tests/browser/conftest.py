"""The browser suite: Debian's Chromium, driven by Playwright, against the live server.

A browser sends what no test client does (`Origin` and `Sec-Fetch-*` headers, cookies with
SameSite, the referrer policy applied to every navigation), so every page is tested here as a
person uses it: clicking and typing. Each page checked with `pages.check` is saved as a
full-page screenshot under var/screenshots/, and must pass axe-core's accessibility rules
(no serious or critical violation), log no console error (a CSP violation is one), and load
nothing from another origin.

Chromium is /usr/bin/chromium (CHROMIUM_PATH to change it; `playwright install` cannot
download browsers on our machines). Without it, or without axe-core (tests/browser/
node_modules, installed by `make test` when npm exists), the suite skips with a message, except
under IDENTITY_REQUIRE_BROWSER=1 or IDENTITY_REQUIRE_SERVICES=1 (CI), where that is a failure.
"""

import os
import re

import pytest

from . import pages
from .relying_party import AppServer, RelyingParty

# Playwright's sync API runs an asyncio loop in this thread; Django would then refuse every
# ORM call made by the tests themselves (they are synchronous, so it is safe).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REQUIRE_BROWSER = "1" in (os.environ.get("IDENTITY_REQUIRE_BROWSER"), os.environ.get("IDENTITY_REQUIRE_SERVICES"))
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach Google's hosts,
# which these machines' closed network refuses.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(reason):
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason}, but IDENTITY_REQUIRE_BROWSER=1 says the browser suite must run")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def chromium():
    if not os.path.exists(CHROMIUM):
        _unavailable(f"needs Chromium at {CHROMIUM} (apt-get install chromium; CHROMIUM_PATH to change it)")
    if not os.path.exists(pages.AXE_PATH):
        _unavailable(f"needs axe-core at {pages.AXE_PATH} (npm ci --prefix tests/browser)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("needs Playwright for Python (requirements/dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _live_server_hygiene(live_server_hygiene):
    """As in tests/e2e/live: no persistent database connections in the server's threads, and
    each test waits for them to finish before the database is flushed."""


@pytest.fixture
def issuer(live_server, settings):
    """The live server's URL, made the issuer (and its /api the audience) for this test."""
    url = live_server.url.rstrip("/")
    settings.ISSUER = url
    settings.ACCESS_TOKEN_AUDIENCE = f"{url}/api"
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": url}
    return url


@pytest.fixture
def browser(chromium, issuer, request):
    """A fresh browser profile (cookies, storage) for one person, with a page open."""
    context = chromium.new_context(base_url=issuer, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    tab = pages.Tab(context, issuer, name=_test_name(request))
    yield tab
    context.close()
    tab.assert_clean()


@pytest.fixture
def second_browser(chromium, issuer, request):
    """Another browser (another device) of the same or another person."""
    context = chromium.new_context(base_url=issuer, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    tab = pages.Tab(context, issuer, name=_test_name(request) + "-second")
    yield tab
    context.close()
    tab.assert_clean()


def _test_name(request):
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")


@pytest.fixture
def app_server(browser):
    """The web server of the test's client app, on a free port; the browser may go there."""
    server = AppServer("Acme Notes")
    browser.other_origins.add(server.origin)
    yield server
    server.stop()


@pytest.fixture
def web_app(make_client, issuer, app_server):
    """A confidential web app whose redirect URIs `app_server` answers: (client, secret). Its
    logo is served by us, its links are placeholders."""
    return make_client(
        name="Acme Notes",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[app_server.redirect_uri],
        post_logout_redirect_uris=[app_server.post_logout_uri],
        logo_uri=f"{issuer}/static/favicon.svg",
        client_uri="https://notes.example.com/",
        policy_uri="https://notes.example.com/privacy",
    )


@pytest.fixture
def rp(issuer, web_app, app_server):
    """The web app's back channel (authorization URLs, code redemption)."""
    client, secret = web_app
    return RelyingParty(issuer, client, secret, redirect_uri=app_server.redirect_uri)
