"""Fixtures for the SSO token suites: devices (browsers with their own SSO session and
tokens), Redis in three states (the sso app's fixtures), and a back-channel logout receiver."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from conftest import Flow
from oauth import backchannel
from sso.flows import SID_SESSION_KEY
from sso.models import SSOSession
from sso.tests.conftest import DEAD_REDIS, CountingRedis, dead_redis, locmem, redis  # noqa: F401  (fixtures)


class Device(Flow):
    """A browser with its own SSO session, driving the authorization code flow."""

    @property
    def sid(self):
        return self.browser.session[SID_SESSION_KEY]

    @property
    def session(self):
        return SSOSession.objects.get(sid=self.sid)


@pytest.fixture
def devices(user, confidential):
    """Two devices of `user` (a laptop and a phone) on the same confidential client."""
    client, secret = confidential
    return Device(user, client, secret), Device(user, client, secret)


class LogoutReceiver:
    """A relying party's back-channel logout endpoint: a tiny HTTP server on 127.0.0.1 that
    records each POST and answers `status`."""

    def __init__(self):
        self.requests = []
        self.status = 200
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                receiver.requests.append(
                    {"path": self.path, "content_type": self.headers.get("Content-Type"), "form": parse_qs(body)}
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.arrived.set()

            def log_message(self, *args):
                pass  # keep the test output clean; the test asserts on what arrived

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def uri(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"

    @property
    def logout_tokens(self):
        return [r["form"]["logout_token"][0] for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    rp = LogoutReceiver()
    yield rp
    rp.close()


@pytest.fixture(autouse=True)
def _no_background_leftovers():
    yield
    backchannel.shutdown(wait=True)
