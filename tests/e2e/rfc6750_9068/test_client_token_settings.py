"""Per-client token lifetimes and audience (Client.access_token_lifetime, refresh_token_lifetime,
id_token_lifetime, audience): what the issued JWTs carry, verified with joserfc (Authlib's JOSE library) against our
published JWKS, what introspection answers, and how long a refresh token stays usable."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client as BrowserClient
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

from conftest import Flow
from oauth.models import AccessToken
from tests.e2e.helpers import client_credentials_token, creds, introspect, me

pytestmark = pytest.mark.django_db

API = "https://api.example.com"
REPORTS = "https://reports.example.com/v1"


def verified(token):
    """The claims of `token`, verified by joserfc (Authlib's JOSE) with the keys we publish."""
    jwks = KeySet.import_key_set(BrowserClient().get("/.well-known/jwks.json").json())
    decoded = jwt.decode(token, jwks, algorithms=["RS256"])
    jwt.JWTClaimsRegistry().validate(decoded.claims)
    return decoded.claims


@pytest.fixture
def tuned(make_client):
    return make_client(
        name="Tuned",
        access_token_lifetime=120,
        refresh_token_lifetime=600,
        id_token_lifetime=300,
        audience=[API, REPORTS],
    )


@pytest.fixture
def tuned_flow(user, tuned):
    client, secret = tuned
    return Flow(user, client, secret)


@pytest.mark.rfc("9068", "2.2")
def test_access_token_has_the_clients_lifetime_and_audience(tuned_flow):
    tokens = tuned_flow.tokens(scope="openid profile")
    assert tokens["expires_in"] == 120
    claims = verified(tokens["access_token"])
    assert claims["exp"] - claims["iat"] == 120
    assert claims["aud"] == [API, REPORTS]
    id_claims = verified(tokens["id_token"])
    assert id_claims["exp"] - id_claims["iat"] == 300
    assert id_claims["aud"] == tuned_flow.client.client_id  # an ID token is always for its client
    row = AccessToken.objects.get(jti=claims["jti"])
    assert abs((row.expires - timezone.now()).total_seconds() - 120) < 10


@pytest.mark.rfc("9068", "2.2")
def test_one_audience_is_a_string_and_refresh_keeps_the_settings(make_client, user):
    client, secret = make_client(name="One API", access_token_lifetime=200, audience=[API])
    flow = Flow(user, client, secret)
    refreshed = flow.refresh(flow.tokens()["refresh_token"])
    assert refreshed.status_code == 200, refreshed.content
    assert refreshed.json()["expires_in"] == 200
    claims = verified(refreshed.json()["access_token"])
    assert claims["aud"] == API and claims["exp"] - claims["iat"] == 200


@pytest.mark.rfc("9068", "2.2")
def test_client_credentials_token_has_the_clients_settings(make_client):
    pair = make_client(name="Batch", grant_types=["client_credentials"], access_token_lifetime=90, audience=[API])
    token = client_credentials_token(pair)
    assert token["expires_in"] == 90
    claims = verified(token["access_token"])
    assert claims["aud"] == API and claims["exp"] - claims["iat"] == 90


def test_default_client_keeps_the_server_settings(flow):
    tokens = flow.tokens(scope="openid")
    claims = verified(tokens["access_token"])
    assert claims["aud"] == settings.ACCESS_TOKEN_AUDIENCE
    assert claims["exp"] - claims["iat"] == settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]
    id_claims = verified(tokens["id_token"])
    assert id_claims["exp"] - id_claims["iat"] == settings.OAUTH2_PROVIDER["ID_TOKEN_EXPIRE_SECONDS"]


@pytest.mark.rfc("7662", "2.2")
def test_introspection_answers_the_clients_audience(tuned_flow, resource_server):
    tokens = tuned_flow.tokens()
    answer = introspect(tokens["access_token"], creds(resource_server)).json()
    assert answer["active"] is True
    assert answer["aud"] == [API, REPORTS]
    assert answer["exp"] - answer["iat"] == 120
    refresh = introspect(tokens["refresh_token"], creds(resource_server)).json()
    assert refresh["active"] is True
    access_row = AccessToken.objects.get(jti=verified(tokens["access_token"])["jti"])
    assert refresh["exp"] == int((access_row.expires + timedelta(seconds=600)).timestamp())


def test_our_own_api_refuses_a_token_for_another_audience(tuned_flow, make_client, user):
    assert me(tuned_flow.tokens()["access_token"]).status_code == 401
    client, secret = make_client(name="Both", audience=[API, settings.ACCESS_TOKEN_AUDIENCE])
    assert me(Flow(user, client, secret).tokens()["access_token"]).status_code == 200


@pytest.mark.rfc("6749", "6")
def test_refresh_token_lives_the_clients_lifetime(tuned_flow):
    tokens = tuned_flow.tokens()
    AccessToken.objects.filter(jti=verified(tokens["access_token"])["jti"]).update(
        expires=timezone.now() - timedelta(seconds=601)
    )
    response = tuned_flow.refresh(tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.rfc("6749", "6")
def test_refresh_token_within_the_clients_lifetime_works(tuned_flow):
    tokens = tuned_flow.tokens()
    AccessToken.objects.filter(jti=verified(tokens["access_token"])["jti"]).update(
        expires=timezone.now() - timedelta(seconds=500)
    )
    assert tuned_flow.refresh(tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    "field, value",
    [
        ("access_token_lifetime", 10),
        ("access_token_lifetime", 2 * 24 * 3600),
        ("id_token_lifetime", 0),
        ("refresh_token_lifetime", 400 * 24 * 3600),
        ("audience", ["not-a-uri"]),
        ("audience", ["https://api.example.com/#frag"]),
    ],
)
def test_bad_settings_are_refused(make_client, field, value):
    from oauth.flows import ClientError

    with pytest.raises(ClientError) as caught:
        make_client(name="Bad", **{field: value})
    assert field in caught.value.errors
