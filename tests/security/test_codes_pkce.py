"""Attacks on authorization codes and PKCE: downgrade, plain, bad verifiers, replay, a code
redeemed by the wrong client or for the wrong redirect_uri, and a race to redeem one code."""

import string
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.faults.flows import TIMEOUT

from .protocol import (
    authorize_params,
    code_of,
    exchange,
    json_error,
    logged_in,
    me_status,
    pkce_pair,
    query_of,
    spa_exchange,
)


def error_redirect(security, client_name, **changes):
    client = security.client(client_name)
    redirect_uri = security.data["clients"][client_name]["redirect_uris"][0]
    params, _ = authorize_params(client.client_id, redirect_uri=redirect_uri, **changes)
    response = logged_in(security).get("/oauth/authorize/", params=params)
    assert response.status_code == 302, response.text[:500]
    return query_of(response)


@pytest.mark.attack("RFC 7636", "4.2 / 4.3: S256 only, plain or no method refused")
@pytest.mark.parametrize("method", ["plain", None, "S512", "s256"], ids=["plain", "no method", "S512", "lowercase"])
def test_a_challenge_method_other_than_s256_is_refused(security, method):
    """Also SECURITY.md "PKCE and codes: S256 only", RFC 9700 2.1.1 (plain only if S256 cannot be
    used). Without a method the challenge would be taken as plain (RFC 7636 4.3)."""
    verifier, _ = pkce_pair()
    query = error_redirect(security, "web", code_challenge=verifier, code_challenge_method=method)
    assert query["error"] == "invalid_request"
    assert "code" not in query


@pytest.mark.attack("RFC 9700", "2.1.1 PKCE required (public clients always, confidential by default)")
@pytest.mark.parametrize("client_name", ["spa", "web"])
def test_a_request_without_pkce_is_refused(security, client_name):
    query = error_redirect(security, client_name, code_challenge=None, code_challenge_method=None)
    assert query["error"] == "invalid_request"
    assert "code" not in query


@pytest.mark.attack("RFC 7636", "4.2 code_challenge format (43 base64url characters for S256)")
@pytest.mark.parametrize(
    "challenge", ["A" * 42, "A" * 44, "A" * 42 + "+", "A" * 129], ids=["42", "44", "alphabet", "129"]
)
def test_a_malformed_challenge_is_refused(security, challenge):
    query = error_redirect(security, "web", code_challenge=challenge)
    assert query["error"] == "invalid_request"


@pytest.mark.attack("RFC 9700", "4.8.2 PKCE downgrade: a verifier for a code issued without a challenge")
def test_a_verifier_for_a_code_without_challenge_is_invalid_grant(security):
    """Also SECURITY.md "PKCE and codes": the attacker strips the challenge from the
    authorization request of a client allowed to skip PKCE, then redeems with any verifier."""
    client = security.client("no-pkce")
    code, _verifier, _params = code_of(
        logged_in(security), client.client_id, code_challenge=None, code_challenge_method=None
    )
    response = exchange(security.url, client, code, pkce_pair()[0])
    assert response.status_code == 400
    assert json_error(response) == "invalid_grant"


@pytest.mark.attack("RFC 7636", "4.6 the server verifies the code_verifier")
@pytest.mark.parametrize("verifier", ["wrong", "missing"])
def test_a_wrong_or_missing_verifier_is_refused(security, verifier):
    client = security.client("web")
    code, right, _ = code_of(logged_in(security), client.client_id)
    sent = pkce_pair()[0] if verifier == "wrong" else None
    response = exchange(security.url, client, code, sent)
    assert response.status_code == 400
    assert json_error(response) in ("invalid_grant", "invalid_request")
    # The failed attempt does not leave the code for the attacker's next try either way.
    assert "access_token" not in response.json()


BAD_VERIFIERS = {
    "42 characters": "a" * 42,
    "129 characters": "a" * 129,
    "space": "a" * 42 + " ",
    "plus": "a" * 42 + "+",
    "slash": "a" * 42 + "/",
    "non-ascii": "a" * 42 + "é",
}


@pytest.mark.attack("RFC 7636", "4.1 code_verifier: 43-128 characters of [A-Z a-z 0-9 - . _ ~]")
@pytest.mark.parametrize("case", list(BAD_VERIFIERS))
def test_a_verifier_of_bad_length_or_alphabet_is_refused_even_if_it_matches(security, case):
    """The challenge is the S256 of the bad verifier itself: only the format check refuses it."""
    verifier = BAD_VERIFIERS[case]
    _, challenge = pkce_pair(verifier)
    client = security.client("web")
    code, _, _ = code_of(logged_in(security), client.client_id, code_challenge=challenge)
    response = exchange(security.url, client, code, verifier)
    assert response.status_code == 400
    assert json_error(response) in ("invalid_grant", "invalid_request")


@pytest.mark.attack("RFC 7636", "7.1 entropy of the code_verifier (a good one at both ends works)")
@pytest.mark.parametrize("length", [43, 128])
def test_verifiers_at_both_length_limits_work(security, length):
    verifier = (string.ascii_letters + string.digits + "-._~") * 3
    verifier = verifier[:length]
    _, challenge = pkce_pair(verifier)
    client = security.client("web")
    code, _, _ = code_of(logged_in(security), client.client_id, code_challenge=challenge)
    assert exchange(security.url, client, code, verifier).status_code == 200


@pytest.mark.attack("RFC 6749", "10.5 / 4.1.2 code replay → invalid_grant and the first tokens revoked")
def test_a_replayed_code_is_refused_and_revokes_what_it_gave(security):
    """Also SECURITY.md "PKCE and codes", RFC 6819 5.1.5.4 / 4.4.1.1, OIDC Core 16.9 (token reuse)."""
    client = security.client("web")
    code, verifier, _ = code_of(logged_in(security), client.client_id)
    first = exchange(security.url, client, code, verifier)
    assert first.status_code == 200
    tokens = first.json()
    assert me_status(security.url, tokens["access_token"]) == 200
    replay = exchange(security.url, client, code, verifier)
    assert replay.status_code == 400
    assert json_error(replay) == "invalid_grant"
    assert me_status(security.url, tokens["access_token"]) == 401
    refreshed = client.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


@pytest.mark.attack("RFC 6749", "4.1.3 the code is bound to the client it was issued to")
def test_a_code_redeemed_by_another_client_is_invalid_grant(security):
    """Also RFC 6819 5.2.4.4 (binding of the code to client_id)."""
    web, other = security.client("web"), security.client("other")
    code, verifier, _ = code_of(logged_in(security), web.client_id)
    stolen = exchange(security.url, other, code, verifier)
    assert stolen.status_code == 400
    assert json_error(stolen) == "invalid_grant"
    assert "access_token" not in stolen.json()


@pytest.mark.attack("RFC 6749", "4.1.3 the code is bound to its redirect_uri")
@pytest.mark.parametrize("sent", ["the other registered uri", "none"])
def test_a_code_redeemed_with_another_redirect_uri_is_refused(security, sent):
    """Also RFC 6819 5.2.4.5; RFC 9700 4.1 (a code leaked through a manipulated redirect)."""
    client = security.client("two-uris")
    code, verifier, _ = code_of(logged_in(security), client.client_id)
    redirect_uri = "http://127.0.0.1:8765/second" if sent != "none" else None
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    if redirect_uri:
        data["redirect_uri"] = redirect_uri
    response = client.post("/oauth/token/", data)
    assert response.status_code == 400
    assert json_error(response) in ("invalid_grant", "invalid_request")
    assert "access_token" not in response.json()


@pytest.mark.attack("SECURITY.md", "PKCE and codes: codes of at least 128 bits, never repeated")
def test_codes_are_long_random_and_distinct(security):
    """Also RFC 6749 10.10, RFC 6819 5.1.4.2.2."""
    browser = logged_in(security)
    client_id = security.client("web").client_id
    codes = [code_of(browser, client_id)[0] for _ in range(5)]
    assert len(set(codes)) == 5
    assert all(len(code) >= 22 for code in codes)  # 22 base64url characters hold 128 bits


@pytest.mark.attack("SECURITY.md", "PKCE and codes: concurrent redemption has exactly one winner")
def test_one_code_redeemed_at_once_ten_times_gives_one_token(security):
    """Also RFC 6749 4.1.2 (single use) under a race."""
    client = security.client("web")
    code, verifier, _ = code_of(logged_in(security), client.client_id)
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _n: exchange(security.url, client, code, verifier), range(10)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(200) == 1 and set(statuses) == {200, 400}, statuses
    assert {answer.json()["error"] for answer in answers if answer.status_code == 400} == {"invalid_grant"}


@pytest.mark.attack("RFC 6749", "10.2 client impersonation: a public client's code needs its PKCE verifier")
@pytest.mark.parametrize("verifier", ["right", "missing", "another"])
def test_a_public_clients_code_redeems_only_with_its_verifier(security, verifier):
    """Also RFC 7636 1 (the code interception attack PKCE exists for), RFC 9700 2.1.1."""
    spa = security.data["clients"]["spa"]
    code, right, _ = code_of(logged_in(security), spa["client_id"], redirect_uri=spa["redirect_uris"][0])
    sent = {"right": right, "missing": None, "another": pkce_pair()[0]}[verifier]
    response = spa_exchange(security, code, sent)
    if verifier == "right":
        assert response.status_code == 200
        assert "access_token" in response.json()
    else:
        assert response.status_code == 400
        assert json_error(response) in ("invalid_grant", "invalid_request")


INJECTED_CODES = {
    "sql": "' OR '1'='1",
    "long": "c" * 5000,
    "NUL": "abc\x00def",
    "unicode": "ｃｏｄｅ",
    "empty": "",
}


@pytest.mark.attack("RFC 6749", "10.14 code injection: hostile code values are invalid_grant, never a 500")
@pytest.mark.parametrize("case", list(INJECTED_CODES))
def test_a_hostile_code_value_is_refused_cleanly(security, case):
    """Also RFC 6819 4.4.1.3 (online guessing of codes)."""
    response = exchange(security.url, security.client("web"), INJECTED_CODES[case], pkce_pair()[0])
    assert response.status_code == 400
    assert json_error(response) in ("invalid_grant", "invalid_request")


@pytest.mark.attack("SECURITY.md", "PKCE and codes: codes live ≤ 60 s")
def test_a_code_older_than_a_minute_is_refused(security):
    """Also RFC 6749 4.1.2 (a maximum lifetime of 10 minutes is RECOMMENDED; ours is 60 s).
    Slow by nature: it waits out the code's lifetime."""
    client = security.client("web")
    code, verifier, _ = code_of(logged_in(security), client.client_id)
    time.sleep(61)
    response = exchange(security.url, client, code, verifier)
    assert response.status_code == 400
    assert json_error(response) == "invalid_grant"


@pytest.mark.attack("RFC 9700", "4.3.1 the authorization response is not cached (codes in browser history)")
def test_the_authorization_response_is_not_cacheable(security):
    params, _ = authorize_params(security.client("web").client_id)
    response = logged_in(security).get("/oauth/authorize/", params=params)
    assert response.status_code == 302
    cache = response.headers.get("Cache-Control", "")
    assert "no-store" in cache or ("no-cache" in cache and "private" in cache), cache


@pytest.mark.attack("RFC 9700", "2.1.1 the server publishes S256 as its only code_challenge method")
def test_the_metadata_advertises_only_safe_choices(security):
    """Also RFC 8414 2, OIDC Discovery 3: no implicit or password grant, code only, RS256 only."""
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        metadata = requests.get(security.url + path, timeout=TIMEOUT).json()
        assert metadata["code_challenge_methods_supported"] == ["S256"]
        assert metadata["response_types_supported"] == ["code"]
        assert not {"implicit", "password"} & set(metadata.get("grant_types_supported", []))
        assert metadata["issuer"] == security.url
        for name in ("id_token_signing_alg_values_supported", "token_endpoint_auth_signing_alg_values_supported"):
            assert "none" not in metadata.get(name, [])
        if "id_token_signing_alg_values_supported" in metadata:
            assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
