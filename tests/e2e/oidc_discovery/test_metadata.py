"""OpenID Connect Discovery 1.0 section 3 and RFC 8414 section 2: the metadata is complete, and
every endpoint and value it advertises is really served (each checked by using it)."""

from datetime import date
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client as BrowserClient
from django.urls import resolve

from conftest import basic, form_post
from tests.e2e.helpers import introspect, post_token, redirect_query
from tests.e2e.oidc import USERINFO_URL, authorize, code_for, exchange, jwt_parts, oidc_tokens

pytestmark = [pytest.mark.django_db, pytest.mark.rfc("OIDC-Discovery", "3")]
DOCUMENTS = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]
ENDPOINTS = [
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "introspection_endpoint",
    "revocation_endpoint",
    "end_session_endpoint",
]


@pytest.fixture(params=DOCUMENTS)
def meta(request):
    response = BrowserClient().get(request.param)
    assert response.status_code == 200
    return response.json()


def path_of(url):
    assert url.startswith(settings.ISSUER + "/"), url
    return urlsplit(url).path


def test_the_openid_fields_are_exact(meta):
    assert meta["issuer"] == settings.ISSUER
    assert meta["response_types_supported"] == ["code"]
    assert meta["response_modes_supported"] == ["query"]
    assert meta["subject_types_supported"] == ["public"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert set(meta["prompt_values_supported"]) == {"none", "login", "consent"}
    assert meta["claims_parameter_supported"] is True
    for flag in ("request_parameter_supported", "request_uri_parameter_supported"):
        assert meta[flag] is False, flag
    assert meta["frontchannel_logout_supported"] is False
    assert meta["backchannel_logout_supported"] is True
    assert meta["backchannel_logout_session_supported"] is True
    assert "openid" in meta["scopes_supported"]


def test_every_advertised_endpoint_is_served(meta, confidential):
    """Each URL resolves here, and a call without credentials gets a protocol answer (not 404/5xx)."""
    for name in ENDPOINTS:
        resolve(path_of(meta[name]))
    anonymous = BrowserClient()
    # A request without parameters: the error page, before any login (nothing could succeed).
    assert anonymous.get(path_of(meta["authorization_endpoint"])).status_code == 400
    assert form_post(anonymous, path_of(meta["token_endpoint"]), {"grant_type": "x"}).status_code in (400, 401)
    assert anonymous.get(path_of(meta["userinfo_endpoint"])).status_code == 401
    assert anonymous.get(path_of(meta["jwks_uri"])).json()["keys"]
    assert form_post(anonymous, path_of(meta["introspection_endpoint"]), {"token": "x"}).status_code == 401
    assert form_post(anonymous, path_of(meta["revocation_endpoint"]), {"token": "x"}).status_code in (200, 401)
    assert anonymous.get(path_of(meta["end_session_endpoint"])).status_code == 200


def test_every_scope_can_be_requested(meta, browser, make_client):
    # A client listing them all: `permissions` is granted only to clients that list it.
    every = make_client(name="Every scope", scopes=" ".join(meta["scopes_supported"]))
    for scope in meta["scopes_supported"]:
        tokens = oidc_tokens(browser, every, scope=scope)
        assert tokens["scope"] == scope
        assert ("id_token" in tokens) == (scope == "openid")


def test_every_grant_works(password_grant_enabled, meta, browser, make_client, user):
    from conftest import PASSWORD

    grants = set(meta["grant_types_supported"])
    assert grants == {"authorization_code", "refresh_token", "client_credentials", "password"}
    pair = make_client(
        name="All", grant_types=["authorization_code", "refresh_token", "client_credentials", "password"]
    )
    client, secret = pair
    issued = oidc_tokens(browser, pair)
    auth = (client.client_id, secret)
    assert (
        post_token({"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]}, auth=auth).status_code
        == 200
    )
    assert post_token({"grant_type": "client_credentials"}, auth=auth).status_code == 200
    response = post_token({"grant_type": "password", "username": user.username, "password": PASSWORD}, auth=auth)
    assert response.status_code == 200


def test_every_token_endpoint_auth_method_works(meta, browser, confidential, public):
    client, secret = confidential
    assert set(meta["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post", "none"}
    code, verifier = code_for(browser, client)
    assert exchange(confidential, code, verifier).status_code == 200  # client_secret_basic
    code, verifier = code_for(browser, client)
    body = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_secret": secret}
    body.update(client_id=client.client_id, redirect_uri="https://app.example.com/callback")
    assert post_token(body).status_code == 200  # client_secret_post
    code, verifier = code_for(browser, public)
    assert exchange((public, None), code, verifier).status_code == 200  # none (PKCE)


def test_every_revocation_auth_method_works(meta, browser, confidential, public):
    client, secret = confidential
    assert set(meta["revocation_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }
    api = BrowserClient()
    first, second = oidc_tokens(browser, confidential), oidc_tokens(browser, confidential)
    basic_auth = basic(client.client_id, secret)
    assert (
        form_post(api, "/oauth/revoke/", {"token": first["access_token"]}, HTTP_AUTHORIZATION=basic_auth).status_code
        == 200
    )
    post_body = {"token": second["access_token"], "client_id": client.client_id, "client_secret": secret}
    assert form_post(api, "/oauth/revoke/", post_body).status_code == 200
    third = oidc_tokens(browser, (public, None))
    assert (
        form_post(api, "/oauth/revoke/", {"token": third["access_token"], "client_id": public.client_id}).status_code
        == 200
    )
    assert all(
        BrowserClient().get(USERINFO_URL, HTTP_AUTHORIZATION=f"Bearer {t['access_token']}").status_code == 401
        for t in (first, second, third)
    )


def test_every_introspection_auth_method_works(meta, browser, confidential):
    client, secret = confidential
    assert set(meta["introspection_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
    token = oidc_tokens(browser, confidential)["access_token"]
    assert introspect(token, (client.client_id, secret)).json()["active"] is True
    body = {"token": token, "client_id": client.client_id, "client_secret": secret}
    assert form_post(BrowserClient(), "/oauth/introspect/", body).json()["active"] is True


def test_advertised_claims_are_the_ones_issued(meta, browser, make_client, user):
    from accounts import flows

    flows.update_profile(
        user=user,
        email=user.email,
        first_name="Ada",
        middle_name="A.",
        last_name="Lovelace",
        nickname="Ada",
        picture="https://cdn.example.com/ada.png",
        website="https://ada.example.com",
        gender="female",
        birthdate=date(1815, 12, 10),
        zoneinfo="Europe/London",
        locale="en-GB",
        phone_number="+441632960961",
        address_locality="London",
    )
    every = make_client(name="Every scope", scopes=" ".join(meta["scopes_supported"]))
    issued = oidc_tokens(browser, every, scope="openid profile email phone address roles permissions", nonce="n")
    header, id_claims = jwt_parts(issued["id_token"])
    info = BrowserClient().get(USERINFO_URL, HTTP_AUTHORIZATION=f"Bearer {issued['access_token']}").json()
    issued_claims = set(id_claims) | set(info)
    assert issued_claims == set(meta["claims_supported"])
    assert header["alg"] in meta["id_token_signing_alg_values_supported"]
    assert id_claims["acr"] in meta["acr_values_supported"]


def test_the_response_mode_is_query(meta, browser, trusted):
    parts, query = redirect_query(authorize(browser, trusted[0])[0])
    assert query["code"] and not parts.fragment


def test_subjects_are_public_the_same_for_every_client(meta, browser, confidential, other, user):
    subs = {jwt_parts(oidc_tokens(browser, pair)["id_token"])[1]["sub"] for pair in (confidential, other)}
    assert subs == {user.subject}


def test_the_oidc_server_runs_only_the_advertised_grants_and_response_types(meta):
    from oauth.server import OIDCServer
    from oauth.validators import Validator

    server = OIDCServer(Validator())
    assert set(server.grant_types) == set(meta["grant_types_supported"])
    assert set(server.response_types) == set(meta["response_types_supported"])
