"""RFC 6750 (Bearer tokens at /api/me) and RFC 9068 / RFC 8725 (our JWT access tokens)."""

import hashlib
import hmac
import json
import time

import pytest
from django.conf import settings
from django.test import Client as BrowserClient
from jwcrypto import jwk

from oauth import keys
from tests.e2e.helpers import (
    ME_URL,
    b64url,
    client_credentials_token,
    fresh_rsa_key,
    jwt_parts,
    me,
    mint,
    revoke,
)

pytestmark = pytest.mark.django_db

CHALLENGE = 'Bearer realm="identity"'


b64 = b64url


def assert_invalid_token(response):
    assert response.status_code == 401, (response.status_code, response.content)
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith(CHALLENGE)
    assert 'error="invalid_token"' in challenge
    assert response.json()["error"] == "invalid_token"


# --- RFC 6750: the resource side ---------------------------------------------------------


@pytest.mark.rfc("6750", "2.1")
def test_user_token_at_api_me(flow, user):
    tokens = flow.tokens(scope="profile email")
    response = me(tokens["access_token"])
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "user"
    assert body["sub"] == user.subject
    assert body["username"] == user.username
    assert body["email"] == user.email
    assert body["client_id"] == flow.client.client_id


@pytest.mark.rfc("6750", "2.1")
def test_email_only_with_email_scope(flow):
    tokens = flow.tokens(scope="profile")
    assert "email" not in me(tokens["access_token"]).json()


@pytest.mark.rfc("6750", "2.1")
def test_client_credentials_token_at_api_me(service):
    token = client_credentials_token(service, scope="profile")["access_token"]
    response = me(token)
    assert response.status_code == 200
    assert response.json() == {"type": "client", "client_id": service[0].client_id, "name": service[0].name}


@pytest.mark.rfc("6750", "2.1")
def test_bearer_scheme_is_case_insensitive(flow):
    tokens = flow.tokens()
    response = BrowserClient().get(ME_URL, HTTP_AUTHORIZATION=f"bearer {tokens['access_token']}")
    assert response.status_code == 200


@pytest.mark.rfc("6750", "3")
def test_missing_token_is_401_with_a_bare_challenge(db):
    response = BrowserClient().get(ME_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE  # no error code when no credentials (RFC 6750 3.1)


@pytest.mark.rfc("6750", "3")
@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Bearer "])
def test_other_schemes_or_empty_bearer_are_401(db, header):
    response = BrowserClient().get(ME_URL, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith(CHALLENGE)


@pytest.mark.rfc("6750", "3.1")
@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 10000, "é.é.é", "..", "a.b.c.d.e"])
def test_invalid_token_is_401_invalid_token(db, token):
    assert_invalid_token(BrowserClient().get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {token}"))


@pytest.mark.rfc("6750", "3.1")
def test_error_description_is_safe_in_the_header(db):
    response = BrowserClient().get(ME_URL, HTTP_AUTHORIZATION='Bearer a"b\\c.d.e')
    assert_invalid_token(response)
    challenge = response["WWW-Authenticate"]
    description = challenge.split('error_description="', 1)[1].rstrip('"')
    assert not any(c in description for c in '"\\\r\n')


@pytest.mark.rfc("6750", "3.1")
def test_missing_scope_is_403_insufficient_scope(make_client, user):
    from conftest import Flow

    flow = Flow(user, *make_client(scopes="email read"))
    tokens = flow.tokens(scope="email")
    response = me(tokens["access_token"])
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith(CHALLENGE)
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="profile"' in challenge


@pytest.mark.rfc("6750", "3.1")
def test_client_token_without_profile_scope_is_403(service):
    token = client_credentials_token(service, scope="read")["access_token"]
    response = me(token)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


@pytest.mark.rfc("6750", "2.3")
def test_token_in_the_query_string_is_not_accepted(flow):
    tokens = flow.tokens()
    response = BrowserClient().get(ME_URL, {"access_token": tokens["access_token"]})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE


@pytest.mark.rfc("6750", "2.2")
def test_token_in_a_form_body_is_not_accepted(flow):
    tokens = flow.tokens()
    response = BrowserClient().post(
        ME_URL, f"access_token={tokens['access_token']}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 401


@pytest.mark.rfc("7009", "2")
def test_revoked_token_is_refused_immediately(flow, django_capture_on_commit_callbacks):
    tokens = flow.tokens()
    assert me(tokens["access_token"]).status_code == 200
    # The revocation store's fast path learns of the revocation once it commits.
    with django_capture_on_commit_callbacks(execute=True):
        revoke(tokens["access_token"], (flow.client.client_id, flow.secret))
    assert_invalid_token(me(tokens["access_token"]))


@pytest.mark.rfc("6750", "3.1")
def test_token_of_a_disabled_user_is_refused(flow, user):
    tokens = flow.tokens()
    user.is_active = False
    user.save()
    assert_invalid_token(me(tokens["access_token"]))


@pytest.mark.rfc("6750", "3.1")
def test_refresh_token_is_not_an_access_token(flow):
    tokens = flow.tokens()
    assert_invalid_token(me(tokens["refresh_token"]))


# --- RFC 9068: what we issue -------------------------------------------------------------


@pytest.mark.rfc("9068", "2.1")
def test_access_token_header(flow, client):
    tokens = flow.tokens()
    header, _ = jwt_parts(tokens["access_token"])
    jwks = client.get("/.well-known/jwks.json").json()
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert set(header) == {"typ", "alg", "kid"}


@pytest.mark.rfc("9068", "2.2")
def test_user_token_claims(flow, user):
    before = int(time.time())
    tokens = flow.tokens(scope="profile email")
    _, claims = jwt_parts(tokens["access_token"])
    assert {"iss", "sub", "aud", "client_id", "scope", "jti", "iat", "exp", "auth_time"} <= set(claims)
    assert claims["iss"] == settings.ISSUER
    assert claims["aud"] == settings.ACCESS_TOKEN_AUDIENCE
    assert claims["client_id"] == flow.client.client_id
    assert set(claims["scope"].split()) == {"profile", "email"}
    assert before - 1 <= claims["iat"] <= time.time() + 1
    assert claims["exp"] - claims["iat"] == settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]
    assert isinstance(claims["auth_time"], int) and claims["auth_time"] <= claims["iat"]
    assert len(claims["jti"]) >= 16


@pytest.mark.rfc("9068", "2.2")
def test_user_sub_is_the_subject_uuid_not_the_pk(flow, user):
    import uuid

    _, claims = jwt_parts(flow.tokens()["access_token"])
    assert claims["sub"] == user.subject
    assert claims["sub"] != str(user.pk)
    assert uuid.UUID(claims["sub"])


@pytest.mark.rfc("9068", "2.2")
def test_jti_is_unique(flow):
    jtis = {jwt_parts(flow.tokens()["access_token"])[1]["jti"] for _ in range(3)}
    assert len(jtis) == 3


@pytest.mark.rfc("9068", "2.2")
def test_client_credentials_claims(service):
    _, claims = jwt_parts(client_credentials_token(service)["access_token"])
    assert claims["sub"] == claims["client_id"] == service[0].client_id
    assert "auth_time" not in claims
    assert {"iss", "sub", "aud", "client_id", "scope", "jti", "iat", "exp"} <= set(claims)


# --- RFC 8725 / RFC 9068 4: the verifier pins everything -----------------------------------


@pytest.mark.rfc("9068", "4")
def test_minted_control_token_is_accepted(flow, user):
    """The forging helper makes acceptable tokens: every refusal below is the defect's doing."""
    assert me(mint(client=flow.client, user=user)).status_code == 200


@pytest.mark.rfc("8725", "3.1")
def test_alg_none_is_refused(flow, user):
    good = mint(client=flow.client, user=user)
    header, claims = jwt_parts(good)
    for alg in ("none", "None", "NONE"):
        token = f"{b64({**header, 'alg': alg})}.{b64(claims)}."
        assert_invalid_token(me(token))
        assert_invalid_token(me(token + good.split(".")[2]))


@pytest.mark.rfc("8725", "3.1")
def test_hs256_signed_with_our_public_key_is_refused(flow, user):
    good = mint(client=flow.client, user=user)
    header, claims = jwt_parts(good)
    public = keys.verification_key(header["kid"])
    for secret in (
        public.export_to_pem(),
        public.export_public().encode(),
        json.dumps(public.export_public(as_dict=True)).encode(),
    ):
        signing_input = f"{b64({**header, 'alg': 'HS256'})}.{b64(claims)}"
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert_invalid_token(me(f"{signing_input}.{b64(signature)}"))


@pytest.mark.rfc("8725", "3.1")
@pytest.mark.parametrize("alg", ["RS512", "PS256", "RS384", "PS512"])
def test_other_rsa_algorithms_are_refused(flow, user, alg):
    kid = keys.signing_key()["kid"]
    attacker = fresh_rsa_key(kid=kid)
    assert_invalid_token(me(mint(client=flow.client, user=user, header={"alg": alg}, key=attacker)))


@pytest.mark.rfc("8725", "3.1")
@pytest.mark.parametrize("alg", ["RS512", "PS256"])
def test_other_algorithms_with_our_own_key_are_refused(flow, user, alg):
    assert_invalid_token(me(mint(client=flow.client, user=user, header={"alg": alg})))


@pytest.mark.rfc("8725", "3.1")
def test_rs256_signed_by_another_key_with_our_kid_is_refused(flow, user):
    attacker = fresh_rsa_key(kid=keys.signing_key()["kid"])
    assert_invalid_token(me(mint(client=flow.client, user=user, key=attacker)))


@pytest.mark.rfc("8725", "3.1")
def test_es256_is_refused(flow, user):
    attacker = jwk.JWK.generate(kty="EC", crv="P-256")
    assert_invalid_token(me(mint(client=flow.client, user=user, header={"alg": "ES256"}, key=attacker)))


@pytest.mark.rfc("8725", "3.10")
@pytest.mark.parametrize(
    "kid",
    [
        pytest.param("unknown-kid", id="unknown"),
        pytest.param(None, id="missing"),
        pytest.param("../../../../etc/passwd", id="path"),
        pytest.param("/dev/null", id="dev-null"),
        pytest.param("' OR '1'='1", id="sql"),
        pytest.param("x'; DROP TABLE oauth_accesstoken; --", id="sql-drop"),
        pytest.param("k" * 10240, id="10KB"),
        pytest.param(12345, id="number"),
        pytest.param(["a"], id="list"),
        pytest.param({"kid": "x"}, id="object"),
        pytest.param("", id="empty"),
    ],
)
def test_unknown_or_hostile_kid_is_refused(flow, user, kid):
    # Signed with our real key: only the kid is wrong.
    token = mint(client=flow.client, user=user, header={"kid": kid} if kid is not None else {"kid": None})
    assert_invalid_token(me(token))


@pytest.mark.rfc("8725", "3.10")
def test_kid_equal_to_our_kid_with_extra_text_is_refused(flow, user):
    kid = keys.signing_key()["kid"]
    for variant in (kid + " ", kid.upper() if kid.upper() != kid else kid + "x", kid + "\x00"):
        assert_invalid_token(me(mint(client=flow.client, user=user, header={"kid": variant})))


@pytest.mark.rfc("8725", "2.8")
@pytest.mark.parametrize("member", ["jku", "x5u", "jwk", "x5c"])
def test_key_pointing_headers_are_never_trusted(flow, user, member):
    attacker = fresh_rsa_key(kid="attacker")
    values = {
        "jku": "https://evil.example/jwks.json",
        "x5u": "https://evil.example/cert.pem",
        "jwk": attacker.export_public(as_dict=True),
        "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
    }
    for kid in ("attacker", keys.signing_key()["kid"]):
        token = mint(client=flow.client, user=user, header={member: values[member], "kid": kid}, key=attacker)
        assert_invalid_token(me(token))


@pytest.mark.rfc("8725", "3.11")
@pytest.mark.parametrize(
    "header",
    [
        pytest.param({"crit": ["urn:example:unknown"], "urn:example:unknown": True}, id="unknown-extension"),
        pytest.param({"crit": ["b64"], "b64": True}, id="b64"),
        pytest.param({"crit": ["exp"]}, id="registered-name"),
        pytest.param({"crit": []}, id="empty"),
        pytest.param({"crit": "urn:example:unknown"}, id="not-a-list"),
    ],
)
def test_crit_is_refused(flow, user, header):
    control = mint(client=flow.client, user=user, raw=True)
    assert me(control).status_code == 200  # the hand-made signature is fine
    assert_invalid_token(me(mint(client=flow.client, user=user, header=header, raw=True)))


@pytest.mark.rfc("9068", "4")
@pytest.mark.parametrize(
    "typ",
    [
        pytest.param("JWT", id="JWT"),
        pytest.param(None, id="missing"),
        pytest.param("logout+jwt", id="logout"),
        pytest.param("dpop+jwt", id="dpop"),
        pytest.param("", id="empty"),
        pytest.param("at+jwt+x", id="suffix"),
    ],
)
def test_wrong_typ_is_refused(flow, user, typ):
    assert_invalid_token(me(mint(client=flow.client, user=user, header={"typ": typ})))


@pytest.mark.rfc("9068", "4")
def test_explicit_media_type_typ_is_accepted(flow, user):
    token = mint(client=flow.client, user=user, header={"typ": "application/at+jwt"})
    assert me(token).status_code == 200


@pytest.mark.rfc("9068", "4")
@pytest.mark.parametrize(
    "iss",
    [
        pytest.param("https://evil.example", id="other"),
        pytest.param(settings.ISSUER + "/", id="trailing-slash"),
        pytest.param(settings.ISSUER.upper(), id="case"),
        pytest.param("", id="empty"),
        pytest.param([settings.ISSUER], id="list"),
    ],
)
def test_wrong_iss_is_refused(flow, user, iss):
    assert_invalid_token(me(mint(client=flow.client, user=user, claims={"iss": iss})))


@pytest.mark.rfc("9068", "4")
def test_missing_iss_is_refused(flow, user):
    assert_invalid_token(me(mint(client=flow.client, user=user, drop=["iss"])))


@pytest.mark.rfc("9068", "4")
@pytest.mark.parametrize(
    "aud",
    [
        pytest.param("https://other.example/api", id="other"),
        pytest.param(["https://other.example/api"], id="other-list"),
        pytest.param(settings.ISSUER, id="issuer"),
        pytest.param("", id="empty"),
    ],
)
def test_wrong_aud_is_refused(flow, user, aud):
    assert_invalid_token(me(mint(client=flow.client, user=user, claims={"aud": aud})))


@pytest.mark.rfc("9068", "4")
def test_aud_list_containing_the_api_is_accepted(flow, user):
    token = mint(
        client=flow.client, user=user, claims={"aud": ["https://other.example", settings.ACCESS_TOKEN_AUDIENCE]}
    )
    assert me(token).status_code == 200


@pytest.mark.rfc("9068", "4")
def test_missing_aud_is_refused(flow, user):
    assert_invalid_token(me(mint(client=flow.client, user=user, drop=["aud"])))


@pytest.mark.rfc("7519", "4.1.4")
def test_expired_beyond_leeway_is_refused(flow, user):
    now = int(time.time())
    token = mint(client=flow.client, user=user, claims={"iat": now - 600, "exp": now - 61})
    assert_invalid_token(me(token))


@pytest.mark.rfc("7519", "4.1.4")
def test_expired_within_leeway_is_accepted(flow, user):
    now = int(time.time())
    token = mint(client=flow.client, user=user, claims={"iat": now - 600, "exp": now - 30})
    assert me(token).status_code == 200


@pytest.mark.rfc("7519", "4.1.6")
def test_iat_in_the_future_is_refused(flow, user):
    now = int(time.time())
    token = mint(client=flow.client, user=user, claims={"iat": now + 120, "exp": now + 600})
    assert_invalid_token(me(token))


@pytest.mark.rfc("7519", "4.1.5")
def test_nbf_in_the_future_is_refused(flow, user):
    now = int(time.time())
    token = mint(client=flow.client, user=user, claims={"nbf": now + 120})
    assert_invalid_token(me(token))


@pytest.mark.rfc("9068", "2.2")
@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "client_id", "jti"])
def test_missing_required_claim_is_refused(flow, user, claim):
    assert_invalid_token(me(mint(client=flow.client, user=user, drop=[claim])))


@pytest.mark.rfc("9068", "2.2")
@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"exp": "9999999999"}, id="exp-string"),
        pytest.param({"exp": True}, id="exp-bool"),
        pytest.param({"exp": 9.9e9}, id="exp-float"),
        pytest.param({"iat": None}, id="iat-null"),
        pytest.param({"sub": 123}, id="sub-number"),
        pytest.param({"jti": ""}, id="jti-empty"),
    ],
)
def test_ill_typed_claims_are_refused(flow, user, claims):
    assert_invalid_token(me(mint(client=flow.client, user=user, claims=claims)))


@pytest.mark.rfc("9068", "4")
def test_token_whose_row_is_missing_is_refused(flow, user):
    """Valid signature and claims, but never issued (no row): refused."""
    assert_invalid_token(me(mint(client=flow.client, user=user, store=False)))


@pytest.mark.rfc("8725", "3.1")
def test_payload_tampering_breaks_the_signature(flow, user):
    token = flow.tokens()["access_token"]
    header, claims = jwt_parts(token)
    forged = f"{token.split('.')[0]}.{b64({**claims, 'scope': 'profile email write'})}.{token.split('.')[2]}"
    assert_invalid_token(me(forged))


@pytest.mark.rfc("7515", "7.2")
def test_json_serialization_is_refused(flow, user):
    token = flow.tokens()["access_token"]
    protected, payload, signature = token.split(".")
    general = json.dumps({"payload": payload, "signatures": [{"protected": protected, "signature": signature}]})
    assert_invalid_token(BrowserClient().get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {general}"))


@pytest.mark.rfc("9068", "4")
def test_client_credentials_header_matches(service):
    header, _ = jwt_parts(client_credentials_token(service)["access_token"])
    assert header == {"typ": "at+jwt", "alg": "RS256", "kid": keys.signing_key()["kid"]}


@pytest.mark.rfc("6750", "3.1")
def test_token_of_a_deleted_client_is_refused(service):
    token = client_credentials_token(service, scope="profile")["access_token"]
    service[0].delete()
    assert_invalid_token(me(token))


def _signed_segments(header_segment, payload_segment):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signing_input = f"{header_segment}.{payload_segment}"
    signature = keys.signing_key().get_op_key("sign").sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


@pytest.mark.rfc("7515", "5.2")
@pytest.mark.parametrize(
    "header, payload",
    [
        pytest.param(b"[]", None, id="header-array"),
        pytest.param(b'"RS256"', None, id="header-string"),
        pytest.param(b"null", None, id="header-null"),
        pytest.param(b"{not json", None, id="header-not-json"),
        pytest.param(b"\xff\xfe", None, id="header-not-utf8"),
        pytest.param(None, b"[]", id="payload-array"),
        pytest.param(None, b"null", id="payload-null"),
        pytest.param(None, b"{not json", id="payload-not-json"),
        pytest.param(None, b"\xff\xfe", id="payload-not-utf8"),
        pytest.param(None, b'{"exp": 1e999}', id="payload-infinity"),
    ],
)
def test_hostile_segments_signed_with_our_key_are_401_never_500(flow, user, header, payload):
    good = mint(client=flow.client, user=user)
    good_header, good_payload, _ = good.split(".")
    token = _signed_segments(
        b64(header) if header is not None else good_header, b64(payload) if payload is not None else good_payload
    )
    assert_invalid_token(me(token))
