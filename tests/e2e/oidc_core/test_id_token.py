"""OpenID Connect Core 1.0: the ID token of the authorization code flow (3.1.3.6, 3.1.3.7),
and its refresh (12.2)."""

import time
import uuid
from datetime import UTC, datetime

import pytest
from django.conf import settings

from conftest import PASSWORD
from oauth.claims import ACR_PASSWORD
from oauth.models import AccessToken, IDToken
from tests.e2e.helpers import AUTHORIZE_URL, assert_oauth_error, post_token, redirect_query
from tests.e2e.oidc import (
    JWKS_URL,
    at_hash,
    authorize,
    code_for,
    exchange,
    id_token_claims,
    oidc_tokens,
    session_auth_time,
    verify_id_token,
)

pytestmark = [pytest.mark.django_db, pytest.mark.rfc("OIDC-Core", "3.1.3.7")]


def refresh(pair, refresh_token, **extra):
    client, secret = pair
    return post_token(
        {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}, auth=(client.client_id, secret)
    )


def test_openid_scope_yields_a_signed_id_token(browser, confidential, user, client):
    client_app, _ = confidential
    issued = oidc_tokens(browser, confidential, nonce="n-0S6_WzA2Mj")
    header, claims = verify_id_token(issued["id_token"], client_id=client_app.client_id)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": header["kid"]}
    assert header["kid"] in {k["kid"] for k in client.get(JWKS_URL).json()["keys"]}
    assert claims["iss"] == settings.ISSUER
    assert claims["sub"] == user.subject != str(user.pk)
    assert claims["aud"] == claims["azp"] == client_app.client_id
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["at_hash"] == at_hash(issued["access_token"])
    assert claims["amr"] == ["pwd"]
    assert claims["acr"] == ACR_PASSWORD
    assert uuid.UUID(claims["jti"])
    now = time.time()
    assert abs(claims["iat"] - now) < 5
    assert claims["exp"] > claims["iat"]
    assert claims["auth_time"] <= claims["iat"]


def test_the_id_token_carries_no_profile_claims(browser, confidential):
    """With response_type=code, profile and email claims come from UserInfo (Core 5.4)."""
    claims = id_token_claims(oidc_tokens(browser, confidential, scope="openid profile email")["id_token"])
    assert {"name", "preferred_username", "email", "email_verified"}.isdisjoint(claims)


def test_no_nonce_claim_without_a_nonce(browser, confidential):
    assert "nonce" not in id_token_claims(oidc_tokens(browser, confidential)["id_token"])


def test_no_id_token_without_openid(browser, confidential):
    assert "id_token" not in oidc_tokens(browser, confidential, scope="profile")


def test_public_client_gets_an_id_token(browser, public):
    issued = oidc_tokens(browser, (public, None), nonce="abc")
    _, claims = verify_id_token(issued["id_token"], client_id=public.client_id)
    assert claims["nonce"] == "abc"


def test_the_id_token_row_is_linked_to_the_access_token(browser, confidential, user):
    issued = oidc_tokens(browser, confidential)
    claims = id_token_claims(issued["id_token"])
    row = IDToken.objects.get(jti=claims["jti"])
    assert row.user == user and row.application == confidential[0]
    assert AccessToken.objects.get(id_token=row).jti == id_token_claims(issued["access_token"])["jti"]


@pytest.mark.rfc("OIDC-Core", "2")
def test_auth_time_is_the_sessions_login_time_not_last_login(browser, confidential, user):
    login_time = session_auth_time(browser)
    type(user).objects.filter(pk=user.pk).update(last_login=datetime(2001, 1, 1, tzinfo=UTC))
    claims = id_token_claims(oidc_tokens(browser, confidential)["id_token"])
    assert claims["auth_time"] == login_time


@pytest.mark.rfc("OIDC-Core", "12.2")
def test_refresh_issues_a_new_id_token_with_the_original_auth_time(browser, confidential, user):
    first = oidc_tokens(browser, confidential, nonce="once")
    original = id_token_claims(first["id_token"])
    response = refresh(confidential, first["refresh_token"])
    assert response.status_code == 200, response.content
    refreshed = response.json()
    _, claims = verify_id_token(refreshed["id_token"], client_id=confidential[0].client_id)
    assert claims["auth_time"] == original["auth_time"]
    assert claims["sub"] == original["sub"] and claims["aud"] == original["aud"] and claims["iss"] == original["iss"]
    assert claims["at_hash"] == at_hash(refreshed["access_token"])
    assert claims["jti"] != original["jti"]
    assert "nonce" not in claims


def test_refresh_without_openid_in_the_narrowed_scope_has_no_id_token(browser, confidential):
    first = oidc_tokens(browser, confidential)
    response = refresh(confidential, first["refresh_token"], scope="profile")
    assert response.status_code == 200, response.content
    assert "id_token" not in response.json()


def test_password_login_again_moves_auth_time(browser, confidential, user):
    """A later login is a later auth_time (the session records each login)."""
    first = id_token_claims(oidc_tokens(browser, confidential)["id_token"])["auth_time"]
    time.sleep(1.05)
    assert browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    second = id_token_claims(oidc_tokens(browser, confidential)["id_token"])["auth_time"]
    assert second > first


# --- the OpenID Connect grant has the same restrictions as the OAuth one --------------------


@pytest.mark.parametrize("response_type", ["id_token", "code id_token", "id_token token", "code token", "none"])
def test_implicit_and_hybrid_response_types_are_refused(browser, confidential, response_type):
    response, _, _ = authorize(browser, confidential[0], response_type=response_type, nonce="n")
    _, query = redirect_query(response)
    assert query["error"] == "unsupported_response_type"
    assert query["iss"] == settings.ISSUER


def test_plain_pkce_is_refused_with_openid(browser, confidential):
    response, _, _ = authorize(browser, confidential[0], code_challenge="x" * 43, code_challenge_method="plain")
    assert redirect_query(response)[1]["error"] == "invalid_request"


def test_pkce_is_required_with_openid(browser, confidential):
    response, _, _ = authorize(browser, confidential[0], code_challenge=None, code_challenge_method=None)
    assert redirect_query(response)[1]["error"] == "invalid_request"


def test_redirect_uri_is_required_with_openid(browser, confidential):
    response, _, _ = authorize(browser, confidential[0], redirect_uri=None)
    assert response.status_code == 400
    assert "Location" not in response


def test_token_request_must_name_redirect_uri_with_openid(browser, confidential):
    client, secret = confidential
    code, verifier = code_for(browser, client)
    response = post_token(
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}, auth=(client.client_id, secret)
    )
    assert_oauth_error(response, "invalid_request")


def test_wrong_verifier_is_refused_with_openid(browser, confidential):
    code, _ = code_for(browser, confidential[0])
    assert_oauth_error(exchange(confidential, code, "a" * 43), "invalid_grant")


def test_code_replay_with_openid_revokes_the_first_tokens(browser, confidential):
    code, verifier = code_for(browser, confidential[0])
    first = exchange(confidential, code, verifier)
    assert first.status_code == 200
    assert_oauth_error(exchange(confidential, code, verifier), "invalid_grant")
    assert not AccessToken.objects.filter(jti=id_token_claims(first.json()["access_token"])["jti"]).exists()


def test_code_of_another_client_is_refused_with_openid(browser, confidential, other):
    code, verifier = code_for(browser, confidential[0])
    assert_oauth_error(exchange(other, code, verifier), "invalid_grant")


def test_a_client_not_allowed_openid_cannot_ask_for_it(browser, make_client):
    client, _ = make_client(name="No OIDC", scopes="profile")
    response, _, _ = authorize(browser, client)
    assert redirect_query(response)[1]["error"] == "invalid_scope"


def test_an_over_long_nonce_is_refused(browser, confidential):
    response, _, _ = authorize(browser, confidential[0], nonce="n" * 256)
    assert redirect_query(response)[1]["error"] == "invalid_request"


def test_the_nonce_survives_the_consent_page(browser, confidential):
    response, params, verifier = authorize(browser, confidential[0], nonce="kept")
    assert response.status_code == 200  # the consent page
    approved = browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    code = redirect_query(approved)[1]["code"]
    assert id_token_claims(exchange(confidential, code, verifier).json()["id_token"])["nonce"] == "kept"


@pytest.mark.rfc("OIDC-BackChannel", "2.1")
def test_sid_names_the_sso_session_not_the_django_session(browser, confidential):
    issued = oidc_tokens(browser, confidential)
    claims = id_token_claims(issued["id_token"])
    assert claims["sid"] == id_token_claims(issued["access_token"])["sid"]
    assert claims["sid"] != browser.session.session_key
