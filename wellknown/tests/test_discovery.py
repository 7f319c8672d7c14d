from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve
from oauth2_provider.oauth2_validators import OAuth2Validator

from conftest import PASSWORD, basic, form_post
from oauth.models import GRANT_TYPES
from oauth.server import Server

DOCUMENTS = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]
ENDPOINTS = ["authorization_endpoint", "token_endpoint", "revocation_endpoint", "introspection_endpoint"]


@pytest.fixture(params=DOCUMENTS)
def metadata(request, client):
    response = client.get(request.param)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_documents_are_identical(client):
    first, second = (client.get(url).json() for url in DOCUMENTS)
    assert first == second


def test_lists_issuer_and_endpoints(metadata):
    assert metadata["issuer"] == settings.ISSUER
    for name in [*ENDPOINTS, "jwks_uri"]:
        assert metadata[name].startswith(settings.ISSUER + "/"), name


def test_every_advertised_url_resolves_to_a_view(metadata):
    # Every URL but the issuer itself (an identifier, RFC 8414 2) must be served here.
    urls = {
        k: v
        for k, v in metadata.items()
        if k != "issuer" and isinstance(v, str) and v.startswith(("http://", "https://"))
    }
    assert set(ENDPOINTS) | {"jwks_uri"} <= set(urls)
    for name, url in urls.items():
        path = urlsplit(url).path
        try:
            resolve(path)
        except Resolver404:
            pytest.fail(f"{name} = {url} is not served here")


def test_only_s256_pkce(metadata):
    assert metadata["code_challenge_methods_supported"] == ["S256"]


def test_only_the_code_response_type(metadata):
    assert metadata["response_types_supported"] == ["code"]


def test_advertises_rfc9207_iss(metadata):
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_scopes_are_the_configured_ones(metadata):
    assert set(metadata["scopes_supported"]) == set(settings.OAUTH_SCOPES)


def test_advertised_grants_are_the_ones_the_server_runs(metadata):
    server = Server(OAuth2Validator())
    assert set(metadata["grant_types_supported"]) == set(server.grant_types)
    assert "password" not in metadata["grant_types_supported"]  # RFC 9700 2.4: off by default
    assert set(metadata["grant_types_supported"]) <= set(GRANT_TYPES)
    assert {"implicit", "urn:ietf:params:oauth:grant-type:device_code"}.isdisjoint(metadata["grant_types_supported"])


def test_metadata_is_cacheable_and_cors_open(client):
    response = client.get(DOCUMENTS[0])
    assert "max-age=" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.django_db
def test_metadata_refuses_post(client):
    assert client.post(DOCUMENTS[0]).status_code == 405


# --- each advertised grant really issues tokens ------------------------------------------


def _grants(client):
    return set(client.get(DOCUMENTS[1]).json()["grant_types_supported"])


def test_authorization_code_and_refresh_token_grants_work(client, flow):
    assert {"authorization_code", "refresh_token"} <= _grants(client)
    tokens = flow.tokens()
    assert tokens["token_type"] == "Bearer"
    refreshed = flow.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.content


def test_client_credentials_grant_works(client, service):
    assert "client_credentials" in _grants(client)
    oauth_client, secret = service
    response = form_post(
        client,
        "/oauth/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(oauth_client.client_id, secret),
    )
    assert response.status_code == 200, response.content
    assert response.json()["access_token"]


@pytest.mark.rfc("9700", "2.4")
def test_password_grant_is_advertised_only_when_enabled(client, settings):
    settings.OAUTH_PASSWORD_GRANT_ENABLED = True
    assert "password" in _grants(client)
    assert set(Server(OAuth2Validator()).grant_types) == _grants(client)


def test_password_grant_works_for_a_client_allowed_it(password_grant_enabled, client, user, make_client):
    assert "password" in _grants(client)
    oauth_client, secret = make_client(name="Legacy", grant_types=["password"])
    response = form_post(
        client,
        "/oauth/token/",
        {"grant_type": "password", "username": user.username, "password": PASSWORD},
        HTTP_AUTHORIZATION=basic(oauth_client.client_id, secret),
    )
    assert response.status_code == 200, response.content
    assert response.json()["access_token"]
