"""Answers about someone are never stored by a cache (issue 15; RFC 9111 5.2.2.5): the APIs,
the sessions API, the password pages. One rule does it (core.middleware.no_store_by_default);
the public documents that may be cached say so themselves."""

import pytest
import requests
from django.contrib.auth.tokens import default_token_generator
from django.test import Client as BrowserClient

from accounts import flows
from conftest import PASSWORD, Flow, bearer
from sso.tests.conftest import make_session

pytestmark = pytest.mark.django_db


def assert_no_store(response):
    assert "no-store" in response["Cache-Control"], (response.status_code, response.get("Cache-Control"))


@pytest.fixture
def browser(user):
    browser = BrowserClient()
    response = browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def test_api_me(user, confidential):
    client, secret = confidential
    token = Flow(user, client, secret).tokens(scope="profile")["access_token"]
    response = BrowserClient(**bearer(token)).get("/api/me")
    assert response.status_code == 200
    assert_no_store(response)
    assert_no_store(BrowserClient().get("/api/me"))  # the 401 too


def test_sessions_api(browser, user):
    listed = browser.get("/api/sessions/")
    assert listed.status_code == 200
    assert_no_store(listed)
    other = make_session(user)
    ended = browser.delete(f"/api/sessions/{other.public_id}")
    assert ended.status_code == 204
    assert_no_store(ended)
    assert_no_store(BrowserClient().get("/api/sessions/"))


def test_user_apis(user, confidential):
    created = BrowserClient().post(
        "/api/users/",
        {"username": "newcomer", "email": "newcomer@example.com", "password": PASSWORD},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert_no_store(created)
    assert_no_store(BrowserClient().post("/api/users/", {}, content_type="application/json"))
    client, secret = confidential
    token = Flow(user, client, secret).tokens(scope="roles")["access_token"]
    refused = BrowserClient(**bearer(token)).get("/api/admin/users/")
    assert refused.status_code == 403
    assert_no_store(refused)


def test_password_change_pages(browser):
    page = browser.get("/accounts/password/")
    assert page.status_code == 200
    assert_no_store(page)
    assert_no_store(browser.get("/accounts/password/done/"))


def test_password_reset_pages(user):
    browser = BrowserClient()
    page = browser.get("/accounts/password/reset/")
    assert page.status_code == 200
    assert_no_store(page)
    assert_no_store(browser.get("/accounts/password/reset/sent/"))
    link = browser.get(f"/accounts/password/reset/{flows.reset_uid(user)}/{default_token_generator.make_token(user)}/")
    assert link.status_code == 302
    assert_no_store(link)
    form = browser.get(link["Location"])
    assert form.status_code == 200 and b"new password" in form.content.lower()
    assert_no_store(form)
    assert_no_store(browser.get("/accounts/password/reset/done/"))


def test_public_documents_keep_their_own_caching(client):
    assert "max-age=" in client.get("/.well-known/jwks.json")["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_no_store_over_http_live(live_server):
    for path in ("/api/me", "/api/sessions/", "/accounts/password/reset/", "/accounts/login/"):
        response = requests.get(live_server.url + path, timeout=10)
        assert "no-store" in response.headers.get("Cache-Control", ""), path
