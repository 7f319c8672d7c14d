"""RFC 7592: reading, replacing and deleting a registration with its registration access token;
and discovery of the registration endpoint (RFC 8414 2)."""

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client as BrowserClient

from conftest import Flow
from oauth.models import AccessToken, Client, RefreshToken
from tests.e2e.helpers import assert_no_store, client_credentials_token, introspect, me

from .conftest import REDIRECT_URI, configuration, register, web_app
from .test_registration import assert_bearer_refusal, assert_registration_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(token_registration, initial_token):
    """A client registered over HTTP: its registration response."""
    response = register(web_app(post_logout_redirect_uris=["https://app.example.com/bye"]), initial_token)
    assert response.status_code == 201, response.content
    return response.json()


def replacement(registered, **changes):
    """A PUT body: the metadata as registered (RFC 7592 2.2 wants all of it), changed."""
    body = {k: v for k, v in registered.items() if k not in ("registration_access_token", "registration_client_uri")}
    body.pop("client_secret", None)
    return {**body, **changes}


@pytest.mark.rfc("7592", "2.1")
def test_read_the_registration(registered):
    response = configuration(registered["registration_client_uri"], registered["registration_access_token"])
    assert response.status_code == 200, response.content
    assert_no_store(response)
    body = response.json()
    assert body["client_id"] == registered["client_id"]
    assert body["redirect_uris"] == [REDIRECT_URI]
    assert body["post_logout_redirect_uris"] == ["https://app.example.com/bye"]
    assert body["registration_client_uri"] == registered["registration_client_uri"]
    # RFC 7592 3: the token is the current one (a read does not rotate it); only the secret's
    # hash is stored, so the secret is not shown again.
    assert body["registration_access_token"] == registered["registration_access_token"]
    assert "client_secret" not in body


@pytest.mark.rfc("7592", "2.1")
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_a_wrong_missing_or_foreign_registration_token_is_a_401(registered, initial_token, method):
    uri = registered["registration_client_uri"]
    body = replacement(registered, client_name="Hijacked")
    assert_bearer_refusal(configuration(uri, None, method, body), token_given=False)
    assert_bearer_refusal(configuration(uri, "not-the-token", method, body))
    # The token of another registration does not manage this one.
    other = register(web_app(), initial_token).json()
    assert_bearer_refusal(configuration(uri, other["registration_access_token"], method, body))
    # Nor does an initial access token, or the client's own secret.
    assert_bearer_refusal(configuration(uri, initial_token, method, body))
    assert_bearer_refusal(configuration(uri, registered["client_secret"], method, body))
    client = Client.objects.get(client_id=registered["client_id"])
    assert client.name == "Registered app"


@pytest.mark.rfc("7592", "2.1")
def test_an_unknown_client_and_an_operators_client_are_a_401(registered, make_client):
    token = registered["registration_access_token"]
    base = registered["registration_client_uri"].rsplit("/", 2)[0]
    assert_bearer_refusal(configuration(f"{base}/no-such-client/", token))
    operator_client, _ = make_client(name="Made in the admin")
    assert_bearer_refusal(configuration(f"{base}/{operator_client.client_id}/", token))
    assert_bearer_refusal(configuration(f"{base}/{operator_client.client_id}/", None), token_given=False)


@pytest.mark.rfc("7592", "2.2")
def test_replace_the_metadata_rotates_the_registration_token(registered):
    uri, old_token = registered["registration_client_uri"], registered["registration_access_token"]
    body = replacement(registered, client_name="Renamed", redirect_uris=[REDIRECT_URI, "http://127.0.0.1:9/cb"])
    del body["post_logout_redirect_uris"]  # omitted: removed (the PUT replaces)
    response = configuration(uri, old_token, "put", body)
    assert response.status_code == 200, response.content
    assert_no_store(response)
    answer = response.json()
    assert answer["client_name"] == "Renamed"
    assert answer["redirect_uris"] == [REDIRECT_URI, "http://127.0.0.1:9/cb"]
    assert answer["post_logout_redirect_uris"] == []
    assert "client_secret" not in answer  # the secret is kept, not rotated
    new_token = answer["registration_access_token"]
    assert new_token != old_token
    # The old token is refused from now on; the new one works.
    assert_bearer_refusal(configuration(uri, old_token))
    assert configuration(uri, new_token).json()["client_name"] == "Renamed"
    client = Client.objects.get(client_id=registered["client_id"])
    assert client.name == "Renamed" and client.post_logout_redirect_uris == ""
    # The client's secret is unchanged.
    assert check_password(registered["client_secret"], client.client_secret)


@pytest.mark.rfc("7592", "2.2")
@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"redirect_uris": ["http://app.example.com/cb"]}, "invalid_redirect_uri"),
        ({"scope": "openid permissions"}, "invalid_client_metadata"),
        ({"client_id": "someone-else"}, "invalid_client_metadata"),
        ({"client_secret": "not-the-secret"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "none"}, "invalid_client_metadata"),
        ({"grant_types": ["password"]}, "invalid_client_metadata"),
    ],
    ids=["redirect-uri", "admin-scope", "client-id", "client-secret", "public", "password-grant"],
)
def test_a_refused_update_changes_nothing(registered, changes, error):
    uri, token = registered["registration_client_uri"], registered["registration_access_token"]
    assert_registration_error(configuration(uri, token, "put", replacement(registered, **changes)), error)
    # The token was not rotated, the metadata not changed.
    assert configuration(uri, token).json()["redirect_uris"] == [REDIRECT_URI]


def test_an_update_may_carry_the_current_secret(registered):
    body = replacement(registered, client_secret=registered["client_secret"], client_name="With secret")
    response = configuration(
        registered["registration_client_uri"], registered["registration_access_token"], "put", body
    )
    assert response.status_code == 200, response.content


@pytest.mark.rfc("7592", "2.3")
def test_delete_removes_the_client_and_revokes_its_tokens(
    token_registration, initial_token, user, resource_server, django_capture_on_commit_callbacks
):
    registered = register(
        web_app(grant_types=["authorization_code", "refresh_token", "client_credentials"]), initial_token
    )
    registered = registered.json()
    client = Client.objects.get(client_id=registered["client_id"])
    user_tokens = Flow(user, client, registered["client_secret"]).tokens(scope="openid profile")
    service_token = client_credentials_token((client, registered["client_secret"]), scope="profile")["access_token"]
    assert me(user_tokens["access_token"]).status_code == 200
    uri, token = registered["registration_client_uri"], registered["registration_access_token"]

    with django_capture_on_commit_callbacks(execute=True):  # the revocation store hears at commit
        response = configuration(uri, token, "delete")
    assert response.status_code == 204, response.content
    assert response["Cache-Control"] == "no-store" and not response.content
    assert not Client.objects.filter(client_id=registered["client_id"]).exists()
    assert not AccessToken.objects.filter(application_id=client.pk).exists()
    assert not RefreshToken.objects.filter(application_id=client.pk).exists()
    for access_token in (user_tokens["access_token"], service_token):
        assert me(access_token).status_code == 401
        assert introspect(access_token, (resource_server[0].client_id, resource_server[1])).json() == {"active": False}
    # The registration access token is refused afterwards.
    assert_bearer_refusal(configuration(uri, token))
    assert_bearer_refusal(configuration(uri, token, "delete"))


def test_configuration_keeps_working_when_registration_closes(registered, settings):
    settings.CLIENT_REGISTRATION = "closed"
    response = configuration(registered["registration_client_uri"], registered["registration_access_token"])
    assert response.status_code == 200


def test_other_methods_are_refused(registered):
    response = BrowserClient().post(
        "/" + registered["registration_client_uri"].split("://", 1)[1].partition("/")[2],
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {registered['registration_access_token']}",
    )
    assert response.status_code == 405 and "PUT" in response["Allow"]
    assert_no_store(response)


# --- discovery --------------------------------------------------------------------------


@pytest.mark.rfc("8414", "2")
@pytest.mark.parametrize("document", ["openid-configuration", "oauth-authorization-server"])
@pytest.mark.parametrize(("mode", "advertised"), [("closed", False), ("token", True), ("open", True)])
def test_discovery_advertises_the_endpoint_while_registration_is_possible(settings, document, mode, advertised):
    settings.CLIENT_REGISTRATION = mode
    metadata = BrowserClient().get(f"/.well-known/{document}").json()
    if advertised:
        assert metadata["registration_endpoint"] == f"{settings.ISSUER}/oauth/register/"
    else:
        assert "registration_endpoint" not in metadata
