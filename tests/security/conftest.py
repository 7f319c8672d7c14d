"""The attack suite (issue 15): black-box attacks on a production-like server — gunicorn,
DEBUG=false, a PostgreSQL and a Redis of its own (tests/faults/services.py), mail written to
files — over HTTP only. Nothing here imports the server's code to decide an outcome: what the
attacker can see on the wire is what the tests assert.

Each test cites its source with `@pytest.mark.attack(source, case)`: a line of
../shared/SECURITY.md ("SECURITY.md"), an RFC ("RFC 9700", "RFC 6749", "RFC 6819", "RFC 7636",
"RFC 9068", ...), "OIDC Core" or "OWASP ASVS", and the section or line it checks. Every test in
this folder is also marked `security`, so `pytest -m security` (what `make security` runs) selects
it with the fuzzing and fault folders.

One world for the whole folder, started once (initdb, migrations, seed, gunicorn: ~15 s). Each
test takes fresh users (`security.new_user()`), so that what one attack locks or revokes does not
change what another sees.
"""

import tempfile
from pathlib import Path

import pytest

from conftest import REQUIRE_SERVICES
from tests.faults import services
from tests.faults.flows import Browser, OAuthClient

# Short windows, so that "refused at once" and "locked out" are measured in seconds.
LOGIN_FAILURE_LIMIT = 5


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.security)
            if item.get_closest_marker("attack") is None:
                raise pytest.UsageError(f"{item.nodeid}: every attack test cites its source with @pytest.mark.attack")


@pytest.fixture(scope="session")
def security(tmp_path_factory):
    missing = services.missing_binaries()
    if missing:
        reason = f"the attack suite needs {', '.join(missing)} (apt-get install postgresql redis-server)"
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
    """The server under attack and what the seed made in it (seed.py prints it as JSON)."""

    def __init__(self):
        self.pg = services.PrivatePostgres()
        self.redis = services.PrivateRedis()
        self.mail_dir = Path(tempfile.mkdtemp(prefix="identity-security-mail-"))
        self.server = None
        self._next_user = 0

    def start(self):
        self.server, self.data = services.seeded_server(
            self.pg,
            self.redis,
            "tests.security.seed",
            # django-environ drops the first slash of a filemail path: four make it absolute.
            EMAIL_URL=f"filemail:///{self.mail_dir}",
            CLIENT_REGISTRATION="token",
            LOGIN_FAILURE_LIMIT=str(LOGIN_FAILURE_LIMIT),
        )
        self.server.start()

    @property
    def url(self):
        return self.server.url

    def new_user(self):
        """The username of a user no other test has touched (password: conftest.PASSWORD)."""
        username = self.data["users"][self._next_user]
        self._next_user += 1
        return username

    def browser(self, username=None):
        """A logged-in browser (requests with cookies) of a fresh user, or of `username`."""
        return Browser(self.url).login(username or self.new_user())

    def anonymous(self):
        return Browser(self.url)

    def client(self, name="web"):
        """A confidential client of the seed by name (see seed.py): an OAuthClient."""
        data = self.data["clients"][name]
        return OAuthClient(self.url, data["client_id"], data.get("secret"))

    def mails(self):
        """The text of every message the server has sent, oldest first."""
        paths = sorted(self.mail_dir.glob("*"), key=lambda path: path.stat().st_mtime)
        return [path.read_text(errors="replace") for path in paths]

    def sql(self, query, params=()):
        """Read the server's database: for asserting that nothing was half-written, never to
        decide what an attacker could do."""
        with self.pg.connect() as conn:
            return conn.execute(query, params).fetchall()

    def log_text(self):
        return self.server.log_text()

    def destroy(self):
        for part in (self.server, self.redis, self.pg):
            if part is not None:
                part.destroy()
        import shutil

        shutil.rmtree(self.mail_dir, ignore_errors=True)
