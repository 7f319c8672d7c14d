"""The suite's own checks can fail: the logout-token validation (Back-Channel Logout 1.0 2.4)
and the ID-token and callback checks, on tokens made here. No server; not OIDF modules."""

import json
import time
from types import SimpleNamespace

import pytest
from jwcrypto import jwk, jwt
from rp import Arrival, Flow, Suite, shannon_bits
from test_logout_op import LOGOUT_EVENT, check_logout_token

from conftest import Module

ISSUER = "https://op.example"
KEY = jwk.JWK.generate(kty="RSA", size=2048, kid="k1")


def fake_suite():
    suite = Suite.__new__(Suite)
    suite.module = Module()
    suite.config = {"issuer": ISSUER, "id_token_signing_alg_values_supported": ["RS256"]}
    suite.jwks = {"keys": [json.loads(KEY.export_public())]}
    suite.client = SimpleNamespace(client_id="rp", client_secret="s" * 43)
    return suite


def signed(claims, key=KEY, typ="logout+jwt"):
    token = jwt.JWT(header={"alg": "RS256", "kid": "k1", "typ": typ}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def logout_claims(**changes):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "rp", "iat": now, "exp": now + 120, "jti": "j1", "sub": "u1", "sid": "s1"}
    claims["events"] = {LOGOUT_EVENT: {}}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


ID_CLAIMS = {"sub": "u1", "sid": "s1"}


def test_a_valid_logout_token_passes():
    suite = fake_suite()
    check_logout_token(suite, signed(logout_claims()), ID_CLAIMS)
    assert suite.module.warnings == []


@pytest.mark.parametrize(
    "changes",
    [
        {"nonce": "n"},
        {"events": {LOGOUT_EVENT: {"x": 1}}},
        {"events": {LOGOUT_EVENT: {}, "other": {}}},
        {"events": None},
        {"iss": "https://evil.example"},
        {"aud": "another"},
        {"jti": None},
        {"exp": None},
        {"iat": int(time.time()) + 3600},
        {"sid": "other"},
        {"sub": "someone else"},
        {"sid": None},
    ],
)
def test_a_bad_logout_token_fails(changes):
    with pytest.raises(AssertionError):
        check_logout_token(fake_suite(), signed(logout_claims(**changes)), ID_CLAIMS)


def test_a_logout_token_signed_by_another_key_fails():
    other = jwk.JWK.generate(kty="RSA", size=2048, kid="k1")
    with pytest.raises(AssertionError):
        check_logout_token(fake_suite(), signed(logout_claims(), key=other), ID_CLAIMS)


def test_a_logout_token_not_typed_is_a_warning():
    suite = fake_suite()
    check_logout_token(suite, signed(logout_claims(), typ="JWT"), ID_CLAIMS)
    assert suite.module.warnings and "logout+jwt" in suite.module.warnings[0]


def _flow(claims, *, nonce="n1"):
    flow = Flow(request={"nonce": nonce} if nonce else {})
    token = jwt.JWT(header={"alg": "RS256", "kid": "k1"}, claims=claims)
    token.make_signed_token(KEY)
    flow.id_token = token.serialize()
    flow.id_header, flow.id_claims = {"alg": "RS256", "kid": "k1"}, claims
    return flow


def id_claims(**changes):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "rp", "sub": "u1", "iat": now, "exp": now + 300, "nonce": "n1"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def test_standard_id_token_checks_pass_and_fail():
    fake_suite().standard_id_token_checks(_flow(id_claims()))
    for changes in ({"nonce": "other"}, {"iss": "x"}, {"aud": "x"}, {"exp": 1}, {"sub": None}, {"acr": ""}):
        with pytest.raises(AssertionError):
            fake_suite().standard_id_token_checks(_flow(id_claims(**changes)))
    with pytest.raises(AssertionError):  # a nonce though none was sent
        fake_suite().standard_id_token_checks(_flow(id_claims(), nonce=None))


def test_the_error_callback_checks():
    suite = fake_suite()
    request = {"redirect_uri": "https://rp.example/cb", "state": "s"}
    arrival = Arrival("https://rp.example/cb?error=login_required&state=s&iss=https%3A%2F%2Fop.example", True, None)
    flow = Flow(request=request, arrival=arrival, callback=arrival.params)
    assert suite.check_error_callback(flow) == "login_required"
    for query in ("error=login_required&state=other", "error=x&state=s&code=c", "state=s", "error=x&state=s&iss=y"):
        arrival = Arrival(f"https://rp.example/cb?{query}", True, None)
        with pytest.raises(AssertionError):
            suite.check_error_callback(Flow(request=request, arrival=arrival, callback=arrival.params))


def test_code_entropy_is_measured_as_the_suite_does():
    assert shannon_bits("a" * 40) == 0
    assert shannon_bits("abcd") == 8
