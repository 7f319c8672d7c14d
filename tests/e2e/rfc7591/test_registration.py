"""RFC 7591: dynamic client registration at /oauth/register/, as a third party does it."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.test import Client as BrowserClient

from audit import events
from audit.models import SecurityEvent
from conftest import Flow, run_concurrently
from oauth.models import Client, InitialAccessToken, token_checksum
from tests.e2e.helpers import assert_no_store, me, post_token

from .conftest import REDIRECT_URI, register, web_app

pytestmark = pytest.mark.django_db


def assert_registration_error(response, error, status=400):
    assert response.status_code == status, (response.status_code, response.content)
    assert_no_store(response)
    body = response.json()
    assert body["error"] == error, body
    assert set(body) == {"error", "error_description"}
    assert not any(c in body["error_description"] for c in '"\\\r\n')
    return body


def assert_bearer_refusal(response, *, token_given=True):
    body = assert_registration_error(response, "invalid_token", status=401)
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert ('error="invalid_token"' in challenge) is token_given
    return body


@pytest.mark.rfc("7591", "3.2.1")
def test_a_client_registers_with_an_initial_access_token(token_registration, issue):
    token = issue(uses=1)
    response = register(web_app(contacts=["dev@example.com"], logo_uri="https://app.example.com/logo.png"), token)
    assert response.status_code == 201, response.content
    assert_no_store(response)
    body = response.json()
    client = Client.objects.get(client_id=body["client_id"])
    assert body["client_secret"] and body["client_secret_expires_at"] == 0
    assert body["client_id_issued_at"] == int(client.created.timestamp())
    assert body["registration_client_uri"] == f"{settings.ISSUER}/oauth/register/{client.client_id}/"
    assert body["redirect_uris"] == [REDIRECT_URI]
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["response_types"] == ["code"]
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["scope"] == "openid profile"
    assert body["client_name"] == "Registered app"
    assert body["contacts"] == ["dev@example.com"]
    assert body["logo_uri"] == "https://app.example.com/logo.png"
    # Stored: hashes only; a confidential client, not trusted, PKCE on.
    assert client.client_type == Client.CLIENT_CONFIDENTIAL and not client.skip_authorization
    assert client.require_pkce and client.allowed_scopes == "openid profile"
    assert identify_hasher(client.client_secret)
    assert client.registration_access_token_checksum == token_checksum(body["registration_access_token"])
    assert InitialAccessToken.objects.get().uses_left == 0


@pytest.mark.rfc("7591", "3.2.1")
def test_the_registered_credentials_complete_an_authorization_code_flow(token_registration, initial_token, user):
    body = register(web_app(), initial_token).json()
    client = Client.objects.get(client_id=body["client_id"])
    tokens = Flow(user, client, body["client_secret"]).tokens(scope="openid profile")
    assert "id_token" in tokens
    assert me(tokens["access_token"]).status_code == 200


@pytest.mark.rfc("7591", "2")
def test_unknown_fields_and_software_statements_are_ignored(token_registration, initial_token):
    response = register(web_app(favourite_colour="blue", software_statement="not.a.jwt", jwks_uri="x"), initial_token)
    assert response.status_code == 201, response.content
    assert {"favourite_colour", "software_statement", "jwks_uri"}.isdisjoint(response.json())


@pytest.mark.rfc("7591", "2")
def test_defaults_when_metadata_is_omitted(token_registration, initial_token):
    body = register({"redirect_uris": [REDIRECT_URI]}, initial_token).json()
    assert body["grant_types"] == ["authorization_code"]
    assert body["response_types"] == ["code"]
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    # No scope asked: every scope the policy allows (never an empty list, which means "all").
    assert body["scope"] == " ".join(settings.CLIENT_REGISTRATION_SCOPES)
    assert Client.objects.get(client_id=body["client_id"]).allowed_scopes == body["scope"]


@pytest.mark.rfc("7591", "2")
def test_a_service_registers_for_client_credentials(token_registration, initial_token):
    body = register(
        {"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_post", "scope": "profile"},
        initial_token,
    ).json()
    assert body["response_types"] == [] and body["redirect_uris"] == []
    # Its secret goes in the body, as it registered (test_auth_method: HTTP Basic is refused).
    data = {"grant_type": "client_credentials", "client_id": body["client_id"], "client_secret": body["client_secret"]}
    token = post_token(data)
    assert token.status_code == 200, token.content
    assert me(token.json()["access_token"]).status_code == 200


@pytest.mark.rfc("7591", "3")
def test_no_initial_access_token_is_a_401_with_a_bearer_challenge(token_registration):
    assert_bearer_refusal(register(web_app()), token_given=False)
    assert not Client.objects.exists()


@pytest.mark.rfc("7591", "3")
@pytest.mark.parametrize(
    "authorization", ["Bearer not-issued", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "bearer  "], ids=repr
)
def test_a_wrong_or_malformed_initial_access_token_is_a_401(token_registration, authorization):
    response = register(web_app(), HTTP_AUTHORIZATION=authorization)
    assert_bearer_refusal(response)
    assert not Client.objects.exists()


@pytest.mark.rfc("7591", "3")
def test_a_spent_initial_access_token_is_a_401(token_registration, issue):
    token = issue(uses=1)
    assert register(web_app(), token).status_code == 201
    assert_bearer_refusal(register(web_app(), token))
    assert Client.objects.count() == 1


@pytest.mark.rfc("7591", "3")
def test_an_expired_initial_access_token_is_a_401(token_registration, issue):
    token = issue(uses=3, expires_in=timedelta(hours=1))
    InitialAccessToken.objects.update(expires_at=InitialAccessToken.objects.get().created_at - timedelta(seconds=1))
    assert_bearer_refusal(register(web_app(), token))


@pytest.mark.rfc("7591", "3")
def test_a_closed_server_registers_nobody(settings, initial_token):
    settings.CLIENT_REGISTRATION = "closed"
    assert_registration_error(register(web_app(), initial_token), "access_denied", status=403)
    assert not Client.objects.exists()


METADATA_ERRORS = [
    ("invalid_redirect_uri", {"redirect_uris": ["http://app.example.com/cb"]}),
    ("invalid_redirect_uri", {"redirect_uris": ["https://app.example.com/cb#fragment"]}),
    ("invalid_redirect_uri", {"redirect_uris": ["https://*.example.com/cb"]}),
    ("invalid_redirect_uri", {"redirect_uris": ["https://user:pw@app.example.com/cb"]}),
    ("invalid_redirect_uri", {"redirect_uris": ["javascript:alert(1)"]}),
    ("invalid_redirect_uri", {"redirect_uris": ['https://app.example.com/"quoted"\\']}),
    ("invalid_redirect_uri", {"redirect_uris": []}),
    ("invalid_redirect_uri", {"redirect_uris": "https://app.example.com/cb"}),
    ("invalid_redirect_uri", {"redirect_uris": [42]}),
    ("invalid_client_metadata", {"grant_types": ["password"]}),
    ("invalid_client_metadata", {"grant_types": ["implicit"], "response_types": ["token"]}),
    ("invalid_client_metadata", {"grant_types": ["refresh_token"]}),
    ("invalid_client_metadata", {"grant_types": []}),
    ("invalid_client_metadata", {"response_types": ["token"]}),
    ("invalid_client_metadata", {"response_types": []}),
    ("invalid_client_metadata", {"grant_types": ["client_credentials"], "response_types": ["code"]}),
    ("invalid_client_metadata", {"token_endpoint_auth_method": "private_key_jwt"}),
    ("invalid_client_metadata", {"token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]}),
    ("invalid_client_metadata", {"scope": "openid permissions"}),
    ("invalid_client_metadata", {"scope": "mfa"}),
    ("invalid_client_metadata", {"scope": "read"}),
    ("invalid_client_metadata", {"scope": "no-such-scope"}),
    ("invalid_client_metadata", {"scope": ["openid"]}),
    ("invalid_client_metadata", {"client_name": 42}),
    ("invalid_client_metadata", {"client_name": "nul\x00byte"}),
    ("invalid_client_metadata", {"logo_uri": "http://app.example.com/logo.png"}),
    ("invalid_client_metadata", {"tos_uri": "not a url"}),
    ("invalid_client_metadata", {"post_logout_redirect_uris": ["http://app.example.com/bye"]}),
    ("invalid_client_metadata", {"backchannel_logout_uri": "https://app.example.com/bc#x"}),
    ("invalid_client_metadata", {"backchannel_logout_session_required": "yes"}),
    ("invalid_client_metadata", {"contacts": "dev@example.com"}),
    ("invalid_redirect_uri", {"redirect_uris": [REDIRECT_URI] * 2 + [f"{REDIRECT_URI}{i}" for i in range(30)]}),
]


@pytest.mark.rfc("7591", "3.2.2")
@pytest.mark.parametrize(("error", "metadata"), METADATA_ERRORS, ids=lambda v: str(v)[:60])
def test_each_metadata_error(token_registration, issue, error, metadata):
    token = issue(uses=1)
    assert_registration_error(register(web_app(**metadata), token), error)
    assert not Client.objects.exists()
    # A refused registration does not spend the initial access token.
    assert InitialAccessToken.objects.get().uses_left == 1


@pytest.mark.rfc("7591", "3.2.2")
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ('["an", "array"]', "application/json"),
        ('"a string"', "application/json"),
        ("[" * 40 + "]" * 40, "application/json"),
        ("client_name=x", "application/x-www-form-urlencoded"),
        (b"\xff\xfe{}", "application/json"),
    ],
    ids=["not-json", "array", "string", "deep", "form", "not-utf8"],
)
def test_a_body_that_is_not_a_json_object_is_invalid_client_metadata(
    token_registration, initial_token, body, content_type
):
    response = BrowserClient().post(
        "/oauth/register/", body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {initial_token}"
    )
    assert_registration_error(response, "invalid_client_metadata")


def test_a_body_over_the_size_limit_is_a_413(token_registration, initial_token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = register(web_app(client_name="x" * 2000), initial_token)
    assert_registration_error(response, "invalid_client_metadata", status=413)


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_only_post_registers(token_registration, method):
    response = getattr(BrowserClient(), method)("/oauth/register/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert_no_store(response)


# --- open registration: public clients only ------------------------------------------------


@pytest.mark.rfc("7591", "3")
def test_open_registration_registers_public_clients_without_a_token(open_registration, user):
    response = register(web_app(token_endpoint_auth_method="none"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert "client_secret" not in body and "client_secret_expires_at" not in body
    assert body["token_endpoint_auth_method"] == "none"
    client = Client.objects.get(client_id=body["client_id"])
    assert client.client_type == Client.CLIENT_PUBLIC and client.pkce_required
    assert "access_token" in Flow(user, client).tokens(scope="openid")


def test_open_registration_defaults_to_a_public_client(open_registration):
    body = register(web_app()).json()
    assert body["token_endpoint_auth_method"] == "none" and "client_secret" not in body


def test_open_registration_refuses_a_confidential_client_without_a_token(open_registration):
    response = register(web_app(token_endpoint_auth_method="client_secret_basic"))
    assert_registration_error(response, "invalid_client_metadata")


def test_open_registration_takes_an_initial_access_token_for_a_confidential_client(open_registration, initial_token):
    response = register(web_app(token_endpoint_auth_method="client_secret_basic"), initial_token)
    assert response.status_code == 201 and response.json()["client_secret"]
    assert_bearer_refusal(register(web_app(), "not-issued"))


# --- throttle, audit, concurrency ----------------------------------------------------------


def test_registration_is_throttled_per_ip(token_registration, initial_token, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "client_registration": "2/hour",
        },
    }
    assert register(web_app(), initial_token, REMOTE_ADDR="198.51.100.7").status_code == 201
    assert register(web_app(), "wrong", REMOTE_ADDR="198.51.100.7").status_code == 401  # failures count too
    response = register(web_app(), initial_token, REMOTE_ADDR="198.51.100.7")
    assert_registration_error(response, "temporarily_unavailable", status=429)
    assert int(response["Retry-After"]) > 0
    # Another address is not affected.
    assert register(web_app(), initial_token, REMOTE_ADDR="198.51.100.8").status_code == 201


def test_registration_is_a_security_event_without_secrets(token_registration, initial_token):
    body = register(web_app(), initial_token, REMOTE_ADDR="198.51.100.9").json()
    row = SecurityEvent.objects.get(event=events.CLIENT_REGISTERED)
    assert row.client_id == body["client_id"] and row.ip_address == "198.51.100.9"
    assert row.detail["via"] == "initial access token"
    register(web_app(), "not-issued", REMOTE_ADDR="198.51.100.9")
    refused = SecurityEvent.objects.get(event=events.CLIENT_REGISTRATION_REFUSED)
    assert refused.outcome == events.FAILURE and refused.ip_address == "198.51.100.9"
    dump = str(list(SecurityEvent.objects.values()))
    for secret in (initial_token, body["client_secret"], body["registration_access_token"], "not-issued"):
        assert secret not in dump


@pytest.mark.rfc("7591", "3")
@pytest.mark.postgres("row-level concurrency of the conditional UPDATE")
@pytest.mark.django_db(transaction=True)
def test_a_one_use_token_registers_one_client_under_concurrency(settings, issue):
    settings.CLIENT_REGISTRATION = "token"
    token = issue(uses=1)

    def attempt():
        return register(web_app(), token).status_code

    results, errors = run_concurrently(attempt, 6)
    assert not errors, errors
    assert sorted(results) == [201] + [401] * 5
    assert Client.objects.count() == 1
    assert InitialAccessToken.objects.get().uses_left == 0


def test_the_consent_page_says_the_client_registered_itself(token_registration, initial_token, user, make_client):
    body = register(web_app(client_name="Totally Official App"), initial_token).json()
    registered = Client.objects.get(client_id=body["client_id"])
    operators, _ = make_client(name="Operator's app")
    for client, expected in ((registered, True), (operators, False)):
        flow = Flow(user, client)
        page = flow.browser.get("/oauth/authorize/", flow.authorize_params(challenge="x" * 43))
        assert page.status_code == 200, page.content
        assert ('id="self-registered"' in page.content.decode()) is expected
