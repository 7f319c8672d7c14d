"""RFC 6749 section 4.4: the client credentials grant."""

from unittest import mock

import pytest
from django.conf import settings
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from oauth import keys
from oauth.models import AccessToken
from sso import revocation
from tests.e2e.helpers import assert_oauth_error, client_credentials_token, creds, jwt_parts, me, post_token

pytestmark = pytest.mark.django_db


@pytest.mark.rfc("6749", "4.4.3")
def test_client_credentials_token_has_no_refresh_token(service):
    body = client_credentials_token(service)
    assert body["token_type"] == "Bearer"
    assert "refresh_token" not in body
    assert body["expires_in"] == settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]


@pytest.mark.rfc("6749", "4.4.3")
def test_subject_is_the_client_id(service, user):
    body = client_credentials_token(service)
    _, claims = jwt_parts(body["access_token"])
    assert claims["sub"] == service[0].client_id == claims["client_id"]
    assert claims["sub"] != user.subject
    assert "auth_time" not in claims


@pytest.mark.rfc("6749", "4.4.2")
def test_default_scope_is_within_the_allowed_set(service):
    body = client_credentials_token(service)
    assert set(body["scope"].split()) <= {"profile", "read"}
    assert body["scope"]


@pytest.mark.rfc("6749", "4.4.2")
@pytest.mark.parametrize("scope", ["profile", "read", "profile read", "read profile"])
def test_allowed_scopes_are_granted(service, scope):
    body = client_credentials_token(service, scope=scope)
    assert set(body["scope"].split()) == set(scope.split())


@pytest.mark.rfc("6749", "5.2")
@pytest.mark.parametrize("scope", ["write", "profile write", "email", "admin", "openid"])
def test_scope_outside_the_allowed_set_is_invalid_scope(service, scope):
    response = post_token({"grant_type": "client_credentials", "scope": scope}, auth=creds(service))
    assert_oauth_error(response, "invalid_scope")


@pytest.mark.rfc("6749", "4.4")
def test_client_credentials_token_works_at_the_api(service):
    body = client_credentials_token(service, scope="profile")
    response = me(body["access_token"])
    assert response.status_code == 200
    assert response.json()["client_id"] == service[0].client_id


@pytest.mark.rfc("6749", "4.4")
def test_public_client_cannot_use_client_credentials(public):
    response = post_token({"grant_type": "client_credentials", "client_id": public.client_id})
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_client", "unauthorized_client")


@pytest.mark.rfc("6749", "4.4")
@pytest.mark.django_db(transaction=True)
def test_issued_in_autocommit_and_the_fast_path_told_at_once(service, monkeypatch):
    """One INSERT, no transaction around it (none needed): the row is committed when the
    INSERT returns, so the revocation store's fast path learns the token at once."""
    keys.signing_key()  # loaded once per process: not part of the request's cost
    marked = []
    monkeypatch.setattr(revocation, "mark_token_live", lambda jti, expires_at: marked.append(jti))
    with CaptureQueriesContext(connection) as captured:
        body = client_credentials_token(service)
    statements = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    assert statements == ["SELECT", "INSERT"], captured.captured_queries
    assert marked == [jwt_parts(body["access_token"])[1]["jti"]]
    assert AccessToken.objects.filter(jti=marked[0]).exists()


@pytest.mark.rfc("6749", "5.2")
def test_database_failure_is_503_and_issues_nothing(service, monkeypatch):
    marked = []
    monkeypatch.setattr(revocation, "mark_token_live", lambda jti, expires_at: marked.append(jti))
    with mock.patch.object(AccessToken, "save", side_effect=DatabaseError("connection lost")):
        response = post_token({"grant_type": "client_credentials"}, auth=creds(service))
    assert_oauth_error(response, "temporarily_unavailable", status=503)
    assert response.has_header("Retry-After")
    assert "access_token" not in response.json()
    assert not AccessToken.objects.exists() and not marked
