"""Fixtures of the dynamic client registration suites (RFC 7591 / 7592)."""

import json
from datetime import timedelta

import pytest
from django.test import Client as BrowserClient

from oauth import flows

REGISTER_URL = "/oauth/register/"
REDIRECT_URI = "https://app.example.com/callback"


@pytest.fixture
def token_registration(settings):
    """CLIENT_REGISTRATION=token."""
    settings.CLIENT_REGISTRATION = "token"


@pytest.fixture
def open_registration(settings):
    settings.CLIENT_REGISTRATION = "open"


@pytest.fixture
def issue(db):
    """Issue an initial access token: issue(uses=1, expires_in=timedelta(hours=1)) -> token."""

    def make(uses=1, expires_in=timedelta(hours=1)):
        return flows.issue_initial_access_token(expires_in=expires_in, uses=uses, label="tests")[1]

    return make


@pytest.fixture
def initial_token(issue):
    return issue(uses=5)


def post_json(url, body, token=None, method="post", **headers):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return getattr(BrowserClient(), method)(url, data, content_type="application/json", **headers)


def register(body, token=None, **headers):
    return post_json(REGISTER_URL, body, token, **headers)


def configuration(uri, token, method="get", body=None):
    """A request to a registration_client_uri (absolute) with a registration access token."""
    path = uri.split("://", 1)[1].partition("/")[2]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    browser = BrowserClient()
    if method in ("get", "delete"):
        return getattr(browser, method)("/" + path, **headers)
    return getattr(browser, method)("/" + path, json.dumps(body), content_type="application/json", **headers)


def web_app(**extra):
    return {
        "client_name": "Registered app",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "openid profile",
        **extra,
    }
