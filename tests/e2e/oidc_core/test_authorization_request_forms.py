"""OpenID Connect Core 3.1.2.1 and 6, RFC 9700 2.1.1: how an authorization request may come.

- PKCE per client: always for public clients, on by default for confidential ones, and off
  for a confidential client configured so (the OpenID certification profiles send no
  code_challenge); a code_verifier without a challenge is a downgrade and refused.
- Request objects (`request`, `request_uri`) are refused with Core 6's errors, never ignored.
- POST: a relying party's POST is the same request as a GET; the consent form's own POST is
  still CSRF-checked.
"""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client as BrowserClient

from conftest import PASSWORD, REDIRECT_URI
from oauth.models import Grant
from tests.e2e.helpers import AUTHORIZE_URL, post_token
from tests.e2e.oidc import authorization_params, exchange, location_query, verify_id_token
from tests.e2e.rfc6749.test_authorization_endpoint import assert_error_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_pkce_client(make_client):
    """A confidential client as the certification profile configures it: PKCE optional."""
    return make_client(name="Certification RP", require_pkce=False)


def without_pkce(params):
    return {k: v for k, v in params.items() if k not in ("code_challenge", "code_challenge_method")}


def consent(browser, params):
    response = browser.get(AUTHORIZE_URL, params)
    if response.status_code == 200:
        response = browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    return location_query(response)


# --- PKCE per client ----------------------------------------------------------------------------


@pytest.mark.rfc("9700", "2.1.1")
def test_a_confidential_client_that_does_not_require_pkce_completes_a_flow_without_it(browser, no_pkce_client):
    client, _ = no_pkce_client
    params, _ = authorization_params(client, scope="openid", nonce="n-0S6_WzA2Mj")
    query = consent(browser, without_pkce(params))
    assert "code" in query, query
    data = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT_URI}
    response = post_token(data, auth=(client.client_id, no_pkce_client[1]))
    assert response.status_code == 200, response.content
    _, claims = verify_id_token(response.json()["id_token"], client_id=client.client_id)
    assert claims["nonce"] == "n-0S6_WzA2Mj"


@pytest.mark.rfc("9700", "2.1.1")
def test_a_client_that_requires_pkce_is_refused_without_it(browser, confidential):
    params, _ = authorization_params(confidential[0])
    response = browser.get(AUTHORIZE_URL, without_pkce(params))
    query = location_query(response)
    assert query["error"] == "invalid_request"
    assert "code" not in query
    assert Grant.objects.count() == 0


@pytest.mark.rfc("9700", "2.1.1")
def test_pkce_sent_by_a_client_that_need_not_send_it_is_still_enforced(browser, no_pkce_client):
    client, secret = no_pkce_client
    params, verifier = authorization_params(client)
    query = consent(browser, params)
    data = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT_URI}
    missing = post_token(data, auth=(client.client_id, secret))
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    wrong = post_token({**data, "code_verifier": "x" * 50}, auth=(client.client_id, secret))
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"


@pytest.mark.rfc("9700", "2.1.1")
def test_a_code_verifier_without_a_challenge_is_a_downgrade_and_refused(browser, no_pkce_client):
    # The attacker stripped the code_challenge from the victim's request; the token request
    # then carries a verifier the code was never bound to.
    client, secret = no_pkce_client
    params, verifier = authorization_params(client)
    query = consent(browser, without_pkce(params))
    response = exchange(no_pkce_client, query["code"], verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "code_challenge" in response.json()["error_description"]


def test_a_public_client_cannot_turn_pkce_off(make_client):
    client, _ = make_client(public=True)
    client.require_pkce = False
    with pytest.raises(ValidationError) as raised:
        client.full_clean()
    assert "require_pkce" in raised.value.message_dict
    assert client.pkce_required  # and even written past the form, PKCE stays required


def test_a_public_client_is_asked_for_pkce_whatever_its_flag(browser, make_client):
    client, _ = make_client(public=True)
    type(client).objects.filter(pk=client.pk).update(require_pkce=False)  # past the form
    params, _ = authorization_params(client)
    query = location_query(browser.get(AUTHORIZE_URL, without_pkce(params)))
    assert query["error"] == "invalid_request"


def test_create_client_can_make_pkce_optional_for_a_confidential_client(capsys):
    call_command(
        "create_client",
        "--name",
        "Cert",
        "--grant-types",
        "authorization_code",
        "--redirect-uri",
        REDIRECT_URI,
        "--pkce-optional",
        "--json",
    )
    assert json.loads(capsys.readouterr().out)["pkce_required"] is False


# --- request objects ------------------------------------------------------------------------------


@pytest.mark.rfc("OIDC-Core", "6.1")
@pytest.mark.parametrize(
    ("parameter", "error"),
    [("request", "request_not_supported"), ("request_uri", "request_uri_not_supported")],
)
def test_a_request_object_is_refused_with_cores_error(browser, confidential, parameter, error):
    value = "eyJhbGciOiJub25lIn0.eyJzdGF0ZSI6ImlubmVyIn0." if parameter == "request" else "https://rp.example/r"
    params, _ = authorization_params(confidential[0], scope="openid", **{parameter: value})
    query = location_query(browser.get(AUTHORIZE_URL, params))
    assert query["error"] == error
    assert query["state"] == "st"  # the outer state: the object's was never read
    assert "code" not in query
    assert Grant.objects.count() == 0


@pytest.mark.rfc("OIDC-Core", "6.1")
def test_a_request_object_from_an_unknown_client_is_the_error_page(browser):
    params = {"response_type": "code", "client_id": "nobody", "redirect_uri": REDIRECT_URI, "request": "x.y."}
    assert_error_page(browser.get(AUTHORIZE_URL, params))


def test_discovery_says_request_objects_are_not_supported(client):
    metadata = client.get("/.well-known/openid-configuration").json()
    assert metadata["request_parameter_supported"] is False
    assert metadata["request_uri_parameter_supported"] is False


# --- POST ---------------------------------------------------------------------------------------


@pytest.mark.rfc("OIDC-Core", "3.1.2.1")
def test_a_post_authorization_request_is_the_same_request_as_a_get(confidential):
    # The relying party's page posts the form cross-site: no session cookie, no CSRF token.
    params, _ = authorization_params(confidential[0])
    rp = BrowserClient(enforce_csrf_checks=True)
    response = rp.post(AUTHORIZE_URL + "?prompt=login", params)
    assert response.status_code == 303
    followed = rp.get(response["Location"])
    assert followed.status_code == 302
    assert followed["Location"].startswith("/accounts/login/")
    # The GET the 303 names carries exactly the posted parameters (and the query's).
    parts = urlsplit(response["Location"])
    assert parts.path == AUTHORIZE_URL
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {**params, "prompt": "login"}


@pytest.mark.rfc("OIDC-Core", "3.1.2.1")
def test_a_post_authorization_request_reaches_consent_and_a_code(browser, confidential):
    params, verifier = authorization_params(confidential[0])
    redirected = browser.post(AUTHORIZE_URL, params)
    assert redirected.status_code == 303
    page = browser.get(redirected["Location"])
    assert page.status_code == 200
    assert b'name="consent_answer"' in page.content
    query = location_query(browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"}))
    assert exchange(confidential, query["code"], verifier).status_code == 200


def test_duplicated_parameters_in_a_post_are_refused_as_in_a_get(browser, confidential):
    params, _ = authorization_params(confidential[0])
    body = "&".join(f"{k}={v}" for k, v in params.items()) + "&client_id=other"
    redirected = browser.post(AUTHORIZE_URL, body, content_type="application/x-www-form-urlencoded")
    assert redirected.status_code == 303
    assert_error_page(browser.get(redirected["Location"]))


@pytest.mark.parametrize("answer", [{"allow": "Authorize"}, {"consent_answer": "1"}])
def test_the_consent_answer_is_still_csrf_checked(user, confidential, answer):
    browser = BrowserClient(enforce_csrf_checks=True)
    page = browser.get("/accounts/login/")
    login = browser.post(
        "/accounts/login/",
        {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": page.context["csrf_token"]},
    )
    assert login.status_code == 302
    params, _ = authorization_params(confidential[0])
    assert browser.get(AUTHORIZE_URL, params).status_code == 200
    forged = browser.post(AUTHORIZE_URL, {**params, **answer})  # no CSRF token: another site's form
    assert forged.status_code == 403
    assert Grant.objects.count() == 0
    token = browser.cookies["csrftoken"].value
    allowed = browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize", "csrfmiddlewaretoken": token})
    assert "code" in location_query(allowed)
