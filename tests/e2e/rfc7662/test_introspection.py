"""RFC 7662: token introspection."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client as BrowserClient
from django.utils import timezone

from conftest import basic, form_post
from oauth.claims import ACR_PASSWORD
from oauth.models import AccessToken
from tests.e2e.helpers import (
    INTROSPECT_URL,
    MALFORMED_BASIC,
    assert_no_store,
    assert_oauth_error,
    client_credentials_token,
    creds,
    introspect,
    jwt_parts,
    revoke,
)

pytestmark = pytest.mark.django_db

ACCESS_FIELDS = {
    "active",
    "scope",
    "client_id",
    "username",
    "token_type",
    "exp",
    "iat",
    "nbf",
    "sub",
    "aud",
    "iss",
    "jti",
}
# A user's token also says how and when the user authenticated (the login behind the grant).
USER_TOKEN_FIELDS = ACCESS_FIELDS | {"auth_time", "amr", "acr"}


def auth_of(flow):
    return flow.client.client_id, flow.secret


def assert_inactive(response):
    assert response.status_code == 200, response.content
    assert_no_store(response)
    assert response.json() == {"active": False}


@pytest.mark.rfc("7662", "2.2")
def test_access_token_full_field_set(flow, user):
    tokens = flow.tokens(scope="profile email")
    response = introspect(tokens["access_token"], auth_of(flow))
    assert response.status_code == 200
    assert_no_store(response)
    body = response.json()
    assert set(body) == USER_TOKEN_FIELDS
    _, claims = jwt_parts(tokens["access_token"])
    assert body["active"] is True
    assert set(body["scope"].split()) == {"profile", "email"}
    assert body["client_id"] == flow.client.client_id
    assert body["username"] == user.username
    assert body["token_type"] == "Bearer"
    assert body["sub"] == user.subject
    assert body["iss"] == settings.ISSUER
    assert body["aud"] == settings.ACCESS_TOKEN_AUDIENCE
    assert body["jti"] == claims["jti"]
    assert body["exp"] == claims["exp"] and body["iat"] == claims["iat"]
    assert body["iat"] <= body["nbf"] < body["exp"]
    assert all(isinstance(body[k], int) for k in ("exp", "iat", "nbf"))


@pytest.mark.rfc("7662", "2.2")
@pytest.mark.parametrize("hint", [None, "refresh_token", "access_token", "bogus"])
def test_refresh_token_full_field_set(flow, user, hint):
    tokens = flow.tokens()
    extra = {"token_type_hint": hint} if hint else {}
    body = introspect(tokens["refresh_token"], auth_of(flow), **extra).json()
    assert set(body) == USER_TOKEN_FIELDS
    assert (body["amr"], body["acr"]) == (["pwd"], ACR_PASSWORD)
    assert body["active"] is True
    assert body["token_type"] == "refresh_token"
    assert body["client_id"] == flow.client.client_id
    assert body["username"] == user.username
    assert body["sub"] == user.subject
    assert body["iss"] == settings.ISSUER
    assert body["exp"] > time.time()
    assert body["scope"] == "profile"


@pytest.mark.rfc("7662", "2.2")
def test_client_credentials_token(service):
    token = client_credentials_token(service)["access_token"]
    body = introspect(token, creds(service)).json()
    assert body["active"] is True
    assert body["sub"] == body["client_id"] == service[0].client_id
    assert "username" not in body


@pytest.mark.rfc("7662", "2.2")
def test_hint_does_not_hide_a_token_of_the_other_type(flow):
    tokens = flow.tokens()
    assert introspect(tokens["access_token"], auth_of(flow), token_type_hint="refresh_token").json()["active"] is True


@pytest.mark.rfc("7662", "2.1")
def test_unauthenticated_introspection_is_401(flow):
    tokens = flow.tokens()
    response = form_post(BrowserClient(), INTROSPECT_URL, {"token": tokens["access_token"]})
    assert_oauth_error(response, "invalid_client", status=401)
    assert response["WWW-Authenticate"].startswith("Basic")


@pytest.mark.rfc("7662", "2.1")
def test_wrong_secret_is_401(flow):
    tokens = flow.tokens()
    response = introspect(tokens["access_token"], (flow.client.client_id, "wrong"))
    assert_oauth_error(response, "invalid_client", status=401)


@pytest.mark.rfc("7662", "2.1")
def test_bearer_token_is_not_client_authentication(flow):
    tokens = flow.tokens()
    response = form_post(
        BrowserClient(),
        INTROSPECT_URL,
        {"token": tokens["access_token"]},
        HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}",
    )
    assert_oauth_error(response, "invalid_client", status=401)


@pytest.mark.rfc("7662", "2.1")
def test_public_client_cannot_introspect(public_flow):
    tokens = public_flow.tokens()
    response = form_post(
        BrowserClient(), INTROSPECT_URL, {"token": tokens["access_token"], "client_id": public_flow.client.client_id}
    )
    assert_oauth_error(response, "invalid_client", status=401)
    assert "active" not in response.json()


@pytest.mark.rfc("7662", "2.1")
def test_missing_token_is_invalid_request(flow):
    response = form_post(BrowserClient(), INTROSPECT_URL, {}, HTTP_AUTHORIZATION=basic(*auth_of(flow)))
    assert_oauth_error(response, "invalid_request")


@pytest.mark.rfc("7662", "2.1")
def test_get_is_405(flow):
    assert_oauth_error(BrowserClient().get(INTROSPECT_URL), "invalid_request", status=405)


@pytest.mark.rfc("7662", "4")
@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_another_clients_token_is_inactive(flow, other, kind):
    tokens = flow.tokens()
    assert_inactive(introspect(tokens[kind], creds(other)))


@pytest.mark.rfc("7662", "4")
def test_another_clients_client_credentials_token_is_inactive(service, other):
    token = client_credentials_token(service)["access_token"]
    assert_inactive(introspect(token, creds(other)))


@pytest.mark.rfc("7662", "4")
@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_resource_server_sees_any_token(flow, resource_server, kind):
    tokens = flow.tokens()
    body = introspect(tokens[kind], creds(resource_server)).json()
    assert body["active"] is True
    assert body["client_id"] == flow.client.client_id


@pytest.mark.rfc("7662", "4")
def test_resource_server_still_sees_revoked_tokens_as_inactive(flow, resource_server):
    tokens = flow.tokens()
    revoke(tokens["access_token"], auth_of(flow))
    assert_inactive(introspect(tokens["access_token"], creds(resource_server)))


@pytest.mark.rfc("7662", "2.2")
@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_revoked_is_inactive(flow, resource_server, kind):
    tokens = flow.tokens()
    revoke(tokens[kind], auth_of(flow))
    assert_inactive(introspect(tokens[kind], auth_of(flow)))
    assert_inactive(introspect(tokens[kind], creds(resource_server)))


@pytest.mark.rfc("7662", "2.2")
def test_rotated_refresh_token_is_inactive(flow):
    tokens = flow.tokens()
    flow.refresh(tokens["refresh_token"])
    assert_inactive(introspect(tokens["refresh_token"], auth_of(flow)))
    assert_inactive(introspect(tokens["access_token"], auth_of(flow)))


@pytest.mark.rfc("7662", "2.2")
def test_expired_access_token_is_inactive(flow, resource_server):
    tokens = flow.tokens()
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert_inactive(introspect(tokens["access_token"], auth_of(flow)))
    assert_inactive(introspect(tokens["access_token"], creds(resource_server)))


@pytest.mark.rfc("7662", "2.2")
def test_expired_refresh_token_is_inactive(flow):
    tokens = flow.tokens()
    lifetime = settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"]
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=lifetime + 1))
    assert_inactive(introspect(tokens["refresh_token"], auth_of(flow)))


@pytest.mark.rfc("7662", "2.2")
@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_disabled_user_is_inactive(flow, user, resource_server, kind):
    tokens = flow.tokens()
    user.is_active = False
    user.save()
    assert_inactive(introspect(tokens[kind], auth_of(flow)))
    assert_inactive(introspect(tokens[kind], creds(resource_server)))


@pytest.mark.rfc("7662", "2.2")
@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "x" * 10000, "é", "' OR 1=1 --", "\ud7ff"],
)
def test_garbage_is_inactive(flow, token):
    assert_inactive(introspect(token, auth_of(flow)))


@pytest.mark.rfc("7662", "2.2")
def test_forged_token_with_a_real_rows_jti_is_inactive(flow, resource_server):
    """A token we did not issue (another key) is inactive even if its claims copy a real one."""
    from tests.e2e.helpers import fresh_rsa_key, mint

    tokens = flow.tokens()
    _, claims = jwt_parts(tokens["access_token"])
    forged = mint(
        client=flow.client,
        claims=claims,
        key=fresh_rsa_key(kid=jwt_parts(tokens["access_token"])[0]["kid"]),
        store=False,
    )
    assert_inactive(introspect(forged, creds(resource_server)))


@pytest.mark.rfc("7662", "2.2")
def test_id_token_shaped_or_other_audience_token_is_inactive(flow, resource_server):
    from tests.e2e.helpers import mint

    other_audience = mint(client=flow.client, claims={"aud": "https://other.example/api"})
    assert_inactive(introspect(other_audience, creds(resource_server)))
    id_token_typ = mint(client=flow.client, header={"typ": "JWT"})
    assert_inactive(introspect(id_token_typ, creds(resource_server)))


@pytest.mark.rfc("7662", "2.2")
def test_token_with_unknown_crit_is_inactive_not_500(flow, resource_server):
    from tests.e2e.helpers import mint

    token = mint(client=flow.client, header={"crit": ["urn:example:x"], "urn:example:x": 1}, raw=True)
    assert_inactive(introspect(token, creds(resource_server)))


@pytest.mark.rfc("7662", "2.1")
@pytest.mark.parametrize(
    "header",
    MALFORMED_BASIC.values(),
    ids=MALFORMED_BASIC.keys(),
)
def test_malformed_basic_is_401_never_500(flow, header):
    tokens = flow.tokens()
    response = form_post(BrowserClient(), INTROSPECT_URL, {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=header)
    assert_oauth_error(response, "invalid_client", status=401)
    assert "active" not in response.json()
