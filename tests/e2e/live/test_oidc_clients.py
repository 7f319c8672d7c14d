"""OpenID Connect against the live server with two relying-party libraries nobody here wrote:
pyoidc (`oic`) and Authlib. Each starts from the discovery document alone, runs the code flow
with PKCE and a nonce, validates the ID token with the published JWKS (signature, iss, aud,
nonce, at_hash), calls UserInfo and refreshes.
"""

import secrets

import pytest
import requests
from authlib.oidc.core import CodeIDToken
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import KeySet
from oic.oic import Client as OicClient
from oic.oic.message import AccessTokenResponse, AuthorizationResponse, OpenIDSchema, RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD
from oic.utils.settings import OicClientSettings

from .support import REDIRECT_URI, TIMEOUT, authorize, http_get, one_shot, query_of, well_known

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.rfc("OIDC-Core", "3.1")]
SCOPE = "openid profile email"


@pytest.fixture
def discovery(issuer):
    return well_known(issuer, "openid-configuration")


@pytest.fixture
def jwks(discovery):
    return http_get(discovery["jwks_uri"]).json()


# --- pyoidc ---------------------------------------------------------------------------------


@pytest.fixture
def oic_client(issuer, web_app, jwks):
    """An oic Client configured from discovery, with the client's credentials registered by hand."""
    client, secret = web_app
    session = one_shot(requests.Session())
    rp = OicClient(
        client_authn_method=CLIENT_AUTHN_METHOD,
        settings=OicClientSettings(requests_session=session, timeout=TIMEOUT),
    )
    # Discovery over HTTP; the JWKS fetched above (one-shot connection) goes in the key jar.
    rp.provider_config(issuer, keys=False)
    rp.keyjar.import_jwks(jwks, issuer)
    rp.store_registration_info(
        RegistrationResponse(client_id=client.client_id, client_secret=secret, redirect_uris=[REDIRECT_URI])
    )
    rp.redirect_uris = [REDIRECT_URI]
    yield rp
    session.close()


def test_pyoidc_code_flow_with_pkce_nonce_userinfo_and_refresh(oic_client, browser, account, issuer, web_app):
    rp = oic_client
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    pkce, verifier = rp.add_code_challenge()
    request = rp.construct_AuthorizationRequest(
        request_args={
            "response_type": "code",
            "scope": SCOPE.split(),
            "state": state,
            "nonce": nonce,
            "redirect_uri": REDIRECT_URI,
            **pkce,
        }
    )
    page = browser.consent_page(request.request(rp.authorization_endpoint))
    location = browser.answer_consent(page, allow=True)
    assert query_of(location)["iss"] == issuer

    response = rp.parse_response(AuthorizationResponse, info=location.split("?", 1)[1], sformat="urlencoded")
    assert response["state"] == state

    tokens = rp.do_access_token_request(
        state=state,
        request_args={"code": response["code"], "redirect_uri": REDIRECT_URI, "code_verifier": verifier},
        authn_method="client_secret_basic",
    )
    assert isinstance(tokens, AccessTokenResponse), tokens
    # oic verified the ID token: signature with the JWKS key for its kid, iss, aud, exp, nonce, at_hash.
    id_token = tokens["id_token"]
    assert id_token["nonce"] == nonce
    assert id_token["sub"] == account.subject
    assert id_token["aud"] == [web_app[0].client_id]
    assert id_token["at_hash"] and id_token["auth_time"]
    assert id_token.jws_header["alg"] == "RS256"

    info = rp.do_user_info_request(state=state, method="GET")
    assert isinstance(info, OpenIDSchema), info
    assert info["sub"] == account.subject
    assert info["preferred_username"] == account.username
    assert info["email"] == account.email and info["email_verified"] is False

    refreshed = rp.do_access_token_refresh(state=state, authn_method="client_secret_basic")
    assert isinstance(refreshed, AccessTokenResponse), refreshed
    assert refreshed["access_token"] != tokens["access_token"]
    assert refreshed["id_token"]["sub"] == account.subject
    assert refreshed["id_token"]["auth_time"] == id_token["auth_time"]


# --- Authlib --------------------------------------------------------------------------------


def validate_id_token(token, *, jwks, issuer, client_id, nonce=None):
    """Authlib's OpenID Connect ID token rules (CodeIDToken), after a signature check with the
    JWKS from discovery (joserfc, RS256 only). Returns the claims."""
    decoded = joserfc_jwt.decode(token["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        options={"iss": {"essential": True, "value": issuer}, "aud": {"essential": True, "value": client_id}},
        params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=5)
    assert decoded.header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert claims["at_hash"]  # present, so validate() checked it against the access token
    return claims


def test_authlib_code_flow_with_pkce_nonce_userinfo_and_refresh(
    oauth, browser, account, issuer, discovery, jwks, web_app
):
    client, secret = web_app
    session = oauth(client.client_id, secret, scope=SCOPE)
    nonce = secrets.token_urlsafe(16)
    location, _, verifier = authorize(browser, session, nonce=nonce)
    token = session.fetch_token(discovery["token_endpoint"], authorization_response=location, code_verifier=verifier)

    claims = validate_id_token(token, jwks=jwks, issuer=issuer, client_id=client.client_id, nonce=nonce)
    assert claims["sub"] == account.subject and claims["nonce"] == nonce

    with pytest.raises(Exception, match="nonce"):
        validate_id_token(token, jwks=jwks, issuer=issuer, client_id=client.client_id, nonce="another")
    with pytest.raises(Exception, match="aud"):
        validate_id_token(token, jwks=jwks, issuer=issuer, client_id="someone-else", nonce=nonce)
    with pytest.raises(Exception, match="iss"):
        validate_id_token(token, jwks=jwks, issuer="https://elsewhere.example", client_id=client.client_id)

    info = session.get(discovery["userinfo_endpoint"], timeout=TIMEOUT)
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == account.subject

    refreshed = session.refresh_token(discovery["token_endpoint"], refresh_token=token["refresh_token"])
    again = validate_id_token(refreshed, jwks=jwks, issuer=issuer, client_id=client.client_id)
    assert again["sub"] == claims["sub"] and again["auth_time"] == claims["auth_time"]

    # The ID token is not an access token, whatever a confused client does with it.
    confused = http_get(discovery["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['id_token']}"})
    assert confused.status_code == 401
