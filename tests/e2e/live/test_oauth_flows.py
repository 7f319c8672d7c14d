"""The whole OAuth 2.0 surface over real HTTP, with Authlib as the client.

Nothing here calls the server in-process: discovery, the browser's login and consent, the
token endpoint, the JWKS and the APIs are all reached through the live server's sockets, and
the access token is verified with jwcrypto from the JWKS fetched over HTTP.
"""

import time

import pytest
from authlib.integrations.requests_client import OAuthError
from authlib.oauth2.rfc6749.errors import MismatchingStateException

from .support import REDIRECT_URI, TIMEOUT, authorize, bearer, http_get, query_of, verify_access_token

pytestmark = pytest.mark.django_db(transaction=True)


def api_me(issuer, token):
    return http_get(f"{issuer}/api/me", headers=bearer(token))


def code_flow(oauth, browser, client_id, secret=None, **session_kwargs):
    """Authorize in the browser and redeem the code with Authlib: (session, token, location)."""
    session = oauth(client_id, secret, **session_kwargs)
    location, _, verifier = authorize(browser, session)
    token = session.fetch_token(authorization_response=location, code_verifier=verifier)
    return session, token, location


# --- discovery ------------------------------------------------------------------------------


@pytest.mark.parametrize("document", ["openid-configuration", "oauth-authorization-server"])
def test_discovery_advertises_the_live_server(issuer, document):
    response = http_get(f"{issuer}/.well-known/{document}")
    assert response.status_code == 200
    meta = response.json()
    assert meta["issuer"] == issuer
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "introspection_endpoint",
    ):
        assert meta[name].startswith(f"{issuer}/"), (name, meta[name])
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert {"client_secret_basic", "client_secret_post"} <= set(meta["token_endpoint_auth_methods_supported"])
    assert http_get(meta["jwks_uri"]).json()["keys"]


# --- (a) authorization code + PKCE ------------------------------------------------------------


def test_authorization_code_with_pkce(oauth, issuer, metadata, browser, account, web_app, fetch_jwks, settings):
    client, secret = web_app
    session = oauth(client.client_id, secret)
    location, state, verifier = authorize(browser, session)

    # The authorization response (RFC 6749 4.1.2, RFC 9207).
    assert location.startswith(REDIRECT_URI + "?")
    response = query_of(location)
    assert response["state"] == state
    assert response["iss"] == issuer == metadata["issuer"]
    assert response["code"]

    token = session.fetch_token(authorization_response=location, code_verifier=verifier)
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "profile email"
    assert 0 < token["expires_in"] <= settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]
    assert token["refresh_token"] and token["refresh_token"].count(".") == 0  # opaque
    assert "id_token" not in token  # no openid scope asked

    # An independent resource server verifies the JWT with the published keys only.
    header, claims = verify_access_token(
        token["access_token"], jwks=fetch_jwks(), issuer=issuer, audience=f"{issuer}/api"
    )
    assert claims["sub"] == str(account.subject)
    assert claims["client_id"] == client.client_id
    assert claims["scope"] == "profile email"
    assert claims["jti"]
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["exp"] - claims["iat"] == token["expires_in"]

    # The API accepts it, through Authlib's own bearer auth too.
    me = session.get(f"{issuer}/api/me", timeout=TIMEOUT)
    assert me.status_code == 200, me.text
    assert me.json() == {
        "type": "user",
        "sub": str(account.subject),
        "username": account.username,
        "client_id": client.client_id,
        "email": account.email,
    }

    # Introspection (RFC 7662) by the client that holds the token.
    intro = session.introspect_token(metadata["introspection_endpoint"], token=token["access_token"])
    assert intro.status_code == 200, intro.text
    body = intro.json()
    assert body["active"] is True
    assert body["client_id"] == client.client_id
    assert body["sub"] == claims["sub"]
    assert body["jti"] == claims["jti"]
    assert body["iss"] == issuer
    assert body["username"] == account.username


def test_code_can_be_redeemed_once(oauth, metadata, browser, web_app, issuer):
    client, secret = web_app
    session = oauth(client.client_id, secret)
    location, _, verifier = authorize(browser, session)
    token = session.fetch_token(authorization_response=location, code_verifier=verifier)
    with pytest.raises(OAuthError) as replay:
        session.fetch_token(authorization_response=location, code_verifier=verifier)
    assert replay.value.error == "invalid_grant"
    # A replayed code revokes what it issued (RFC 6749 4.1.2).
    assert api_me(issuer, token["access_token"]).status_code == 401


def test_wrong_code_verifier_is_refused(oauth, metadata, browser, web_app):
    client, secret = web_app
    session = oauth(client.client_id, secret)
    location, _, _ = authorize(browser, session)
    with pytest.raises(OAuthError) as refused:
        session.fetch_token(authorization_response=location, code_verifier="w" * 64)
    assert refused.value.error == "invalid_grant"


def test_public_client_with_pkce(oauth, issuer, metadata, browser, native_app):
    session, token, _ = code_flow(oauth, browser, native_app.client_id)
    assert api_me(issuer, token["access_token"]).json()["client_id"] == native_app.client_id
    # A public client refreshes with its client_id alone (token_endpoint_auth_method "none").
    refreshed = session.refresh_token(metadata["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]
    assert api_me(issuer, refreshed["access_token"]).status_code == 200
    # ...and revokes its refresh token the same way (RFC 7009 2.1: client_id in the body).
    revoked = session.revoke_token(
        metadata["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token"
    )
    assert revoked.status_code == 200, revoked.text
    with pytest.raises(OAuthError) as refused:
        session.refresh_token(metadata["token_endpoint"])
    assert refused.value.error == "invalid_grant"


def test_refresh_rotates_and_reuse_is_refused(oauth, issuer, metadata, browser, web_app):
    client, secret = web_app
    session, first, _ = code_flow(oauth, browser, client.client_id, secret)
    old_refresh = first["refresh_token"]

    second = session.refresh_token(metadata["token_endpoint"], refresh_token=old_refresh)
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] and second["refresh_token"] != old_refresh
    assert second["scope"] == "profile email"
    assert api_me(issuer, second["access_token"]).status_code == 200

    # Reusing the rotated-out refresh token is refused...
    with pytest.raises(OAuthError) as reuse:
        session.refresh_token(metadata["token_endpoint"], refresh_token=old_refresh)
    assert reuse.value.error == "invalid_grant"
    # ...and, as it signals theft, revokes the whole family (RFC 9700 4.14.2).
    assert api_me(issuer, second["access_token"]).status_code == 401
    with pytest.raises(OAuthError) as family:
        session.refresh_token(metadata["token_endpoint"], refresh_token=second["refresh_token"])
    assert family.value.error == "invalid_grant"


def test_revocation(oauth, issuer, metadata, browser, web_app):
    client, secret = web_app
    session, token, _ = code_flow(oauth, browser, client.client_id, secret)
    assert api_me(issuer, token["access_token"]).status_code == 200

    revoked = session.revoke_token(
        metadata["revocation_endpoint"], token=token["access_token"], token_type_hint="access_token"
    )
    assert revoked.status_code == 200, revoked.text
    me = api_me(issuer, token["access_token"])
    assert me.status_code == 401
    assert 'error="invalid_token"' in me.headers["WWW-Authenticate"]
    intro = session.introspect_token(metadata["introspection_endpoint"], token=token["access_token"])
    assert intro.json() == {"active": False}

    # Revoking the refresh token ends the grant: it can no longer be used.
    revoked = session.revoke_token(
        metadata["revocation_endpoint"], token=token["refresh_token"], token_type_hint="refresh_token"
    )
    assert revoked.status_code == 200, revoked.text
    with pytest.raises(OAuthError) as refused:
        session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refused.value.error == "invalid_grant"

    # Revoking an unknown token is still a 200 (RFC 7009 2.2).
    assert session.revoke_token(metadata["revocation_endpoint"], token="not-a-token").status_code == 200


def test_api_without_or_with_a_bad_token(issuer):
    response = http_get(f"{issuer}/api/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert api_me(issuer, "a.b.c").status_code == 401


# --- (b) client credentials -------------------------------------------------------------------


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials(oauth, issuer, metadata, service_app, fetch_jwks, auth_method):
    client, secret = service_app
    session = oauth(client.client_id, secret, scope="profile", token_endpoint_auth_method=auth_method)
    token = session.fetch_token(grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "profile"
    assert "refresh_token" not in token  # RFC 6749 4.4.3

    _, claims = verify_access_token(token["access_token"], jwks=fetch_jwks(), issuer=issuer, audience=f"{issuer}/api")
    assert claims["sub"] == claims["client_id"] == client.client_id

    me = session.get(f"{issuer}/api/me", timeout=TIMEOUT)
    assert me.status_code == 200, me.text
    assert me.json() == {"type": "client", "client_id": client.client_id, "name": client.name}

    # Introspection and revocation accept the same client authentication method.
    intro = session.introspect_token(metadata["introspection_endpoint"], token=token["access_token"])
    assert intro.status_code == 200, intro.text
    assert intro.json()["active"] is True and intro.json()["sub"] == client.client_id
    revoked = session.revoke_token(metadata["revocation_endpoint"], token=token["access_token"])
    assert revoked.status_code == 200, revoked.text
    assert api_me(issuer, token["access_token"]).status_code == 401


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials_wrong_secret(oauth, metadata, service_app, auth_method):
    client, secret = service_app
    session = oauth(client.client_id, secret[:-1] + "!", token_endpoint_auth_method=auth_method)
    with pytest.raises(OAuthError) as refused:
        session.fetch_token(grant_type="client_credentials", scope="profile")
    assert refused.value.error == "invalid_client"


def test_client_credentials_scope_outside_the_clients_allowance(oauth, metadata, service_app):
    client, secret = service_app
    session = oauth(client.client_id, secret, scope="write")
    with pytest.raises(OAuthError) as refused:
        session.fetch_token(grant_type="client_credentials")
    assert refused.value.error == "invalid_scope"


# --- (c) state, and the user saying no -------------------------------------------------------


def test_state_is_returned_and_checked_by_the_client(oauth, issuer, metadata, browser, web_app):
    client, secret = web_app
    session = oauth(client.client_id, secret)
    chosen = "opaque state with spaces & symbols/?=#"
    location, state, verifier = authorize(browser, session, state=chosen)
    assert state == chosen
    assert query_of(location)["state"] == chosen  # returned exactly, decoded
    # Authlib refuses a response whose state is not the one it sent (CSRF, RFC 6749 10.12).
    with pytest.raises(MismatchingStateException):
        session.fetch_token(authorization_response=location, code_verifier=verifier, state="another state")
    token = session.fetch_token(authorization_response=location, code_verifier=verifier, state=chosen)
    assert token["access_token"]


def test_denied_consent_redirects_with_access_denied(oauth, issuer, metadata, browser, web_app):
    client, secret = web_app
    session = oauth(client.client_id, secret)
    location, state, _ = authorize(browser, session, allow=False)
    assert location.startswith(REDIRECT_URI + "?")
    response = query_of(location)
    assert response["error"] == "access_denied"
    assert response["state"] == state
    assert response["iss"] == issuer
    assert "code" not in response
