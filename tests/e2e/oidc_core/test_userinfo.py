"""OpenID Connect Core 1.0 section 5.3: the UserInfo endpoint, and the ID token kept apart
from access tokens (an ID token is never a Bearer credential)."""

import pytest
from django.test import Client as BrowserClient

from conftest import bearer, form_post
from tests.e2e.helpers import ME_URL, client_credentials_token, creds, me, revoke
from tests.e2e.oidc import USERINFO_URL, oidc_tokens

pytestmark = [pytest.mark.django_db, pytest.mark.rfc("OIDC-Core", "5.3")]


def userinfo(token, method="get"):
    return getattr(BrowserClient(), method)(USERINFO_URL, **bearer(token))


def assert_invalid_token(response):
    assert response.status_code == 401, response.content
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    assert response.json()["error"] == "invalid_token"


@pytest.fixture
def named_user(user):
    user.first_name, user.last_name = "Ada", "Lovelace"
    user.save()
    return user


@pytest.mark.parametrize("method", ["get", "post"])
def test_claims_by_scope_profile_and_email(browser, confidential, named_user, method):
    token = oidc_tokens(browser, confidential, scope="openid profile email")["access_token"]
    response = userinfo(token, method)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert response.json() == {
        "sub": named_user.subject,
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "preferred_username": named_user.username,
        "email": named_user.email,
        "email_verified": False,
    }


def test_email_verified_is_true_once_the_address_is_verified_and_false_again_after_a_change(
    browser, confidential, user
):
    from accounts import flows, verification

    flows.verify_email(token=verification.make_token(user))
    token = oidc_tokens(browser, confidential, scope="openid email")["access_token"]
    assert userinfo(token).json() == {"sub": user.subject, "email": user.email, "email_verified": True}
    user.refresh_from_db()
    # A new address is the account's only once verified (issue 15), and verified then.
    flows.update_profile(user=user, first_name="", last_name="", email="moved@example.com")
    assert userinfo(token).json() == {"sub": user.subject, "email": user.email, "email_verified": True}
    flows.verify_email(token=verification.make_token(user, email="moved@example.com"))
    assert userinfo(token).json() == {"sub": user.subject, "email": "moved@example.com", "email_verified": True}
    user.refresh_from_db()
    user.email = "operator.set@example.com"  # as an operator may, in the admin
    user.email_verified = False
    user.save()
    assert userinfo(token).json() == {"sub": user.subject, "email": user.email, "email_verified": False}


def test_openid_alone_gives_only_sub(browser, confidential, user):
    token = oidc_tokens(browser, confidential, scope="openid")["access_token"]
    assert userinfo(token).json() == {"sub": user.subject}


def test_profile_without_email(browser, confidential, user):
    body = userinfo(oidc_tokens(browser, confidential, scope="openid profile")["access_token"]).json()
    assert body == {"sub": user.subject, "preferred_username": user.username}


def test_empty_claims_are_left_out(browser, confidential, user):
    user.email = ""
    user.save()
    body = userinfo(oidc_tokens(browser, confidential, scope="openid email")["access_token"]).json()
    assert body == {"sub": user.subject}


def test_a_token_without_openid_is_insufficient_scope(browser, confidential):
    response = userinfo(oidc_tokens(browser, confidential, scope="profile email")["access_token"])
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_a_client_credentials_token_is_refused(service):
    response = userinfo(client_credentials_token(service, scope="profile")["access_token"])
    assert response.status_code in (401, 403)


def test_no_token_is_401_with_a_bare_challenge(db):
    response = BrowserClient().get(USERINFO_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="identity"'


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_a_bad_token_is_invalid_token(db, token):
    assert_invalid_token(userinfo(token))


def test_a_revoked_token_is_refused(browser, confidential):
    issued = oidc_tokens(browser, confidential)
    assert revoke(issued["access_token"], creds(confidential)).status_code == 200
    assert_invalid_token(userinfo(issued["access_token"]))


@pytest.mark.rfc("9700", "2.3")
def test_a_token_in_the_query_string_is_refused(browser, confidential):
    token = oidc_tokens(browser, confidential)["access_token"]
    response = BrowserClient().get(USERINFO_URL, {"access_token": token})
    assert response.status_code == 400


@pytest.mark.rfc("6750", "2.2")
def test_a_token_in_a_form_body_is_accepted(browser, confidential, user):
    token = oidc_tokens(browser, confidential)["access_token"]
    response = form_post(BrowserClient(), USERINFO_URL, {"access_token": token})
    assert response.status_code == 200, response.content
    assert response.json()["sub"] == user.subject


def test_userinfo_costs_one_query(browser, confidential, django_assert_max_num_queries):
    token = oidc_tokens(browser, confidential)["access_token"]
    userinfo(token)  # warm the per-process caches
    with django_assert_max_num_queries(3):
        assert userinfo(token).status_code == 200


# --- an ID token is not an access token (SECURITY.md, JWTs) ----------------------------------


def test_an_id_token_is_refused_at_the_api(browser, confidential):
    response = me(oidc_tokens(browser, confidential)["id_token"])
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_an_id_token_is_refused_at_userinfo(browser, confidential):
    assert_invalid_token(userinfo(oidc_tokens(browser, confidential)["id_token"]))


def test_an_id_token_is_refused_after_its_access_token_is_revoked(browser, confidential):
    issued = oidc_tokens(browser, confidential)
    revoke(issued["access_token"], creds(confidential))
    assert_invalid_token(userinfo(issued["id_token"]))
    assert me(issued["id_token"]).status_code == 401


def test_the_access_token_of_an_openid_flow_works_at_the_api(browser, confidential, user):
    response = BrowserClient().get(ME_URL, **bearer(oidc_tokens(browser, confidential)["access_token"]))
    assert response.status_code == 200
    assert response.json()["sub"] == user.subject
