import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
URL = "/.well-known/jwks.json"
pytestmark = pytest.mark.django_db


def b64url_int(value):
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def rfc7638_thumbprint(jwk):
    """RFC 7638 3: SHA-256 of the required members, sorted, no whitespace."""
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip("=")


@pytest.fixture
def jwks(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()["keys"]


def test_publishes_at_least_one_key(jwks):
    assert jwks


def test_public_members_only(jwks):
    for key in jwks:
        assert not PRIVATE_MEMBERS & set(key), key


def test_kids_are_unique(jwks):
    kids = [key["kid"] for key in jwks]
    assert len(kids) == len(set(kids))


def test_rsa_signing_keys_for_rs256_of_2048_bits_or_more(jwks):
    for key in jwks:
        assert key["kty"] == "RSA"
        assert key["use"] == "sig"
        assert key["alg"] == "RS256"
        assert b64url_int(key["n"]).bit_length() >= 2048
        assert b64url_int(key["e"]) == 65537


def test_kid_is_the_rfc7638_thumbprint(jwks):
    for key in jwks:
        assert key["kid"] == rfc7638_thumbprint(key)


def test_thumbprint_helper_matches_rfc7638_example():
    # RFC 7638 3.1.
    example = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjB"
            "ZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8"
            "KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_"
            "xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert rfc7638_thumbprint(example) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_published_key_matches_the_signing_key(jwks):
    from oauth import keys

    signer = keys.signing_key()
    assert signer["kid"] in {key["kid"] for key in jwks}
    public = signer.get_op_key("verify")
    assert isinstance(public, rsa.RSAPublicKey)


def test_jwks_is_cacheable_for_a_bounded_time(client):
    cache_control = client.get(URL)["Cache-Control"]
    directives = dict(d.strip().partition("=")[::2] for d in cache_control.split(","))
    assert 0 < int(directives["max-age"]) <= 3600
    assert "no-store" not in directives
