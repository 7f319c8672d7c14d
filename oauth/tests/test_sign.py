"""sign builds the compact JWS itself (no jwcrypto on the signing path): its tokens must
be exactly what jwcrypto made before, and verify with every JOSE library a client may use."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import KeySet
from jwcrypto import jws, jwt

from oauth import flows, keys
from oauth.claims import ACR_PASSWORD, AMR_PASSWORD, access_token_claims, id_token_claims
from oauth.jws import ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE, sign, verify_access_token, verify_id_token_hint

pytestmark = pytest.mark.django_db


def access_claims():
    return access_token_claims(
        issuer=settings.ISSUER,
        audience=settings.ACCESS_TOKEN_AUDIENCE,
        client_id="client",
        subject="3f1c2d4e-0000-4000-8000-000000000000",
        scope="openid profile",
        lifetime=900,
        auth_time=1_700_000_000,
        sid="a-session-id",
    )


def id_claims():
    return id_token_claims(
        issuer=settings.ISSUER,
        client_id="client",
        subject="3f1c2d4e-0000-4000-8000-000000000000",
        lifetime=3600,
        auth_time=1_700_000_000,
        amr=AMR_PASSWORD,
        acr=ACR_PASSWORD,
        # Clients choose nonces: quotes, backslashes, non-ASCII and line separators survive.
        nonce='n-0S6_WzA2Mj "\\ é ✓ \u2028',
        at_hash="77QmUPtjPfzWtF2AnpK9RQ",
        sid="a-session-id",
    )


CASES = [(access_claims, ACCESS_TOKEN_TYPE), (id_claims, ID_TOKEN_TYPE), (access_claims, "logout+jwt")]


def signed_by_jwcrypto(claims, typ):
    """sign as it was: jwcrypto's JWT with the active key."""
    key = keys.signing_key()
    token = jwt.JWT(header={"alg": "RS256", "typ": typ, "kid": key["kid"]}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def decoded_bytes(segment):
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def decoded(segment):
    return json.loads(decoded_bytes(segment))


@pytest.mark.parametrize("make_claims, typ", CASES)
def test_the_token_is_byte_for_byte_the_one_jwcrypto_makes(make_claims, typ):
    claims = make_claims()
    assert sign(claims, typ=typ) == signed_by_jwcrypto(claims, typ)


@pytest.mark.parametrize("make_claims, typ", CASES)
def test_header_and_claims(make_claims, typ):
    claims = make_claims()
    header, payload, signature = sign(claims, typ=typ).split(".")
    assert decoded(header) == {"alg": "RS256", "typ": typ, "kid": keys.signing_key()["kid"]}
    assert decoded(payload) == claims
    assert "=" not in header + payload + signature  # base64url without padding (RFC 7515 2)


@pytest.mark.parametrize("make_claims, typ", CASES)
def test_verifies_with_jwcrypto(make_claims, typ):
    claims = make_claims()
    token = sign(claims, typ=typ)
    parsed = jws.JWS()
    parsed.deserialize(token)
    parsed.verify(keys.verification_key(keys.signing_key()["kid"]), alg="RS256")
    assert json.loads(parsed.payload) == claims
    assert parsed.jose_header == {"alg": "RS256", "typ": typ, "kid": keys.signing_key()["kid"]}


@pytest.mark.parametrize("make_claims, typ", CASES)
def test_verifies_with_joserfc_against_the_published_jwks(make_claims, typ):
    """joserfc (Authlib's JOSE library), given only what a client has: the JWKS."""
    claims = make_claims()
    token = joserfc_jwt.decode(sign(claims, typ=typ), KeySet.import_key_set(keys.public_jwks()), ["RS256"])
    assert token.claims == claims
    assert token.header == {"alg": "RS256", "typ": typ, "kid": keys.signing_key()["kid"]}


def test_verifies_with_cryptography_as_rsassa_pkcs1_v1_5_sha256():
    token = sign(access_claims(), typ=ACCESS_TOKEN_TYPE)
    signing_input, _, signature = token.rpartition(".")
    public_key = keys.signing_key().get_op_key("verify")
    public_key.verify(decoded_bytes(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_our_verifiers_accept_what_sign_makes():
    access = sign(access_claims(), typ=ACCESS_TOKEN_TYPE)
    assert verify_access_token(access) == json.loads(decoded_bytes(access.split(".")[1]))
    id_token = sign(id_claims(), typ=ID_TOKEN_TYPE)
    assert verify_id_token_hint(id_token)["nonce"] == id_claims()["nonce"]


def test_the_key_object_is_taken_once_per_key():
    kid, first = keys.signer()
    assert kid == keys.signing_key()["kid"]
    keys.refresh()  # a re-read of the table: the same parsed key, the same object
    assert keys.signer() == (kid, first)
    assert "signer" not in repr(keys._key_set())  # the key object is never shown


def test_a_rotated_key_signs_with_its_own_kid_and_old_tokens_still_verify():
    old_kid, old_key = keys.signer()
    before = sign(access_claims(), typ=ACCESS_TOKEN_TYPE)
    result = flows.rotate_signing_keys(force=True)
    assert result.retired == old_kid
    new_kid, new_key = keys.signer()
    assert new_kid == result.activated != old_kid and new_key is not old_key
    after = sign(access_claims(), typ=ACCESS_TOKEN_TYPE)
    assert decoded(after.split(".")[0])["kid"] == new_kid
    jwks = KeySet.import_key_set(keys.public_jwks())
    for token, kid in ((before, old_kid), (after, new_kid)):
        assert joserfc_jwt.decode(token, jwks, ["RS256"]).header["kid"] == kid
        assert verify_access_token(token)["iss"] == settings.ISSUER
    assert signed_by_jwcrypto(json.loads(decoded_bytes(after.split(".")[1])), ACCESS_TOKEN_TYPE) == after


def test_authentication_context_tells_one_factor_from_two():
    from oauth.claims import ACR_MFA, authentication_context

    assert authentication_context(None) == (["pwd"], ACR_PASSWORD)
    assert authentication_context([]) == (["pwd"], ACR_PASSWORD)
    assert authentication_context(["pwd", "otp"]) == (["otp", "pwd"], ACR_MFA)
    assert authentication_context(["hwk"]) == (["hwk"], ACR_MFA)
    assert authentication_context(["pwd", "pwd"]) == (["pwd"], ACR_PASSWORD)
