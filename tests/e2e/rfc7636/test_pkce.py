"""RFC 7636 (PKCE) as RFC 9700 2.1.1 profiles it: S256 only, required for every client."""

import pytest
from django.conf import settings

from conftest import REDIRECT_URI, Flow, new_verifier
from oauth import pkce
from oauth.models import Grant
from tests.e2e.helpers import AUTHORIZE_URL, assert_oauth_error, me, redirect_query

pytestmark = pytest.mark.django_db

CLIENT_KINDS = ["confidential", "public"]


@pytest.fixture(params=CLIENT_KINDS)
def any_flow(request, user, make_client):
    if request.param == "public":
        return Flow(user, make_client(public=True)[0])
    return Flow(user, *make_client())


def authorize(flow, **overrides):
    """GET the authorization endpoint with a valid S256 request, changed by `overrides`."""
    params = flow.authorize_params(challenge=new_verifier()[1])
    params.update(overrides)
    return flow.browser.get(AUTHORIZE_URL, {k: v for k, v in params.items() if v is not None})


def assert_refused(response, error="invalid_request"):
    parts, query = redirect_query(response)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI
    assert query["error"] == error, query
    assert query["state"] == "xyz"
    assert query["iss"] == settings.ISSUER
    assert "code" not in query
    assert Grant.objects.count() == 0


@pytest.mark.rfc("7636", "4.3")
def test_s256_round_trip(any_flow):
    code, verifier = any_flow.code()
    response = any_flow.exchange(code, verifier)
    assert response.status_code == 200, response.content
    assert me(response.json()["access_token"]).status_code == 200


@pytest.mark.rfc("7636", "4.3")
def test_s256_with_a_43_and_a_128_character_verifier(any_flow):
    for verifier in ("a" * 43, "Z9-._~" * 21 + "ab"):
        assert len(verifier) in (43, 128)
        params = any_flow.authorize_params(challenge=pkce.s256(verifier))
        response = any_flow.browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
        code = redirect_query(response)[1]["code"]
        assert any_flow.exchange(code, verifier).status_code == 200


@pytest.mark.rfc("7636", "4.2")
def test_plain_method_is_refused(any_flow):
    verifier = "p" * 50
    assert_refused(authorize(any_flow, code_challenge=verifier, code_challenge_method="plain"))


@pytest.mark.rfc("7636", "4.2")
def test_plain_method_with_an_s256_shaped_challenge_is_refused(any_flow):
    assert_refused(authorize(any_flow, code_challenge_method="plain"))


@pytest.mark.rfc("7636", "4.3")
def test_challenge_without_method_is_refused(any_flow):
    # oauthlib defaults a missing method to "plain" (RFC 7636 4.3): refused with it.
    assert_refused(authorize(any_flow, code_challenge_method=None))


@pytest.mark.rfc("7636", "4.3")
@pytest.mark.parametrize("method", ["s256", "SHA256", "S512", "", "S256 "])
def test_unknown_methods_are_refused(any_flow, method):
    assert_refused(authorize(any_flow, code_challenge_method=method))


@pytest.mark.rfc("9700", "2.1.1")
def test_missing_challenge_is_refused(any_flow):
    assert_refused(authorize(any_flow, code_challenge=None, code_challenge_method=None))


@pytest.mark.rfc("9700", "2.1.1")
def test_method_without_challenge_is_refused(any_flow):
    assert_refused(authorize(any_flow, code_challenge=None))


@pytest.mark.rfc("9700", "2.1.1")
def test_trusted_client_needs_pkce_too(user, make_client):
    flow = Flow(user, *make_client(trusted=True))
    assert_refused(authorize(flow, code_challenge=None, code_challenge_method=None))


@pytest.mark.rfc("7636", "4.2")
@pytest.mark.parametrize(
    "challenge",
    [
        pytest.param("a" * 42, id="too-short"),
        pytest.param("a" * 44, id="too-long"),
        pytest.param("a" * 128, id="verifier-length"),
        pytest.param("a" * 42 + "=", id="padded"),
        pytest.param("a" * 42 + "+", id="base64-not-url"),
        pytest.param("a" * 42 + "/", id="slash"),
        pytest.param("a" * 42 + ".", id="dot"),
        pytest.param("a" * 42 + "é", id="non-ascii"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_challenge_is_refused(any_flow, challenge):
    assert_refused(authorize(any_flow, code_challenge=challenge))


@pytest.mark.rfc("7636", "4.2")
def test_malformed_challenge_in_a_forged_consent_post_is_refused(any_flow):
    params = any_flow.authorize_params(challenge="a" * 42 + "=")
    response = any_flow.browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    assert_refused(response)


@pytest.mark.rfc("7636", "4.2")
def test_consent_post_without_challenge_is_refused(any_flow):
    params = any_flow.authorize_params()
    params.pop("code_challenge", None)
    params.pop("code_challenge_method", None)
    response = any_flow.browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    assert_refused(response)


@pytest.mark.rfc("7636", "4.6")
def test_wrong_verifier_is_invalid_grant(any_flow):
    code, _ = any_flow.code()
    other, _ = new_verifier()
    assert_oauth_error(any_flow.exchange(code, other), "invalid_grant")


@pytest.mark.rfc("7636", "4.6")
def test_wrong_verifier_spends_the_code(any_flow):
    code, verifier = any_flow.code()
    any_flow.exchange(code, new_verifier()[0])
    assert_oauth_error(any_flow.exchange(code, verifier), "invalid_grant")


@pytest.mark.rfc("7636", "4.6")
def test_the_challenge_itself_is_not_a_verifier(any_flow):
    verifier, challenge = new_verifier()
    params = any_flow.authorize_params(challenge=challenge)
    response = any_flow.browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    code = redirect_query(response)[1]["code"]
    assert_oauth_error(any_flow.exchange(code, challenge), "invalid_grant")


@pytest.mark.rfc("7636", "4.1")
@pytest.mark.parametrize(
    "verifier",
    [
        pytest.param("a" * 42, id="short"),
        pytest.param("a" * 129, id="long"),
        pytest.param("a" * 42 + "+", id="plus"),
        pytest.param("a" * 42 + "/", id="slash"),
        pytest.param("a" * 42 + "=", id="equals"),
        pytest.param("a" * 42 + " ", id="space"),
        pytest.param("a" * 42 + "é", id="non-ascii"),
    ],
)
def test_malformed_verifier_is_refused_even_when_its_hash_matches(any_flow, verifier):
    """A challenge made from a malformed verifier: only the verifier's syntax is wrong."""
    params = any_flow.authorize_params(challenge=pkce_s256_utf8(verifier))
    response = any_flow.browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    code = redirect_query(response)[1]["code"]
    assert_oauth_error(any_flow.exchange(code, verifier), "invalid_grant")


def pkce_s256_utf8(verifier):
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


@pytest.mark.rfc("7636", "4.5")
@pytest.mark.parametrize("verifier, error", [(None, "invalid_request"), ("", "invalid_grant")])
def test_missing_verifier_is_refused(any_flow, verifier, error):
    code, real_verifier = any_flow.code()
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier is not None:
        data["code_verifier"] = verifier
    assert_oauth_error(any_flow.token(**data), error)
    # Whatever the error, the attempt spent the code.
    assert_oauth_error(any_flow.exchange(code, real_verifier), "invalid_grant")


@pytest.mark.rfc("9700", "4.8.2")
def test_verifier_for_a_code_issued_without_challenge_is_invalid_grant(any_flow):
    """PKCE downgrade: a code without a challenge cannot exist, but if one did (say, from
    before PKCE was required), presenting a verifier must not redeem it."""
    code, verifier = any_flow.code()
    Grant.objects.filter(code=code).update(code_challenge="", code_challenge_method="")
    assert_oauth_error(any_flow.exchange(code, verifier), "invalid_grant")


@pytest.mark.rfc("7636", "4.4")
def test_metadata_advertises_s256_only(client):
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["code_challenge_methods_supported"] == ["S256"]
