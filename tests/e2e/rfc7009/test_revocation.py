"""RFC 7009: token revocation."""

from unittest import mock

import pytest
from django.db import DatabaseError
from django.test import Client as BrowserClient

from conftest import basic, form_post
from oauth.models import AccessToken, RefreshToken
from tests.e2e.helpers import (
    MALFORMED_BASIC,
    REVOKE_URL,
    assert_oauth_error,
    client_credentials_token,
    creds,
    is_active,
    me,
    revoke,
)

pytestmark = pytest.mark.django_db


def auth_of(flow):
    return flow.client.client_id, flow.secret


def assert_revoked_ok(response):
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"


@pytest.mark.rfc("7009", "2.1")
@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token", "bogus"])
def test_revoke_access_token(flow, hint):
    tokens = flow.tokens()
    extra = {"token_type_hint": hint} if hint else {}
    assert_revoked_ok(revoke(tokens["access_token"], auth_of(flow), **extra))
    assert me(tokens["access_token"]).status_code == 401
    assert is_active(tokens["access_token"], auth_of(flow)) is False


@pytest.mark.rfc("7009", "2.1")
def test_revoking_an_access_token_kills_its_refresh_token(flow):
    tokens = flow.tokens()
    assert_revoked_ok(revoke(tokens["access_token"], auth_of(flow)))
    assert is_active(tokens["refresh_token"], auth_of(flow)) is False
    assert_oauth_error(flow.refresh(tokens["refresh_token"]), "invalid_grant")


@pytest.mark.rfc("7009", "2.1")
@pytest.mark.parametrize("hint", [None, "refresh_token", "access_token"])
def test_revoke_refresh_token(flow, hint):
    tokens = flow.tokens()
    extra = {"token_type_hint": hint} if hint else {}
    assert_revoked_ok(revoke(tokens["refresh_token"], auth_of(flow), **extra))
    assert is_active(tokens["refresh_token"], auth_of(flow)) is False
    assert_oauth_error(flow.refresh(tokens["refresh_token"]), "invalid_grant")


@pytest.mark.rfc("7009", "2.1")
def test_revoking_a_refresh_token_kills_its_access_token(flow):
    tokens = flow.tokens()
    assert_revoked_ok(revoke(tokens["refresh_token"], auth_of(flow)))
    assert me(tokens["access_token"]).status_code == 401
    assert is_active(tokens["access_token"], auth_of(flow)) is False


@pytest.mark.rfc("7009", "2.1")
def test_revoking_a_rotated_refresh_token_kills_the_current_access_token(flow):
    first = flow.tokens()
    second = flow.refresh(first["refresh_token"]).json()
    assert_revoked_ok(revoke(second["refresh_token"], auth_of(flow)))
    assert me(second["access_token"]).status_code == 401


@pytest.mark.rfc("7009", "2.1")
def test_revoke_client_credentials_token(service):
    token = client_credentials_token(service)["access_token"]
    assert_revoked_ok(revoke(token, creds(service)))
    assert me(token).status_code == 401


@pytest.mark.rfc("7009", "2.2")
@pytest.mark.parametrize("token", ["unknown", "a.b.c", "x" * 5000, "é"])
def test_unknown_token_is_200(flow, token):
    assert_revoked_ok(revoke(token, auth_of(flow)))


@pytest.mark.rfc("7009", "2.2")
def test_revoking_twice_is_200(flow):
    tokens = flow.tokens()
    assert_revoked_ok(revoke(tokens["refresh_token"], auth_of(flow)))
    assert_revoked_ok(revoke(tokens["refresh_token"], auth_of(flow)))


@pytest.mark.rfc("7009", "2.1")
@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_another_clients_token_is_not_revoked(flow, other, kind):
    tokens = flow.tokens()
    assert revoke(tokens[kind], creds(other)).status_code == 200  # no disclosure either way
    assert me(tokens["access_token"]).status_code == 200
    assert is_active(tokens[kind], auth_of(flow)) is True
    assert flow.refresh(tokens["refresh_token"]).status_code == 200


@pytest.mark.rfc("7009", "2.1")
def test_resource_server_cannot_revoke_other_clients_tokens(flow, resource_server):
    tokens = flow.tokens()
    revoke(tokens["access_token"], creds(resource_server))
    assert me(tokens["access_token"]).status_code == 200


@pytest.mark.rfc("7009", "2.1")
def test_unauthenticated_revocation_is_401(flow):
    tokens = flow.tokens()
    response = revoke(tokens["access_token"])
    assert_oauth_error(response, "invalid_client", status=401)
    assert response.has_header("WWW-Authenticate")
    assert me(tokens["access_token"]).status_code == 200


@pytest.mark.rfc("7009", "2.1")
def test_confidential_client_id_without_secret_is_401(flow):
    tokens = flow.tokens()
    response = revoke(tokens["access_token"], client_id=flow.client.client_id)
    assert_oauth_error(response, "invalid_client", status=401)
    assert me(tokens["access_token"]).status_code == 200


@pytest.mark.rfc("7009", "2.1")
def test_wrong_secret_is_401(flow):
    tokens = flow.tokens()
    response = revoke(tokens["access_token"], (flow.client.client_id, "wrong"))
    assert_oauth_error(response, "invalid_client", status=401)
    assert me(tokens["access_token"]).status_code == 200


@pytest.mark.rfc("7009", "5")
def test_public_client_revokes_its_own_tokens_with_client_id(public_flow):
    tokens = public_flow.tokens()
    response = revoke(tokens["refresh_token"], client_id=public_flow.client.client_id)
    assert_revoked_ok(response)
    assert me(tokens["access_token"]).status_code == 401
    assert_oauth_error(public_flow.refresh(tokens["refresh_token"]), "invalid_grant")


@pytest.mark.rfc("7009", "5")
def test_public_client_cannot_revoke_another_clients_tokens(flow, public):
    tokens = flow.tokens()
    assert revoke(tokens["access_token"], client_id=public.client_id).status_code == 200
    assert me(tokens["access_token"]).status_code == 200


@pytest.mark.rfc("7009", "2.1")
def test_missing_token_is_invalid_request(flow):
    response = form_post(BrowserClient(), REVOKE_URL, {}, HTTP_AUTHORIZATION=basic(*auth_of(flow)))
    assert_oauth_error(response, "invalid_request")


@pytest.mark.rfc("7009", "2")
def test_revocation_takes_post_only(flow):
    response = BrowserClient().get(REVOKE_URL)
    assert_oauth_error(response, "invalid_request", status=405)


@pytest.mark.rfc("7009", "2")
def test_revocation_refuses_query_parameters(flow):
    tokens = flow.tokens()
    response = form_post(
        BrowserClient(), f"{REVOKE_URL}?token={tokens['access_token']}", {}, HTTP_AUTHORIZATION=basic(*auth_of(flow))
    )
    assert_oauth_error(response, "invalid_request")
    assert me(tokens["access_token"]).status_code == 200


@pytest.mark.rfc("7009", "2.2.1")
@pytest.mark.parametrize(
    "model, kind",
    [(AccessToken, "access_token"), (RefreshToken, "refresh_token")],
)
@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
def test_database_failure_is_503_not_a_false_200(flow, model, kind, hint):
    """Fault injection: the token lookup fails as if the database went away."""
    tokens = flow.tokens()
    extra = {"token_type_hint": hint} if hint else {}
    with mock.patch.object(model.objects, "filter", side_effect=DatabaseError("connection lost")):
        response = revoke(tokens[kind], auth_of(flow), **extra)
    assert_oauth_error(response, "temporarily_unavailable", status=503)
    assert response.has_header("Retry-After")
    # Nothing was revoked, and the client knows it must retry.
    assert me(tokens["access_token"]).status_code == 200
    assert flow.refresh(tokens["refresh_token"]).status_code == 200


@pytest.mark.rfc("7009", "2.2.1")
def test_database_failure_while_deleting_is_503(flow):
    tokens = flow.tokens()
    with mock.patch.object(AccessToken, "delete", side_effect=DatabaseError("connection lost")):
        response = revoke(tokens["access_token"], auth_of(flow))
    assert_oauth_error(response, "temporarily_unavailable", status=503)
    # Rolled back whole: the refresh token was not half-revoked either.
    assert flow.refresh(tokens["refresh_token"]).status_code == 200


@pytest.mark.rfc("7009", "2.1")
@pytest.mark.parametrize(
    "header",
    MALFORMED_BASIC.values(),
    ids=MALFORMED_BASIC.keys(),
)
def test_malformed_basic_is_401_never_500(flow, header):
    tokens = flow.tokens()
    response = form_post(BrowserClient(), REVOKE_URL, {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=header)
    assert response.status_code in (400, 401), response.content
    assert me(tokens["access_token"]).status_code == 200
