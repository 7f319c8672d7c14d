"""Dynamic client registration (RFC 7591 / 7592) against the live server, by client libraries
nobody here wrote: a third party registers itself at the registration endpoint found in
discovery, then logs a user in (authorization code, PKCE, consent) with what it got.

Authlib registers with an operator's initial access token (sent by its OAuth2Session as a
Bearer token) and its RFC 7591 metadata rules (ClientMetadataClaims) check the answer. pyoidc
(`oic`) registers a public client on an open server; it is not used with an initial access
token because it base64-encodes any token that is not a JWT before sending it (oic 1.7
`Client.register`), which no server that issues opaque tokens accepts.
"""

import secrets
from datetime import timedelta

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7591 import ClientMetadataClaims
from oic.oic import Client as OicClient
from oic.oic.message import AccessTokenResponse, AuthorizationResponse, RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD
from oic.utils.settings import OicClientSettings

from oauth import flows
from oauth.models import Client

from .support import REDIRECT_URI, TIMEOUT, authorize, bearer, http_get, one_shot, query_of, well_known

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.rfc("7591", "3")]


@pytest.mark.parametrize("document", ["openid-configuration", "oauth-authorization-server"])
def test_authlib_registers_with_an_initial_access_token_and_logs_a_user_in(
    settings, issuer, browser, account, oauth, document
):
    settings.CLIENT_REGISTRATION = "token"
    discovery = well_known(issuer, document)
    _, initial_token = flows.issue_initial_access_token(expires_in=timedelta(hours=1), uses=1, label="Authlib")
    metadata = {
        "client_name": "Partner app",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "scope": "openid profile email",
        "contacts": ["dev@partner.example"],
    }
    registrar = one_shot(OAuth2Session(token={"access_token": initial_token, "token_type": "Bearer"}))
    with registrar:
        response = registrar.post(discovery["registration_endpoint"], json=metadata, timeout=TIMEOUT)
        assert response.status_code == 201, response.text
        registered = response.json()
        ClientMetadataClaims(registered, {}).validate()  # Authlib's RFC 7591 2 rules
        # The token was one-use: a second registration is refused.
        again = registrar.post(discovery["registration_endpoint"], json=metadata, timeout=TIMEOUT)
        assert again.status_code == 401 and again.headers["WWW-Authenticate"].startswith("Bearer ")
    assert response.headers["Cache-Control"] == "no-store"
    assert registered["client_secret_expires_at"] == 0 and registered["client_id_issued_at"] > 0

    # The new client logs the user in: consent page (it is not trusted), code, PKCE, tokens.
    session = oauth(registered["client_id"], registered["client_secret"], scope="openid profile email")
    url, _ = session.create_authorization_url(discovery["authorization_endpoint"], code_verifier="v" * 64)
    assert "Partner app" in browser.consent_page(url).text
    location, _, verifier = authorize(browser, session)
    assert query_of(location)["iss"] == issuer
    token = session.fetch_token(discovery["token_endpoint"], authorization_response=location, code_verifier=verifier)
    assert token["id_token"] and token["refresh_token"]
    api = http_get(f"{issuer}/api/me", headers=bearer(token["access_token"]))
    assert api.status_code == 200 and api.json()["username"] == account.username

    # RFC 7592: the registration access token reads the registration, then deletes it, which
    # ends the tokens the client got.
    uri, auth = registered["registration_client_uri"], bearer(registered["registration_access_token"])
    with one_shot(requests.Session()) as http:
        assert http.get(uri, headers=auth, timeout=TIMEOUT).json()["client_name"] == "Partner app"
        assert http.delete(uri, headers=auth, timeout=TIMEOUT).status_code == 204
        assert http.get(uri, headers=auth, timeout=TIMEOUT).status_code == 401
    assert http_get(f"{issuer}/api/me", headers=bearer(token["access_token"])).status_code == 401
    assert not Client.objects.filter(client_id=registered["client_id"]).exists()


@pytest.mark.rfc("7591", "2")
@pytest.mark.parametrize(
    ("method", "other"), [("client_secret_post", "client_secret_basic"), ("client_secret_basic", "client_secret_post")]
)
def test_authlib_authenticates_with_the_method_it_registered_and_no_other(settings, issuer, oauth, method, other):
    settings.CLIENT_REGISTRATION = "token"
    discovery = well_known(issuer, "oauth-authorization-server")
    assert method in discovery["token_endpoint_auth_methods_supported"]
    _, initial_token = flows.issue_initial_access_token(expires_in=timedelta(hours=1), uses=1, label="Authlib")
    metadata = {"grant_types": ["client_credentials"], "token_endpoint_auth_method": method, "scope": "profile"}
    with one_shot(OAuth2Session(token={"access_token": initial_token, "token_type": "Bearer"})) as registrar:
        registered = registrar.post(discovery["registration_endpoint"], json=metadata, timeout=TIMEOUT).json()
    assert registered["token_endpoint_auth_method"] == method
    client_id, secret = registered["client_id"], registered["client_secret"]

    session = oauth(client_id, secret, scope="profile", token_endpoint_auth_method=method)
    token = session.fetch_token(discovery["token_endpoint"], grant_type="client_credentials")
    revoked = session.revoke_token(discovery["revocation_endpoint"], token=token["access_token"])
    assert revoked.status_code == 200, revoked.text

    stranger = oauth(client_id, secret, scope="profile", token_endpoint_auth_method=other)
    with pytest.raises(OAuthError) as refused:
        stranger.fetch_token(discovery["token_endpoint"], grant_type="client_credentials")
    assert refused.value.error == "invalid_client"
    revoked = stranger.revoke_token(discovery["revocation_endpoint"], token=token["access_token"])
    assert revoked.status_code == 401 and revoked.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.fixture
def oic_rp(issuer):
    session = one_shot(requests.Session())
    rp = OicClient(
        client_authn_method=CLIENT_AUTHN_METHOD,
        settings=OicClientSettings(requests_session=session, timeout=TIMEOUT),
    )
    yield rp
    session.close()


def test_pyoidc_registers_a_public_client_on_an_open_server_and_logs_a_user_in(
    settings, issuer, oic_rp, browser, account
):
    settings.CLIENT_REGISTRATION = "open"
    rp = oic_rp
    rp.provider_config(issuer, keys=False)
    rp.keyjar.import_jwks(http_get(rp.provider_info["jwks_uri"]).json(), issuer)
    registered = rp.register(
        rp.provider_info["registration_endpoint"],
        redirect_uris=[REDIRECT_URI],
        response_types=["code"],
        token_endpoint_auth_method="none",
        client_name="Native app",
    )
    assert isinstance(registered, RegistrationResponse), registered
    assert registered["token_endpoint_auth_method"] == "none" and "client_secret" not in registered
    assert rp.registration_access_token

    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    pkce, verifier = rp.add_code_challenge()
    request = rp.construct_AuthorizationRequest(
        request_args={
            "response_type": "code",
            "scope": ["openid", "profile"],
            "state": state,
            "nonce": nonce,
            "redirect_uri": REDIRECT_URI,
            **pkce,
        }
    )
    page = browser.consent_page(request.request(rp.authorization_endpoint))
    assert "Native app" in page.text
    location = browser.answer_consent(page, allow=True)
    response = rp.parse_response(AuthorizationResponse, info=location.split("?", 1)[1], sformat="urlencoded")
    tokens = rp.do_access_token_request(
        state=state,
        request_args={
            "code": response["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": rp.client_id,
        },
        authn_method="",
    )
    assert isinstance(tokens, AccessTokenResponse), tokens
    assert tokens["id_token"]["nonce"] == nonce and tokens["id_token"]["sub"] == account.subject

    # RFC 7592 read, by oic itself.
    read = rp.registration_read()
    assert read["client_id"] == rp.client_id and read["redirect_uris"] == [REDIRECT_URI]
