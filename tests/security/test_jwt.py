"""JWT forgeries against our verifiers (the API and UserInfo), and the shape of what we sign.

Each forgery starts from a real, live access token, so that its `jti`, `sub` and `sid` pass the
revocation store: only the check under attack stands between the forgery and a 200. Some
forgeries are re-signed with the operator's signing key (the world generated it: an attacker
has it not), to show that a valid RSA signature alone does not make a token acceptable: the
algorithm, `kid`, `crit`, `typ`, `iss`, `aud`, `exp`, `nbf` and `iat` are checked behind it.
`control` re-signs a token unchanged and must be accepted, else those tests would prove nothing.
"""

import datetime
import hashlib
import hmac
import json
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from jwcrypto import jwk

from tests.faults.flows import TIMEOUT, bearer

from .protocol import (
    attacker_site,
    b64url,
    compact,
    me_status,
    parts,
    signing_input,
    tokens_of,
)

VERIFIERS = ["/api/me", "/oauth/userinfo/"]


def status_at(security, path, token):
    status = requests.get(security.url + path, headers=bearer(token), timeout=TIMEOUT).status_code
    assert status in (200, 401), status
    return status


def operator_key(security):
    return serialization.load_pem_private_key(security.server.env["SIGNING_KEY"].encode(), password=None)


def rsa_sign(key, header, claims, alg="RS256"):
    data = signing_input(header, claims)
    if alg == "PS256":
        signature = key.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    else:
        signature = key.sign(data, padding.PKCS1v15(), {"RS256": hashes.SHA256(), "RS512": hashes.SHA512()}[alg])
    return compact(header, claims, signature)


def hs256(secret, header, claims):
    return compact(header, claims, hmac.new(secret, signing_input(header, claims), hashlib.sha256).digest())


@pytest.fixture
def live(security):
    """(header, claims) of a live access token with the `openid` scope, and the token."""
    tokens, _ = tokens_of(security, "web")
    header, claims, _signature = parts(tokens["access_token"])
    return header, claims, tokens


def jwks(security):
    return requests.get(f"{security.url}/.well-known/jwks.json", timeout=TIMEOUT).json()


@pytest.mark.attack("RFC 8725", "3.1 control: the operator's key re-signing a live token's claims is accepted")
def test_control_a_token_re_signed_unchanged_is_accepted(security, live):
    header, claims, tokens = live
    assert me_status(security.url, tokens["access_token"]) == 200
    forged = rsa_sign(operator_key(security), {**header}, {**claims, "x-padding": "1"})
    assert forged != tokens["access_token"]
    assert me_status(security.url, forged) == 200


@pytest.mark.attack("SECURITY.md", "JWTs: alg none → 401")
@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", ""])
@pytest.mark.parametrize("path", VERIFIERS)
def test_an_unsigned_token_is_refused(security, live, alg, path):
    """Also RFC 8725 2.1 / 3.1, OIDC Core 16.6 (signing), RFC 9068 4."""
    header, claims, tokens = live
    assert status_at(security, path, compact({**header, "alg": alg}, claims)) == 401
    # The original signature left on: a verifier that skips "none" signatures must not see it.
    kept = compact({**header, "alg": alg}, claims, parts(tokens["access_token"])[2])
    assert status_at(security, path, kept) == 401


def public_key_secrets(security):
    key = jwks(security)["keys"][0]
    public = jwk.JWK(**key).get_op_key("verify")
    return {
        "SPKI PEM": public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "PKCS1 PEM": public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        "DER": public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        "JWK JSON": json.dumps(key).encode(),
        "modulus": key["n"].encode(),
    }


@pytest.mark.attack("SECURITY.md", "JWTs: HS256 signed with our public key → 401")
@pytest.mark.parametrize("form", ["SPKI PEM", "PKCS1 PEM", "DER", "JWK JSON", "modulus"])
@pytest.mark.parametrize("path", VERIFIERS)
def test_hs256_with_our_public_key_as_secret_is_refused(security, live, form, path):
    """Also RFC 8725 2.1 (algorithm confusion)."""
    header, claims, _ = live
    forged = hs256(public_key_secrets(security)[form], {**header, "alg": "HS256"}, claims)
    assert status_at(security, path, forged) == 401


@pytest.mark.attack("SECURITY.md", "JWTs: RS512/PS256 → 401 (every verifier pins RS256)")
@pytest.mark.parametrize("alg", ["RS512", "PS256"])
def test_another_rsa_algorithm_is_refused_even_with_our_key(security, live, alg):
    header, claims, _ = live
    forged = rsa_sign(operator_key(security), {**header, "alg": alg}, claims, alg)
    assert me_status(security.url, forged) == 401


HOSTILE_KIDS = {
    "unknown": "no-such-key",
    "path traversal": "../../../../../../dev/null",
    "sql": "' OR '1'='1' --",
    "4 KB": "k" * 4_000,
    "10 KB": "k" * 10_000,
    "number": 12345,
    "list": ["a", "b"],
    "null": None,
    "absent": ...,
}


@pytest.mark.attack("SECURITY.md", "JWTs: kid unknown or hostile (path, SQL, 10 KB) → 401")
@pytest.mark.parametrize("case", list(HOSTILE_KIDS))
def test_a_hostile_kid_is_refused_even_with_a_valid_signature(security, live, case):
    """Also RFC 8725 3.10 (kid is attacker input)."""
    header, claims, _ = live
    header = dict(header)
    if HOSTILE_KIDS[case] is ...:
        del header["kid"]
    else:
        header["kid"] = HOSTILE_KIDS[case]
    response = requests.get(
        f"{security.url}/api/me", headers=bearer(rsa_sign(operator_key(security), header, claims)), timeout=TIMEOUT
    )
    # 10 KB of header is refused by gunicorn itself (431) before our verifier sees it.
    assert response.status_code == 401 or (case == "10 KB" and response.status_code == 431)


def attacker_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwk.JWK.from_pyca(key.public_key())
    return key, {**json.loads(public.export_public()), "kid": public.thumbprint(), "alg": "RS256", "use": "sig"}


def self_signed(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "identity")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return b64url(cert.public_bytes(serialization.Encoding.DER)).replace("-", "+").replace("_", "/")


@pytest.mark.attack("SECURITY.md", "JWTs: jku/x5u/jwk/x5c headers never fetched or trusted")
@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
@pytest.mark.parametrize("kid", ["ours", "the attacker's"])
def test_a_key_named_by_the_token_itself_is_never_trusted(security, live, member, kid):
    """Also RFC 8725 3.10, RFC 7515 4.1.2-4.1.6 (a verifier must not trust a key the token brings)."""
    header, claims, _ = live
    with attacker_site() as (site, handler):
        key, public = attacker_key()
        handler.body = json.dumps({"keys": [public]}).encode()
        value = {
            "jwk": public,
            "jku": f"{site}/jwks.json",
            "x5u": f"{site}/cert.pem",
            "x5c": [self_signed(key)],
        }[member]
        forged_header = {**header, member: value, "kid": header["kid"] if kid == "ours" else public["kid"]}
        forged = rsa_sign(key, forged_header, {**claims, "scope": claims["scope"] + " write"})
        for path in VERIFIERS:
            assert status_at(security, path, forged) == 401
        time.sleep(0.3)
        assert handler.hits == []


@pytest.mark.attack("RFC 8725", "3.1 / RFC 7515 4.1.11 an unknown crit member → 401")
@pytest.mark.parametrize("crit", [["exp"], ["x-unknown"], []])
def test_a_crit_header_is_refused(security, live, crit):
    header, claims, _ = live
    forged = rsa_sign(operator_key(security), {**header, "crit": crit, "x-unknown": True}, claims)
    assert me_status(security.url, forged) == 401


@pytest.mark.attack("RFC 9068", "4 the resource server checks typ at+jwt")
@pytest.mark.parametrize("typ", ["JWT", None, "logout+jwt", "at+jwt+evil"])
def test_a_token_of_another_type_is_not_an_access_token(security, live, typ):
    header, claims, _ = live
    header = {k: v for k, v in {**header, "typ": typ}.items() if v is not None}
    assert me_status(security.url, rsa_sign(operator_key(security), header, claims)) == 401


@pytest.mark.attack("OIDC Core", "16.11 / RFC 9068 4: an ID token is never accepted as an access token")
@pytest.mark.parametrize("path", VERIFIERS)
def test_an_id_token_is_not_an_access_token(security, path):
    """Also SECURITY.md "JWTs: an ID token is never accepted as an access token"."""
    tokens, _ = tokens_of(security, "web")
    assert status_at(security, path, tokens["id_token"]) == 401


def _claims_case(claims, case, url):
    now = int(time.time())
    changes = {
        "iss with a trailing slash": {"iss": url + "/"},
        "other iss": {"iss": "https://evil.example"},
        "other aud": {"aud": "https://evil.example/api"},
        "aud list without us": {"aud": ["https://evil.example/api", url]},
        "expired 2 minutes ago": {"exp": now - 120},
        "nbf in 2 minutes": {"nbf": now + 120},
        "iat in 2 minutes": {"iat": now + 120},
        "exp as a string": {"exp": str(now + 600)},
        "no exp": {"exp": None},
        "no aud": {"aud": None},
        "no iss": {"iss": None},
    }[case]
    return {k: v for k, v in {**claims, **changes}.items() if v is not None}


CLAIM_CASES = [
    "iss with a trailing slash",
    "other iss",
    "other aud",
    "aud list without us",
    "expired 2 minutes ago",
    "nbf in 2 minutes",
    "iat in 2 minutes",
    "exp as a string",
    "no exp",
    "no aud",
    "no iss",
]


@pytest.mark.attack("SECURITY.md", "JWTs: iss exact, aud contains the API, exp/nbf/iat with ≤ 60 s leeway")
@pytest.mark.parametrize("case", CLAIM_CASES)
def test_claims_are_checked_behind_a_valid_signature(security, live, case):
    """Also RFC 9068 4 (validation), RFC 8725 3.8 / 3.9, RFC 9700 2.3 (audience restriction)."""
    header, claims, _ = live
    forged = rsa_sign(operator_key(security), header, _claims_case(claims, case, security.url))
    assert me_status(security.url, forged) == 401


@pytest.mark.attack("RFC 9700", "2.3 audience restriction: a token for another API is refused by ours")
def test_a_token_issued_for_another_audience_is_refused(security):
    """Also RFC 6819 5.1.5.5, RFC 9068 4."""
    tokens, _ = tokens_of(security, "elsewhere")
    assert parts(tokens["access_token"])[1]["aud"] in (
        "https://elsewhere.example/api",
        ["https://elsewhere.example/api"],
    )
    assert me_status(security.url, tokens["access_token"]) == 401


@pytest.mark.attack("RFC 8725", "3.1 a payload changed under the original signature is refused")
@pytest.mark.parametrize("change", ["scope", "sub", "signature stripped", "five segments"])
def test_a_tampered_token_is_refused(security, live, change):
    """Also RFC 6819 5.1.5.9 (signed tokens)."""
    header, claims, tokens = live
    signature = parts(tokens["access_token"])[2]
    if change == "scope":
        forged = compact(header, {**claims, "scope": "openid profile write permissions"}, signature)
    elif change == "sub":
        forged = compact(header, {**claims, "sub": "00000000-0000-0000-0000-000000000000"}, signature)
    elif change == "signature stripped":
        forged = tokens["access_token"].rsplit(".", 1)[0] + "."
    else:
        forged = tokens["access_token"] + ".AAAA.BBBB"
    for path in VERIFIERS:
        assert status_at(security, path, forged) == 401


@pytest.mark.attack("RFC 9700", "4.3.2 / RFC 6750 2.3: no access token in the URL")
def test_an_access_token_in_the_query_string_is_not_accepted(security, live):
    _header, _claims, tokens = live
    token = tokens["access_token"]
    api = requests.get(f"{security.url}/api/me", params={"access_token": token}, timeout=TIMEOUT)
    assert api.status_code == 401
    userinfo = requests.get(f"{security.url}/oauth/userinfo/", params={"access_token": token}, timeout=TIMEOUT)
    assert userinfo.status_code in (400, 401)


@pytest.mark.attack("RFC 9068", "2.1 / 2.2 header typ at+jwt, RS256, kid; claims iss exp aud sub client_id iat jti")
def test_our_access_tokens_have_the_rfc_9068_shape(security, live):
    header, claims, _ = live
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256"
    assert header["kid"] in {key["kid"] for key in jwks(security)["keys"]}
    assert {"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} <= set(claims)
    assert claims["iss"] == security.url
    assert claims["client_id"] == security.client("web").client_id
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert f"{security.url}/api" in audiences
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    assert len(claims["jti"]) >= 16


@pytest.mark.attack("SECURITY.md", "JWTs: sid is random and is not the Django session key")
def test_sid_is_not_the_session_cookie(security):
    tokens, browser = tokens_of(security, "web")
    id_claims = parts(tokens["id_token"])[1]
    at_claims = parts(tokens["access_token"])[1]
    cookies = {cookie.value for cookie in browser.http.cookies}
    assert browser.http.cookies.get("identity_session")
    for sid in (id_claims["sid"], at_claims["sid"]):
        assert len(sid) >= 16
        assert all(sid not in value and value not in sid for value in cookies)
    assert id_claims["sid"] == at_claims["sid"]


PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.mark.attack("SECURITY.md", "JWTs: JWKS public members only, unique kid, use sig, RSA ≥ 2048")
def test_the_jwks_publishes_public_rsa_signing_keys_only(security):
    """Also OIDC Core 10.1, RFC 7517 4, STYLE.md (kid is the RFC 7638 thumbprint)."""
    response = requests.get(f"{security.url}/.well-known/jwks.json", timeout=TIMEOUT)
    assert response.headers["Content-Type"].startswith(("application/json", "application/jwk-set+json"))
    keys = response.json()["keys"]
    assert keys
    assert len({key["kid"] for key in keys}) == len(keys)
    for key in keys:
        assert not PRIVATE_MEMBERS & set(key), sorted(key)
        assert key["kty"] == "RSA" and key.get("use") == "sig" and key.get("alg", "RS256") == "RS256"
        modulus = int.from_bytes(jwk.base64url_decode(key["n"]), "big")
        assert modulus.bit_length() >= 2048
        assert key["kid"] == jwk.JWK(**key).thumbprint()
