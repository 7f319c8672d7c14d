"""How the user authenticated, in every token (OpenID Connect Core 2: `amr`, `acr`; RFC 8176
values; RFC 9068 2.2.1 for JWT access tokens; RFC 7662 for introspection): the methods recorded
in the SSO session at login, carried by the code and by every refresh token after it."""

import pytest

from oauth.claims import ACR_MFA, ACR_PASSWORD
from sso.models import SSOSession
from tests.e2e.helpers import client_credentials_token, introspect, jwt_parts, post_token
from tests.e2e.oidc import enrol_totp, id_token_claims, oidc_tokens, two_factor_browser

pytestmark = [pytest.mark.django_db, pytest.mark.rfc("OIDC-Core", "2")]


def refreshed(pair, refresh_token):
    client, secret = pair
    response = post_token(
        {"grant_type": "refresh_token", "refresh_token": refresh_token}, auth=(client.client_id, secret)
    )
    assert response.status_code == 200, response.content
    return response.json()


def authentication_of(issued, pair):
    """(ID token, access token, access introspection, refresh introspection) as (amr, acr)."""
    client, secret = pair
    claims = [id_token_claims(issued["id_token"]), jwt_parts(issued["access_token"])[1]]
    claims += [
        introspect(issued[kind], (client.client_id, secret)).json() for kind in ("access_token", "refresh_token")
    ]
    return [(c.get("amr"), c.get("acr")) for c in claims]


def test_a_password_login_is_one_factor_in_every_token(browser, confidential):
    issued = oidc_tokens(browser, confidential)
    assert authentication_of(issued, confidential) == [(["pwd"], ACR_PASSWORD)] * 4


def test_a_login_with_a_code_is_two_factor_in_every_token_and_through_refreshes(user, confidential):
    device = enrol_totp(user)
    browser = two_factor_browser(user, device)
    assert SSOSession.objects.get(user=user).amr == ["otp", "pwd"]
    issued = oidc_tokens(browser, confidential)
    assert authentication_of(issued, confidential) == [(["otp", "pwd"], ACR_MFA)] * 4

    again = refreshed(confidential, issued["refresh_token"])
    assert authentication_of(again, confidential) == [(["otp", "pwd"], ACR_MFA)] * 4
    again = refreshed(confidential, again["refresh_token"])  # and the next rotation
    assert id_token_claims(again["id_token"])["acr"] == ACR_MFA


def test_the_access_token_and_its_introspection_carry_auth_time(browser, confidential):
    issued = oidc_tokens(browser, confidential)
    client, secret = confidential
    auth_time = id_token_claims(issued["id_token"])["auth_time"]
    assert jwt_parts(issued["access_token"])[1]["auth_time"] == auth_time
    assert introspect(issued["access_token"], (client.client_id, secret)).json()["auth_time"] == auth_time


def test_client_credentials_tokens_carry_no_user_authentication(service):
    claims = jwt_parts(client_credentials_token(service)["access_token"])[1]
    assert {"amr", "acr", "auth_time"}.isdisjoint(claims)


def test_discovery_lists_both_authentication_contexts(client):
    metadata = client.get("/.well-known/openid-configuration").json()
    assert metadata["acr_values_supported"] == [ACR_PASSWORD, ACR_MFA]
    assert {"amr", "acr"} <= set(metadata["claims_supported"])
