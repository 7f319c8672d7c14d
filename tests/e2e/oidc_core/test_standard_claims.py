"""OpenID Connect Core 5.1, 5.4 and 5.5: the standard claims a profile holds, released by
scope (`profile`, `email`, `phone`, `address`), and the `claims` request parameter."""

import json
from datetime import date

import pytest
from django.test import Client as BrowserClient

from conftest import bearer
from tests.e2e.oidc import USERINFO_URL, authorize, id_token_claims, location_query, oidc_tokens

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_user(user):
    user.first_name, user.middle_name, user.last_name = "Augusta", "Ada", "King"
    user.nickname, user.gender, user.birthdate = "Ada", "female", date(1815, 12, 10)
    user.picture, user.website = "https://cdn.example.com/ada.png", "https://ada.example.com"
    user.zoneinfo, user.locale = "Europe/London", "en-GB"
    user.phone_number, user.phone_number_verified = "+441632960961", True
    user.address_street_address, user.address_locality = "12 St James's Square", "London"
    user.address_postal_code, user.address_country = "SW1Y 4JH", "United Kingdom"
    user.save()
    return user


def userinfo(token):
    response = BrowserClient().get(USERINFO_URL, **bearer(token))
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.rfc("OIDC-Core", "5.4")
def test_each_scope_releases_its_claims_only(browser, confidential, full_user):
    profile = userinfo(oidc_tokens(browser, confidential, scope="openid profile")["access_token"])
    assert profile["middle_name"] == "Ada" and profile["nickname"] == "Ada"
    assert profile["birthdate"] == "1815-12-10" and profile["zoneinfo"] == "Europe/London"
    assert profile["locale"] == "en-GB" and profile["picture"] == "https://cdn.example.com/ada.png"
    assert "phone_number" not in profile and "address" not in profile and "email" not in profile

    phone = userinfo(oidc_tokens(browser, confidential, scope="openid phone")["access_token"])
    assert phone == {"sub": full_user.subject, "phone_number": "+441632960961", "phone_number_verified": True}

    address = userinfo(oidc_tokens(browser, confidential, scope="openid address")["access_token"])
    assert set(address) == {"sub", "address"}
    assert address["address"] == {
        "street_address": "12 St James's Square",
        "locality": "London",
        "postal_code": "SW1Y 4JH",
        "country": "United Kingdom",
        "formatted": "12 St James's Square\nSW1Y 4JH London\nUnited Kingdom",
    }


@pytest.mark.rfc("OIDC-Core", "5.1")
def test_updated_at_is_when_the_profile_changed(browser, confidential, user):
    from accounts import flows

    before = userinfo(oidc_tokens(browser, confidential, scope="openid profile")["access_token"])
    assert "updated_at" not in before
    flows.update_profile(user=user, email=user.email, nickname="Lin")
    after = userinfo(oidc_tokens(browser, confidential, scope="openid profile")["access_token"])
    user.refresh_from_db()
    assert after["updated_at"] == int(user.profile_updated_at.timestamp())


@pytest.mark.rfc("OIDC-Core", "5.5")
def test_the_claims_parameter_puts_asked_claims_in_the_id_token(browser, confidential, full_user):
    asked = {"id_token": {"email": {"essential": True}, "nickname": None, "phone_number": None, "sub": None}}
    tokens = oidc_tokens(browser, confidential, scope="openid profile email", claims=json.dumps(asked))
    claims = id_token_claims(tokens["id_token"])
    assert claims["email"] == full_user.email
    assert claims["nickname"] == "Ada"
    assert "phone_number" not in claims  # the phone scope was not granted
    assert claims["sub"] == full_user.subject  # never overridden
    assert "given_name" not in claims  # only what was asked


@pytest.mark.rfc("OIDC-Core", "5.5")
def test_without_the_claims_parameter_the_id_token_holds_no_profile_claims(browser, confidential, full_user):
    claims = id_token_claims(oidc_tokens(browser, confidential, scope="openid profile email")["id_token"])
    assert "email" not in claims and "nickname" not in claims


@pytest.mark.rfc("OIDC-Core", "5.5")
@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        '["id_token"]',
        '{"id_token": ["email"]}',
        '{"userinfo": {"email": 1}}',
        '{"id_token": {"email": {"essential": "yes"}}}',
    ],
)
def test_a_malformed_claims_parameter_is_invalid_request(browser, confidential, raw):
    response, _, _ = authorize(browser, confidential[0], scope="openid", claims=raw)
    query = location_query(response)
    assert query["error"] == "invalid_request"
    assert "code" not in query


def test_discovery_lists_the_claims_and_scopes(client):
    metadata = client.get("/.well-known/openid-configuration").json()
    assert metadata["claims_parameter_supported"] is True
    assert {"phone", "address"} <= set(metadata["scopes_supported"])
    assert {"address", "phone_number", "updated_at", "birthdate", "zoneinfo", "locale"} <= set(
        metadata["claims_supported"]
    )


def test_the_consent_page_names_the_new_scopes(browser, confidential):
    response, _, _ = authorize(browser, confidential[0], scope="openid phone address")
    assert response.status_code == 200
    assert b"See your phone number" in response.content and b"See your postal address" in response.content
