"""RFC 6749 section 4.3: the resource owner password credentials grant (legacy clients only)."""

import pytest
from axes.models import AccessAttempt

from conftest import PASSWORD
from tests.e2e.helpers import assert_oauth_error, creds, jwt_parts, me, post_token

# The deprecated grant turned on (OAUTH_PASSWORD_GRANT_ENABLED); test_password_grant_off checks it off.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("password_grant_enabled")]


def password(pair, username, secret_word=PASSWORD, **extra):
    return post_token(
        {"grant_type": "password", "username": username, "password": secret_word, **extra}, auth=creds(pair)
    )


@pytest.mark.rfc("6749", "4.3.3")
def test_password_grant_for_a_client_listing_it(password_client, user):
    response = password(password_client, user.username)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["refresh_token"]
    _, claims = jwt_parts(body["access_token"])
    assert claims["sub"] == user.subject
    assert "auth_time" in claims
    assert me(body["access_token"]).status_code == 200


@pytest.mark.rfc("6749", "4.3.2")
def test_password_grant_refused_to_clients_not_listing_it(confidential, user):
    assert_oauth_error(password(confidential, user.username), "unauthorized_client")


@pytest.mark.rfc("6749", "4.3.2")
def test_same_answer_for_unknown_user_and_wrong_password(password_client, user):
    unknown = password(password_client, "no-such-user")
    wrong = password(password_client, user.username, "wrong password")
    assert_oauth_error(unknown, "invalid_grant")
    assert_oauth_error(wrong, "invalid_grant")
    assert unknown.json() == wrong.json()
    assert unknown.status_code == wrong.status_code


@pytest.mark.rfc("6749", "4.3.2")
def test_disabled_user_is_refused(password_client, user):
    user.is_active = False
    user.save()
    response = password(password_client, user.username)
    assert_oauth_error(response, "invalid_grant")


@pytest.mark.rfc("6749", "4.3.2")
@pytest.mark.parametrize("missing", ["username", "password"])
def test_missing_credentials_are_invalid_request(password_client, user, missing):
    data = {"grant_type": "password", "username": user.username, "password": PASSWORD}
    del data[missing]
    assert_oauth_error(post_token(data, auth=creds(password_client)), "invalid_request")


@pytest.mark.rfc("6749", "4.3.2")
def test_password_grant_needs_client_authentication(password_client, user):
    client, _ = password_client
    response = post_token(
        {"grant_type": "password", "username": user.username, "password": PASSWORD, "client_id": client.client_id}
    )
    assert_oauth_error(response, "invalid_client", status=401)


@pytest.mark.rfc("6749", "4.3.2")
def test_password_grant_scope_limited_to_client(make_client, user):
    pair = make_client(grant_types=["password"], scopes="profile")
    assert_oauth_error(password(pair, user.username, scope="profile email"), "invalid_scope")


# The password grant's lockout (per (username, client_id) and per client IP): test_password_grant_lockout.py.


@pytest.mark.rfc("6749", "2.3.1")
def test_a_failed_password_grant_does_not_store_the_client_secret(password_client, user):
    client, secret = password_client
    data = {"grant_type": "password", "username": user.username, "password": "wrong password"}
    response = post_token({**data, "client_id": client.client_id, "client_secret": secret})
    assert_oauth_error(response, "invalid_grant")
    stored = AccessAttempt.objects.get()
    assert secret not in stored.post_data
    assert "wrong password" not in stored.post_data


@pytest.mark.rfc("9700", "2.4")
def test_password_grant_off_is_unsupported_even_for_a_client_listing_it(password_client, user, settings):
    settings.OAUTH_PASSWORD_GRANT_ENABLED = False  # the default
    response = password(password_client, user.username)
    assert_oauth_error(response, "unsupported_grant_type")
    assert response["Cache-Control"] == "no-store"


@pytest.mark.rfc("6749", "5.1")
def test_a_password_client_without_the_refresh_grant_gets_no_refresh_token(make_client, user):
    body = password(make_client(name="No refresh", grant_types=["password"]), user.username).json()
    assert body["access_token"] and "refresh_token" not in body
    body = password(make_client(name="Refresh", grant_types=["password", "refresh_token"]), user.username).json()
    assert body["refresh_token"]
