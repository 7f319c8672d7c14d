"""RFC 6749 section 6 and RFC 9700 4.14: refresh tokens, rotated, bound, never widened."""

import pytest

from conftest import Flow, run_concurrently
from sso import revocation
from tests.e2e.helpers import assert_no_store, assert_oauth_error, is_active, jwt_parts, me

pytestmark = pytest.mark.django_db


@pytest.mark.rfc("6749", "6")
def test_refresh_rotates_the_refresh_token(flow):
    first = flow.tokens()
    response = flow.refresh(first["refresh_token"])
    assert response.status_code == 200, response.content
    assert_no_store(response)
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert me(second["access_token"]).status_code == 200


@pytest.mark.rfc("9700", "4.14.2")
def test_reuse_of_a_rotated_refresh_token_revokes_the_whole_family(flow):
    first = flow.tokens()
    second = flow.refresh(first["refresh_token"]).json()
    third = flow.refresh(second["refresh_token"]).json()

    assert_oauth_error(flow.refresh(first["refresh_token"]), "invalid_grant")

    auth = (flow.client.client_id, flow.secret)
    assert me(third["access_token"]).status_code == 401
    assert is_active(third["access_token"], auth) is False
    assert is_active(third["refresh_token"], auth) is False
    assert_oauth_error(flow.refresh(third["refresh_token"]), "invalid_grant")
    assert me(second["access_token"]).status_code == 401


@pytest.mark.rfc("9700", "4.14.2")
def test_reuse_leaves_other_families_alone(flow):
    mine = flow.tokens()
    other = flow.tokens()
    flow.refresh(mine["refresh_token"])
    flow.refresh(mine["refresh_token"])
    assert me(other["access_token"]).status_code == 200
    assert flow.refresh(other["refresh_token"]).status_code == 200


@pytest.mark.rfc("6749", "6")
def test_old_access_token_is_revoked_by_rotation(flow):
    first = flow.tokens()
    flow.refresh(first["refresh_token"])
    assert me(first["access_token"]).status_code == 401


@pytest.mark.rfc("6749", "6")
def test_rotation_tells_the_fast_path_the_old_access_token_is_dead_once_committed(
    flow, monkeypatch, django_capture_on_commit_callbacks
):
    """The old access token is deleted without Django's collector: the revocation store must
    still learn of it (with Redis, its `live` key would otherwise accept it for a while)."""
    with django_capture_on_commit_callbacks(execute=True):
        first = flow.tokens()
    assert me(first["access_token"]).status_code == 200  # with Redis: now cached as live
    forgotten = []
    forget_token = revocation.forget_token
    monkeypatch.setattr(revocation, "forget_token", lambda jti: forgotten.append(jti) or forget_token(jti))
    with django_capture_on_commit_callbacks() as callbacks:
        assert flow.refresh(first["refresh_token"]).status_code == 200
    assert forgotten == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert forgotten == [jwt_parts(first["access_token"])[1]["jti"]]
    assert me(first["access_token"]).status_code == 401


@pytest.mark.rfc("6749", "6")
@pytest.mark.parametrize("scope", ["profile", "email", "profile email"])
def test_refresh_may_narrow_the_scope(flow, scope):
    first = flow.tokens(scope="profile email")
    response = flow.refresh(first["refresh_token"], scope=scope)
    assert response.status_code == 200, response.content
    assert set(response.json()["scope"].split()) == set(scope.split())


@pytest.mark.rfc("6749", "6")
@pytest.mark.parametrize("scope", ["profile email", "write", "profile read"])
def test_refresh_cannot_widen_the_scope(flow, scope):
    first = flow.tokens(scope="profile")
    assert_oauth_error(flow.refresh(first["refresh_token"], scope=scope), "invalid_scope")


@pytest.mark.rfc("6749", "6")
def test_refresh_after_narrowing_cannot_widen_back_beyond_the_original(flow):
    first = flow.tokens(scope="profile email")
    narrowed = flow.refresh(first["refresh_token"], scope="profile").json()
    assert_oauth_error(flow.refresh(narrowed["refresh_token"], scope="profile write"), "invalid_scope")


@pytest.mark.rfc("6749", "6")
def test_refresh_token_is_bound_to_its_client(flow, other, make_user):
    first = flow.tokens()
    thief = Flow(make_user(), *other)
    assert_oauth_error(thief.refresh(first["refresh_token"]), "invalid_grant")
    # The legitimate client is unaffected.
    assert flow.refresh(first["refresh_token"]).status_code == 200


@pytest.mark.rfc("6749", "6")
def test_public_client_refresh_token_is_bound_to_its_client(public_flow, make_client, make_user):
    first = public_flow.tokens()
    thief = Flow(make_user(), make_client(public=True)[0])
    assert_oauth_error(thief.refresh(first["refresh_token"]), "invalid_grant")


@pytest.mark.rfc("6749", "6")
def test_confidential_client_must_authenticate_to_refresh(flow, user):
    first = flow.tokens()
    unauthenticated = Flow(user, flow.client)
    assert_oauth_error(unauthenticated.refresh(first["refresh_token"]), "invalid_client", status=401)


@pytest.mark.rfc("6749", "6")
@pytest.mark.parametrize("token", ["", "garbage", "x" * 5000])
def test_unknown_refresh_token_is_invalid_grant_or_request(flow, token):
    response = flow.refresh(token)
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_grant", "invalid_request")


@pytest.mark.rfc("6749", "6")
def test_access_token_is_not_a_refresh_token(flow):
    first = flow.tokens()
    assert_oauth_error(flow.refresh(first["access_token"]), "invalid_grant")


@pytest.mark.rfc("6749", "6")
def test_disabled_user_cannot_refresh(flow, user):
    first = flow.tokens()
    user.is_active = False
    user.save()
    assert_oauth_error(flow.refresh(first["refresh_token"]), "invalid_grant")


@pytest.mark.rfc("9068", "2.2.1")
def test_auth_time_is_carried_through_refresh(user, confidential, browser):
    flow = Flow(user, *confidential)
    flow.browser = browser  # a real login: the session knows when the user authenticated
    first = flow.tokens()
    _, claims = jwt_parts(first["access_token"])
    assert isinstance(claims["auth_time"], int)
    second = flow.refresh(first["refresh_token"]).json()
    third = flow.refresh(second["refresh_token"]).json()
    assert jwt_parts(second["access_token"])[1]["auth_time"] == claims["auth_time"]
    assert jwt_parts(third["access_token"])[1]["auth_time"] == claims["auth_time"]


@pytest.mark.rfc("6749", "6")
def test_client_credentials_client_gets_no_refresh(service):
    from tests.e2e.helpers import client_credentials_token

    assert "refresh_token" not in client_credentials_token(service)


@pytest.mark.rfc("9700", "4.14.2")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refresh_of_one_token_never_forks(user, confidential):
    from oauth.models import RefreshToken

    first = Flow(user, *confidential).tokens()
    attempts = 8

    def refresh():
        response = Flow(user, *confidential).refresh(first["refresh_token"])
        return response.status_code, response.json()

    results, errors = run_concurrently(refresh, attempts)
    assert not errors, errors
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [400] * (attempts - 1), results
    assert all(body["error"] == "invalid_grant" for status, body in results if status == 400)
    # One successor at most, never two live chains (a late loser may revoke the family).
    assert RefreshToken.objects.filter(revoked__isnull=True).count() <= 1


@pytest.mark.django_db(transaction=True)
def test_a_refresh_that_loses_the_race_leaves_no_id_token(user, confidential, monkeypatch):
    """The loser of two concurrent refreshes passes validation, then finds the token claimed
    at the conditional UPDATE. DOT answers its invalid_grant as a normal response; the error
    leaving save_bearer_token's atomic block marks the request's transaction for rollback, so
    the ID token written before that is not committed."""
    from django.utils import timezone

    from oauth.models import IDToken, RefreshToken
    from oauth.validators import Validator

    first = Flow(user, *confidential).tokens(scope="openid profile")
    validate = Validator.validate_refresh_token

    def validate_then_lose_the_race(self, refresh_token, client, request, *args, **kwargs):
        valid = validate(self, refresh_token, client, request, *args, **kwargs)
        RefreshToken.objects.filter(revoked__isnull=True).update(revoked=timezone.now())  # the winner
        return valid

    monkeypatch.setattr(Validator, "validate_refresh_token", validate_then_lose_the_race)
    response = Flow(user, *confidential).refresh(first["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert IDToken.objects.count() == 1
