"""Allowed origins (CORS) of a client: what may be registered, and who decides."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from oauth import cors
from oauth.flows import ClientError
from oauth.models import Client, origin_problem

GOOD = [
    "https://app.example.com",
    "https://app.example.com:8443",
    "https://xn--bcher-kva.example",
    "http://127.0.0.1:8766",
    "http://localhost:3000",
    "http://[::1]:8080",
    "https://10.0.0.1",
]
BAD = {
    "https://app.example.com/": "without a path",
    "https://app.example.com/callback": "without a path",
    "https://app.example.com?x=1": "without a path",
    "https://app.example.com#top": "without a path",
    "http://app.example.com": "http is allowed only on loopback",
    "ftp://app.example.com": "must use https",
    "app.example.com": "must use https",
    "null": "must use https",
    "*": "must use https",
    "https://*.example.com": "as browsers send it",
    "https://App.Example.com": "as browsers send it",
    "HTTPS://app.example.com": "as browsers send it",
    "https://bücher.example": "as browsers send it",
    "https://app.example.com:443": "default port",
    "http://127.0.0.1:80": "default port",
    "https://app.example.com:99999": "is not an origin",
    "https://app.example.com:x": "is not an origin",
    "https://user:pw@app.example.com": "user information",
    "https://[::1": "is not an origin",
}


@pytest.mark.parametrize("origin", GOOD)
def test_origins_as_browsers_send_them_are_accepted(origin):
    assert origin_problem(origin) is None
    assert cors.origin_syntax_ok(origin)


@pytest.mark.parametrize(("origin", "why"), BAD.items())
def test_anything_else_is_refused_with_the_reason(origin, why):
    problem = origin_problem(origin)
    assert problem is not None and why in problem, problem
    assert not cors.origin_syntax_ok(origin)


@pytest.mark.parametrize(
    "header", ["https://a.example\x00", "https://a.example/" + "x" * 10_000, "", "null", "https://"]
)
def test_hostile_origin_headers_fail_the_gate_before_any_query(header):
    assert not cors.origin_syntax_ok(header)


def test_public_clients_register_origins(make_client):
    client, _ = make_client(public=True, allowed_origins=["https://spa.example.com", "http://127.0.0.1:8766"])
    assert client.allowed_origins == "https://spa.example.com http://127.0.0.1:8766"
    assert client.origin_allowed("http://127.0.0.1:8766")
    assert not client.origin_allowed("http://127.0.0.1:8767")
    assert not client.origin_allowed("https://spa.example.com/")


def test_every_bad_origin_is_named(make_client):
    with pytest.raises(ClientError) as caught:
        make_client(public=True, allowed_origins=["https://ok.example", "https://a.example/", "http://b.example"])
    problems = caught.value.errors["allowed_origins"]
    assert len(problems) == 2
    assert problems[0].startswith("https://a.example/: must be an origin")
    assert problems[1].startswith("http://b.example: http is allowed only on loopback")


def test_confidential_clients_may_not_have_origins(make_client):
    # A browser cannot keep a secret: the client that runs there is a public one.
    with pytest.raises(ClientError) as caught:
        make_client(allowed_origins=["https://spa.example.com"])
    assert "Only public clients" in caught.value.errors["allowed_origins"][0]


def test_the_exact_origin_is_required_not_a_substring(make_client):
    make_client(public=True, allowed_origins=["https://app.example.org"])
    assert cors.is_registered("https://app.example.org")
    assert not cors.is_registered("https://app.example")  # a prefix of the registered one
    assert not cors.is_registered("https://pp.example.org")


def test_the_receiver_answers_other_paths_without_a_query(make_client, django_assert_num_queries):
    make_client(public=True, allowed_origins=["https://spa.example.com"])
    factory = RequestFactory()
    with django_assert_num_queries(0):
        for path in ["/oauth/authorize/", "/oauth/introspect/", "/accounts/login/", "/admin/", "/oauth/logout/"]:
            request = factory.get(path, HTTP_ORIGIN="https://spa.example.com")
            assert cors.allow_registered_origin(None, request) is False
        assert cors.allow_registered_origin(None, factory.post("/oauth/token/")) is False
        assert cors.allow_registered_origin(None, factory.post("/oauth/token/", HTTP_ORIGIN="https://x/")) is False
    with django_assert_num_queries(1):
        request = factory.post("/oauth/token/", HTTP_ORIGIN="https://spa.example.com")
        assert cors.allow_registered_origin(None, request) is True
        assert cors.allow_registered_origin(None, request) is True  # asked twice, read once


def create_client_json(*args):
    out = StringIO()
    call_command("create_client", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


SPA = ["--name", "SPA", "--grant-types", "authorization_code,refresh_token", "--public"]


@pytest.mark.django_db
def test_create_client_registers_allowed_origins():
    result = create_client_json(
        *SPA,
        "--redirect-uri",
        "https://spa.example.com/callback",
        "--allowed-origin",
        "https://spa.example.com",
        "--allowed-origin",
        "http://127.0.0.1:8766",
    )
    assert result["allowed_origins"] == ["https://spa.example.com", "http://127.0.0.1:8766"]
    assert Client.objects.get(client_id=result["client_id"]).origin_allowed("https://spa.example.com")


@pytest.mark.django_db
def test_create_client_refuses_a_bad_origin_with_the_reason():
    with pytest.raises(CommandError, match=r"allowed_origins: https://spa.example.com/: must be an origin"):
        create_client_json(
            *SPA, "--redirect-uri", "https://spa.example.com/cb", "--allowed-origin", "https://spa.example.com/"
        )
    assert not Client.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_not_required")
def test_the_admin_form_validates_origins(admin_client, make_client):
    client, _ = make_client(public=True)
    url = f"/admin/oauth/client/{client.pk}/change/"
    page = admin_client.get(url)
    assert b"allowed_origins" in page.content
    assert b"Public browser apps only" in page.content
    form = {
        "name": client.name,
        "client_type": "public",
        "grant_types": client.grant_types.split(),
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": "",
        "allowed_origins": "https://spa.example.com/app",
        "require_pkce": "on",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 200
    assert b"must be an origin" in response.content
    form["allowed_origins"] = "https://spa.example.com\nhttp://127.0.0.1:8766"
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    client.refresh_from_db()
    assert client.origin_allowed("http://127.0.0.1:8766")
