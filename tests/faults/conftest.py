"""Fault injection (issue 15): the server under test runs as production does (gunicorn,
DEBUG=false) on a PostgreSQL and a Redis of its own, which the tests stop, slow down, empty
and roll back while it serves (services.py). They need only the PostgreSQL server binaries and
redis-server, not DATABASE_URL or REDIS_URL: they run the same wherever `make test` runs (CI runs them once, in
`make security`).

One world for the whole folder, started once (initdb, migrations, gunicorn: ~15 s); each test
uses its own users, so that what one test revokes does not change what another sees.

Every test here is marked `security` (`make security` runs them with the attack suite and the
fuzzing; each is one fault scenario in its figures, tests/security/figures.py).
"""

import http.server
import json
import threading
import time
from pathlib import Path

import pytest

from conftest import REQUIRE_SERVICES

from . import services
from .flows import Browser, OAuthClient

# The server's knobs for these scenarios: short windows, so that "at most this long" is
# measured in seconds.
REVOCATION_WINDOW_SECONDS = 8
STATEMENT_TIMEOUT_MS = 3000
BACKCHANNEL_TIMEOUT_SECONDS = 4


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.security)


@pytest.fixture(scope="session")
def faults(tmp_path_factory):
    missing = services.missing_binaries()
    if missing:
        reason = f"fault injection needs {', '.join(missing)} (apt-get install postgresql redis-server)"
        if REQUIRE_SERVICES:
            pytest.fail(reason)
        pytest.skip(reason)
    world = World()
    try:
        world.start()
        yield world
    finally:
        world.destroy()


class World:
    def __init__(self):
        self.pg = services.PrivatePostgres()
        self.redis = services.PrivateRedis()
        self.hanging = HangingReceiver()
        self.receiver = RecordingReceiver()
        self.server = None
        self._next_user = 0

    def start(self):
        options = {"backchannel": {"hanging": self.hanging.url, "good": self.receiver.url}}
        self.server, self.data = services.seeded_server(
            self.pg,
            self.redis,
            "tests.faults.seed",
            json.dumps(options),
            DATABASE_STATEMENT_TIMEOUT_MS=str(STATEMENT_TIMEOUT_MS),
            SSO_REVOCATION_CACHE_SECONDS=str(REVOCATION_WINDOW_SECONDS),
            BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS=str(BACKCHANNEL_TIMEOUT_SECONDS),
        )
        self.server.start()

    @property
    def url(self):
        return self.server.url

    def new_user(self):
        """A user no other test has touched."""
        username = self.data["users"][self._next_user]
        self._next_user += 1
        return username

    def browser(self, username=None):
        return Browser(self.url).login(username or self.new_user())

    def client(self, name="web"):
        data = self.data["web"] if name == "web" else self.data["backchannel"][name]
        return OAuthClient(self.url, data["client_id"], data["secret"])

    def sql(self, query, params=()):
        with self.pg.connect() as conn:
            return conn.execute(query, params).fetchall()

    def destroy(self):
        for part in (self.server, self.redis, self.pg):
            if part is not None:
                part.destroy()
        self.hanging.stop()
        self.receiver.stop()


# --- Back-channel logout receivers ------------------------------------------------------------


class HangingReceiver:
    """Accepts connections and never answers: a relying party that hangs."""

    def __init__(self):
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/backchannel-logout"
        self.accepted = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # stopped
            self.accepted.append((time.monotonic(), conn))  # held open, never answered

    def stop(self):
        self.sock.close()
        for _, conn in self.accepted:
            conn.close()


class RecordingReceiver:
    """Answers 200 and records each logout token it receives, with the time it arrived."""

    def __init__(self):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's spelling)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                received.append((time.monotonic(), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/backchannel-logout"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
