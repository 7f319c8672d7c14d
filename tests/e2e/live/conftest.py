"""End-to-end fixtures: the real server over HTTP (pytest-django's live_server), driven by a
real OAuth client library (Authlib) and a `requests.Session` that plays the browser.

The issuer is overridden to the live server's URL, so discovery advertises endpoints there and
tokens carry it as `iss`; clients find every endpoint through discovery, as real ones do.
"""

import pytest

from .support import REDIRECT_URI, Browser, http_get, oauth_session, well_known


@pytest.fixture(autouse=True)
def _live_server_hygiene(live_server_hygiene):
    """Keep the live server's request threads from outliving a test.

    The server answers each HTTP connection in its own thread. With CONN_MAX_AGE such a thread
    keeps its own database connection, which on PostgreSQL would block the test database's
    teardown; and a thread still running when the next test flushes the database, or when the
    server stops after the last test, fails. So: no persistent database connections here, no
    kept-alive HTTP connections (support.OneShotAdapter), and each test waits for the server's
    request threads to finish.
    """


@pytest.fixture
def issuer(live_server, settings):
    """The live server's URL, made the issuer (and its /api the audience) for this test."""
    url = live_server.url.rstrip("/")
    settings.ISSUER = url
    settings.ACCESS_TOKEN_AUDIENCE = f"{url}/api"
    # A new dict, so pytest-django's settings fixture sends setting_changed and DOT reloads.
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": url}
    return url


@pytest.fixture
def metadata(issuer):
    """The authorization server metadata, fetched over HTTP as a client would."""
    return well_known(issuer, "oauth-authorization-server")


@pytest.fixture
def account(make_user):
    """A user who logs in with PASSWORD."""
    return make_user()


@pytest.fixture
def web_app(make_client):
    """A confidential web app: (client, secret)."""
    return make_client(
        name="E2E web app",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT_URI],
    )


@pytest.fixture
def native_app(make_client):
    """A public (native) app: PKCE, no secret."""
    client, _ = make_client(name="E2E native app", public=True, redirect_uris=[REDIRECT_URI])
    return client


@pytest.fixture
def service_app(make_client):
    """A confidential service using client credentials: (client, secret)."""
    return make_client(name="E2E service", grant_types=["client_credentials"], scopes="profile read")


@pytest.fixture
def browser(issuer, account):
    """A browser in which `account` has logged in."""
    agent = Browser(issuer)
    agent.login(account.username)
    yield agent
    agent.http.close()


@pytest.fixture
def oauth(metadata):
    """Make Authlib OAuth2Sessions from discovery (see support.oauth_session); closed after
    the test, so no kept-alive connection outlives it."""
    sessions = []

    def make(client_id, client_secret=None, **kwargs):
        session = oauth_session(metadata, client_id, client_secret, **kwargs)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def fetch_jwks(metadata):
    def fetch():
        response = http_get(metadata["jwks_uri"])
        assert response.status_code == 200, response.text
        return response.json()

    return fetch
