"""The examples a new user runs (examples/), each driven through a whole visit in Chromium:
sign in at identity, land on the example's "Signed in as …", log out through identity
(RP-initiated logout) and come back. The examples run as their make targets run them:
subprocesses on free loopback ports, configured only with the live server's issuer and a
client registered for their port.

Our pages on the way (login, consent) and the examples' own pages are checked like every page
of the suite: axe-core, the 390 px phone width, no console error (a refused CORS call of the
single-page app would log one), nothing loaded from an origin not expected.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from oauth.models import AccessToken, RefreshToken

ROOT = Path(__file__).resolve().parents[2]
# Only what a process needs: not the test run's DJANGO_SETTINGS_MODULE or DATABASE_URL.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Example:
    """An example's server on `port`, started as its make target starts it."""

    def __init__(self, script, port, *args, log):
        self.origin = f"http://127.0.0.1:{port}"
        self.log = log
        env = {name: os.environ[name] for name in INHERITED if name in os.environ}
        with log.open("w") as out:
            self.process = subprocess.Popen(  # noqa: S603 (our own script)
                [sys.executable, str(ROOT / script), "--port", str(port), *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._wait()

    def _wait(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the example stopped ({self.process.returncode}):\n{self.log.read_text()}")
            try:
                if requests.get(f"{self.origin}/", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        pytest.fail(f"the example did not answer within 60 s:\n{self.log.read_text()}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def start_example(browser, tmp_path):
    """start_example(script, port, *args): the example's server, stopped after the test."""
    started = []

    def start(script, port, *args):
        server = Example(script, port, *args, log=tmp_path / f"{Path(script).parent.name}.log")
        started.append(server)
        browser.other_origins.add(server.origin)
        return server

    yield start
    for server in started:
        server.stop()


def sign_in_at_identity(browser, user):
    """On identity's login page: log in, then allow the app on the consent page."""
    assert "/accounts/login/" in browser.page.url, browser.page.url
    browser.login(user.username, check="login")
    assert "/oauth/authorize/" in browser.page.url, browser.page.url
    browser.check("consent")
    browser.click("Allow")


def live_tokens(user, client):
    return (
        AccessToken.objects.filter(user=user, application=client).count(),
        RefreshToken.objects.filter(user=user, application=client, revoked__isnull=True).count(),
    )


def test_relying_party_example_signs_in_and_out(browser, start_example, make_client, issuer, user, tmp_path):
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    client, _ = make_client(
        name="Example website",
        public=True,
        redirect_uris=[f"{origin}/callback"],
        post_logout_redirect_uris=[f"{origin}/"],
    )
    start_example(
        "examples/rp/run.py", port, "--issuer", issuer, "--client-id", client.client_id,
        "--database", str(tmp_path / "rp.sqlite3"),
    )  # fmt: skip

    browser.goto(f"{origin}/")
    assert browser.heading() == "You are not signed in"
    browser.check("rp-signed-out")
    browser.click("Sign in with identity", role="link")
    sign_in_at_identity(browser, user)

    assert browser.page.url == f"{origin}/"
    assert browser.heading() == f"Signed in as {user.username}"
    assert user.subject in browser.page.inner_text("main")
    browser.check("rp-signed-in")
    assert live_tokens(user, client) == (1, 1)

    browser.click("Log out")  # the RP's form, then identity's end_session_endpoint, then back
    assert browser.page.url == f"{origin}/"
    assert browser.heading() == "You are not signed in"
    assert live_tokens(user, client) == (0, 0)  # RP-initiated logout ended the session's tokens
    browser.goto("/accounts/profile/")
    assert "/accounts/login/" in browser.page.url  # logged out of identity too, not only the RP


def test_single_page_app_example_signs_in_calls_the_api_and_signs_out(
    browser, start_example, make_client, issuer, user
):
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    client, _ = make_client(
        name="Example single-page app",
        public=True,
        redirect_uris=[f"{origin}/callback"],
        post_logout_redirect_uris=[f"{origin}/"],
        allowed_origins=[origin],
    )
    start_example("examples/spa/serve.py", port, "--issuer", issuer, "--client-id", client.client_id)

    cross_origin = []
    browser.page.on(
        "response",
        lambda response: (
            cross_origin.append(response)
            if response.url.startswith(issuer) and response.request.resource_type == "fetch"
            else None
        ),
    )
    browser.goto(f"{origin}/")
    signed_out = browser.page.get_by_role("heading", name="You are not signed in")
    signed_out.wait_for()
    browser.check("spa-signed-out")
    browser.click("Sign in with identity")
    sign_in_at_identity(browser, user)

    browser.page.get_by_role("heading", name=f"Signed in as {user.username}").wait_for()
    assert browser.page.url == f"{origin}/"  # the code left the address bar
    assert f'"client_id": "{client.client_id}"' in browser.page.inner_text("main pre")
    browser.check("spa-signed-in")
    # Discovery, token, JWKS and /api/me were fetched from the app's origin, with CORS.
    fetched = {response.url.split("?")[0]: response for response in cross_origin}
    for path in ("/oauth/token/", "/api/me"):
        response = fetched[f"{issuer}{path}"]
        assert response.status == 200
        assert response.header_value("access-control-allow-origin") == origin
    assert fetched[f"{issuer}/.well-known/openid-configuration"].header_value("access-control-allow-origin") == "*"
    assert live_tokens(user, client) == (1, 1)

    browser.click("Log out")  # revokes the refresh token (CORS), then RP-initiated logout
    browser.page.get_by_role("heading", name="You are signed out").wait_for()
    assert browser.page.url == f"{origin}/"
    assert fetched_revocation(cross_origin, issuer).header_value("access-control-allow-origin") == origin
    assert live_tokens(user, client) == (0, 0)
    browser.check("spa-after-logout")


def fetched_revocation(responses, issuer):
    (revocation,) = [r for r in responses if r.url == f"{issuer}/oauth/revoke/"]
    assert revocation.status == 200
    return revocation


def test_single_page_app_from_an_unregistered_origin_cannot_read_the_token_response(
    browser, start_example, make_client, issuer, user
):
    # The same app, but its client did not register this origin: the browser refuses the
    # token response (CORS), and the app says so instead of signing in.
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    client, _ = make_client(
        name="Unregistered origin",
        public=True,
        redirect_uris=[f"{origin}/callback"],
        allowed_origins=["http://127.0.0.1:1"],
    )
    start_example("examples/spa/serve.py", port, "--issuer", issuer, "--client-id", client.client_id)
    browser.goto(f"{origin}/")
    browser.page.get_by_role("heading", name="You are not signed in").wait_for()
    browser.click("Sign in with identity")
    sign_in_at_identity(browser, user)
    alert = browser.page.get_by_role("alert")
    alert.wait_for()
    assert "Failed to fetch" in alert.inner_text()
    assert browser.heading() == "You are not signed in"
    # Chromium logs the refused CORS read as a console error: that one is this test's point.
    refused = [p for p in browser.problems if "has been blocked by CORS policy" in p]
    assert refused, browser.problems
    browser.problems = [p for p in browser.problems if p not in refused and "net::ERR_FAILED" not in p]


def test_single_page_app_refuses_an_answer_it_did_not_ask_for(browser, start_example, make_client, issuer):
    # A callback this tab started no sign-in for (a forged or replayed link): no token request.
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    client, _ = make_client(
        name="Example single-page app", public=True, redirect_uris=[f"{origin}/callback"], allowed_origins=[origin]
    )
    start_example("examples/spa/serve.py", port, "--issuer", issuer, "--client-id", client.client_id)
    token_requests = []
    browser.page.on("request", lambda r: token_requests.append(r) if r.url == f"{issuer}/oauth/token/" else None)
    browser.goto(f"{origin}/callback?code=stolen&state=guessed&iss={issuer}")
    alert = browser.page.get_by_role("alert")
    alert.wait_for()
    assert "not for this tab (state)" in alert.inner_text()
    assert browser.page.url == f"{origin}/"  # the code left the address bar anyway
    assert token_requests == []
    browser.check("spa-refused-callback")
