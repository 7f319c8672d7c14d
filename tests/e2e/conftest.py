"""Fixtures for the black-box protocol suites (helpers are in tests/e2e/helpers.py)."""

import pytest
from django.test import Client as BrowserClient

from conftest import PASSWORD


@pytest.fixture
def resource_server(make_client):
    """A resource server: may introspect any client's tokens (RFC 7662 section 4)."""
    return make_client(name="API", grant_types=["client_credentials"], can_introspect_any=True)


@pytest.fixture
def other(make_client):
    """A second confidential client with the same redirect URI."""
    return make_client(name="Other app")


@pytest.fixture
def trusted(make_client):
    return make_client(name="Trusted app", trusted=True)


@pytest.fixture
def password_client(make_client, password_grant_enabled):
    """A client with the password grant, the grant turned on (OAUTH_PASSWORD_GRANT_ENABLED)."""
    return make_client(name="Legacy app", grant_types=["password", "refresh_token"])


@pytest.fixture
def browser(user):
    """A logged-in browser session (login through the real form, so auth_time is recorded)."""
    b = BrowserClient()
    response = b.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return b
