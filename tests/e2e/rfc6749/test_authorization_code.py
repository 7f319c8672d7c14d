"""RFC 6749 section 4.1.3 and 10.5: redeeming authorization codes."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from conftest import REDIRECT_URI, Flow, run_concurrently
from oauth.models import Grant
from tests.e2e.helpers import assert_no_store, assert_oauth_error, is_active, jwt_parts, me

pytestmark = pytest.mark.django_db


@pytest.mark.rfc("6749", "4.1.4")
def test_code_exchange_answers_tokens(flow):
    code, verifier = flow.code(scope="profile email")
    response = flow.exchange(code, verifier)
    assert response.status_code == 200, response.content
    assert_no_store(response)
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]
    assert set(body["scope"].split()) == {"profile", "email"}
    assert body["access_token"] and body["refresh_token"]
    assert me(body["access_token"]).status_code == 200


@pytest.mark.rfc("6749", "4.1.2")
def test_code_has_at_least_128_bits(flow):
    code, _ = flow.code()
    assert len(code) >= 22


@pytest.mark.rfc("6749", "4.1.2")
def test_code_lives_at_most_60_seconds(flow):
    code, _ = flow.code()
    grant = Grant.objects.get(code=code)
    assert grant.expires - timezone.now() <= timedelta(seconds=60)


@pytest.mark.rfc("6749", "4.1.2")
def test_code_is_single_use(flow):
    code, verifier = flow.code()
    assert flow.exchange(code, verifier).status_code == 200
    assert_oauth_error(flow.exchange(code, verifier), "invalid_grant")


@pytest.mark.rfc("6749", "10.5")
def test_replayed_code_revokes_the_tokens_of_the_first_redemption(flow, django_capture_on_commit_callbacks):
    code, verifier = flow.code()
    first = flow.exchange(code, verifier).json()
    assert me(first["access_token"]).status_code == 200

    # The revocation store's fast path learns of the revocation once it commits.
    with django_capture_on_commit_callbacks(execute=True):
        assert_oauth_error(flow.exchange(code, verifier), "invalid_grant")

    refused = me(first["access_token"])
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused["WWW-Authenticate"]
    assert is_active(first["access_token"], (flow.client.client_id, flow.secret)) is False
    assert is_active(first["refresh_token"], (flow.client.client_id, flow.secret)) is False
    assert_oauth_error(flow.refresh(first["refresh_token"]), "invalid_grant")


@pytest.mark.rfc("6749", "10.5")
def test_replay_also_revokes_tokens_refreshed_from_the_first_redemption(flow, django_capture_on_commit_callbacks):
    code, verifier = flow.code()
    first = flow.exchange(code, verifier).json()
    second = flow.refresh(first["refresh_token"]).json()
    assert me(second["access_token"]).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        assert_oauth_error(flow.exchange(code, verifier), "invalid_grant")

    assert me(second["access_token"]).status_code == 401
    assert_oauth_error(flow.refresh(second["refresh_token"]), "invalid_grant")


@pytest.mark.rfc("6749", "10.5")
def test_replay_does_not_touch_other_authorizations(flow):
    other = flow.tokens()
    code, verifier = flow.code()
    flow.exchange(code, verifier)
    flow.exchange(code, verifier)
    assert me(other["access_token"]).status_code == 200
    assert flow.refresh(other["refresh_token"]).status_code == 200


@pytest.mark.rfc("6749", "4.1.3")
def test_code_is_bound_to_its_client(flow, other, make_user):
    code, verifier = flow.code()
    thief = Flow(make_user(), *other)
    response = thief.exchange(code, verifier)
    assert_oauth_error(response, "invalid_grant")


@pytest.mark.rfc("6749", "4.1.3")
def test_code_of_a_public_client_cannot_be_redeemed_by_another_public_client(public_flow, make_client, make_user):
    code, verifier = public_flow.code()
    thief = Flow(make_user(), make_client(public=True)[0])
    assert_oauth_error(thief.exchange(code, verifier), "invalid_grant")


@pytest.mark.rfc("6749", "4.1.3")
def test_code_is_bound_to_its_redirect_uri(user, make_client):
    second_uri = "https://app.example.com/second"
    oauth_client, secret = make_client(redirect_uris=[REDIRECT_URI, second_uri])
    flow = Flow(user, oauth_client, secret)
    code, verifier = flow.code()
    response = flow.token(grant_type="authorization_code", code=code, redirect_uri=second_uri, code_verifier=verifier)
    assert_oauth_error(response, "invalid_grant")


@pytest.mark.rfc("6749", "4.1.3")
@pytest.mark.parametrize(
    "redirect_uri",
    ["https://app.example.com/callback/", "https://evil.example/callback", "HTTPS://app.example.com/callback"],
)
def test_code_redemption_with_a_changed_redirect_uri_is_refused(flow, redirect_uri):
    code, verifier = flow.code()
    response = flow.token(grant_type="authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=verifier)
    assert_oauth_error(response, "invalid_grant")


@pytest.mark.rfc("6749", "4.1.2")
def test_expired_code_is_refused(flow):
    code, verifier = flow.code()
    Grant.objects.filter(code=code).update(expires=timezone.now() - timedelta(seconds=1))
    assert_oauth_error(flow.exchange(code, verifier), "invalid_grant")


@pytest.mark.rfc("6749", "4.1.3")
@pytest.mark.parametrize("code", ["", "nope", "x" * 5000, "' OR 1=1 --"])
def test_unknown_code_is_invalid_grant(flow, code):
    response = flow.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier="a" * 43)
    assert response.status_code == 400
    assert_no_store(response)
    assert response.json()["error"] in ("invalid_grant", "invalid_request")


@pytest.mark.rfc("6749", "4.1.3")
def test_missing_code_is_invalid_request(flow):
    response = flow.token(grant_type="authorization_code", redirect_uri=REDIRECT_URI, code_verifier="a" * 43)
    assert_oauth_error(response, "invalid_request")


@pytest.mark.rfc("6749", "4.1.3")
def test_confidential_client_must_authenticate_to_redeem(flow, user):
    code, verifier = flow.code()
    anonymous = Flow(user, flow.client)  # no secret: only client_id in the body
    response = anonymous.exchange(code, verifier)
    assert_oauth_error(response, "invalid_client", status=401)


@pytest.mark.rfc("6749", "4.1.3")
def test_disabled_user_cannot_redeem_a_code(flow, user):
    code, verifier = flow.code()
    user.is_active = False
    user.save()
    assert_oauth_error(flow.exchange(code, verifier), "invalid_grant")


@pytest.mark.rfc("6749", "10.5")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemption_has_exactly_one_winner(user, confidential):
    flow = Flow(user, *confidential)
    code, verifier = flow.code()
    attempts = 8

    def redeem():
        response = Flow(user, *confidential).exchange(code, verifier)
        return response.status_code, response.json()

    results, errors = run_concurrently(redeem, attempts)
    assert not errors, errors
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [400] * (attempts - 1), results
    assert all(body["error"] == "invalid_grant" for status, body in results if status == 400)
    winner = next(body for status, body in results if status == 200)
    # The losers replayed the code: the winner's tokens are revoked too (RFC 6749 10.5).
    assert me(winner["access_token"]).status_code == 401


@pytest.mark.rfc("6749", "4.1.3")
def test_code_exchange_sets_claims_of_the_user(flow, user):
    tokens = flow.tokens()
    header, claims = jwt_parts(tokens["access_token"])
    assert claims["sub"] == user.subject
    assert claims["client_id"] == flow.client.client_id


@pytest.mark.rfc("6749", "5.1")
def test_a_client_without_the_refresh_grant_gets_no_refresh_token(make_client, user):
    """A refresh token is optional (5.1); one the client could never use (unauthorized_client at
    once) is not issued, nor stored."""
    from oauth.models import RefreshToken

    client, secret = make_client(grant_types=["authorization_code"])
    body = Flow(user, client, secret).tokens(scope="openid profile")
    assert body["access_token"] and body["id_token"] and "refresh_token" not in body
    assert not RefreshToken.objects.filter(application=client).exists()
    client, secret = make_client(name="Keeps people signed in")  # authorization_code, refresh_token
    assert "refresh_token" in Flow(user, client, secret).tokens()
