"""A signing-key rotation in the middle of a running client session breaks nothing
(issue 3): tokens signed before it keep validating, new tokens carry the new `kid`, and the
JWKS publishes both, so a relying party that refetches the JWKS verifies everything."""

import base64
import json
import secrets

import pytest
from authlib.oidc.core import CodeIDToken
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import KeySet

from oauth import flows

from .support import TIMEOUT, authorize, bearer, http_get, verify_access_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.rfc("OIDC-Core", "10.1.1")]


def _kid(token):
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def _id_token_claims(token, jwks, client_id, issuer):
    claims = joserfc_jwt.decode(token["id_token"], KeySet.import_key_set(jwks)).claims
    id_token = CodeIDToken(claims, {}, {"iss": {"values": [issuer]}, "aud": {"values": [client_id]}})
    id_token.validate()
    return claims


def test_rotation_mid_session(oauth, browser, issuer, metadata, fetch_jwks, web_app):
    client, secret = web_app
    session = oauth(client.client_id, secret, scope="openid profile")
    location, _, verifier = authorize(browser, session, nonce=secrets.token_urlsafe(8))
    before = session.fetch_token(metadata["token_endpoint"], authorization_response=location, code_verifier=verifier)
    # The daily cron run publishes a next key ahead of its use (and promotes nothing yet).
    assert flows.rotate_signing_keys().activated is None
    jwks_before = fetch_jwks()
    old_kid = _kid(before["access_token"])

    rotation = flows.rotate_signing_keys(force=True)  # the period is over: next becomes active
    assert rotation.retired == old_kid

    # The old access token still works at the API and still verifies with a fresh JWKS.
    jwks_after = fetch_jwks()
    assert old_kid in {k["kid"] for k in jwks_after["keys"]}
    assert http_get(f"{issuer}/api/me", headers=bearer(before["access_token"])).status_code == 200
    verify_access_token(before["access_token"], jwks=jwks_after, issuer=issuer, audience=f"{issuer}/api")

    # New tokens are signed by the new active key, which was published before it signed.
    after = session.refresh_token(metadata["token_endpoint"], refresh_token=before["refresh_token"])
    new_kid = _kid(after["access_token"])
    assert new_kid == rotation.activated != old_kid
    assert new_kid in {k["kid"] for k in jwks_before["keys"]}, "the new key was published ahead"
    verify_access_token(after["access_token"], jwks=jwks_after, issuer=issuer, audience=f"{issuer}/api")
    assert _id_token_claims(after, jwks_after, client.client_id, issuer)["sub"]
    me = session.get(f"{issuer}/api/me", timeout=TIMEOUT)
    assert me.status_code == 200, me.text
