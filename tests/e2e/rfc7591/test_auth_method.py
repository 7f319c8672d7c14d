"""A client's token_endpoint_auth_method (RFC 7591 2) is enforced wherever it authenticates:
the token, introspection and revocation endpoints. A client registered for client_secret_post
that sends HTTP Basic, or one registered for client_secret_basic that sends its secret in the
body, is refused like a wrong secret: 401 invalid_client with a Basic challenge (RFC 6749 5.2),
counted as a failed client authentication. A client made by an operator without a method may
use either."""

import pytest
from django.test import Client as BrowserClient

from conftest import Flow, basic, form_post
from oauth import flows
from oauth.models import Client
from tests.e2e.helpers import INTROSPECT_URL, REVOKE_URL, TOKEN_URL, assert_oauth_error

from .conftest import REDIRECT_URI, register

pytestmark = [pytest.mark.django_db, pytest.mark.rfc("7591", "2")]

CLIENT_CREDENTIALS = {"grant_type": "client_credentials", "scope": "profile"}


def registered(initial_token, method):
    body = register(
        {"grant_types": ["client_credentials"], "token_endpoint_auth_method": method, "scope": "profile"},
        initial_token,
    ).json()
    assert body["token_endpoint_auth_method"] == method
    return body["client_id"], body["client_secret"]


def send(url, data, pair, how, **headers):
    client_id, secret = pair
    if how == "client_secret_basic":
        headers["HTTP_AUTHORIZATION"] = basic(client_id, secret)
    else:
        data = {**data, "client_id": client_id, "client_secret": secret}
    return form_post(BrowserClient(), url, data, **headers)


def assert_refused(response):
    assert_oauth_error(response, "invalid_client", status=401)
    assert response["WWW-Authenticate"] == 'Basic realm="identity"'


OTHER = {"client_secret_basic": "client_secret_post", "client_secret_post": "client_secret_basic"}


@pytest.mark.rfc("6749", "5.2")
@pytest.mark.parametrize("method", list(OTHER))
def test_a_registered_client_gets_tokens_with_its_method_only(token_registration, initial_token, method):
    pair = registered(initial_token, method)
    assert send(TOKEN_URL, CLIENT_CREDENTIALS, pair, method).status_code == 200
    assert_refused(send(TOKEN_URL, CLIENT_CREDENTIALS, pair, OTHER[method]))


@pytest.mark.parametrize("method", list(OTHER))
def test_introspection_and_revocation_enforce_the_method_too(token_registration, initial_token, method):
    pair = registered(initial_token, method)
    Client.objects.filter(client_id=pair[0]).update(can_introspect_any=True)
    token = send(TOKEN_URL, CLIENT_CREDENTIALS, pair, method).json()["access_token"]
    assert_refused(send(INTROSPECT_URL, {"token": token}, pair, OTHER[method]))
    assert_refused(send(REVOKE_URL, {"token": token}, pair, OTHER[method]))
    assert send(INTROSPECT_URL, {"token": token}, pair, method).json()["active"] is True
    assert send(REVOKE_URL, {"token": token}, pair, method).status_code == 200
    assert send(INTROSPECT_URL, {"token": token}, pair, method).json() == {"active": False}


@pytest.mark.rfc("6749", "5.2")
def test_the_wrong_method_counts_as_a_failed_client_authentication(settings, token_registration, initial_token):
    settings.CLIENT_AUTH_FAILURE_LIMIT = 2
    pair = registered(initial_token, "client_secret_post")
    for i in range(2):  # each from its own IP: only the per-client count reaches its limit
        assert_refused(send(TOKEN_URL, CLIENT_CREDENTIALS, pair, "client_secret_basic", REMOTE_ADDR=f"203.0.113.{i}"))
    throttled = send(TOKEN_URL, CLIENT_CREDENTIALS, pair, "client_secret_basic", REMOTE_ADDR="203.0.113.9")
    assert_oauth_error(throttled, "invalid_client", status=429)
    # As after wrong secrets: the right credentials still work (the limit is not a lockout lever).
    assert send(TOKEN_URL, CLIENT_CREDENTIALS, pair, "client_secret_post", REMOTE_ADDR="203.0.113.9").status_code == 200


@pytest.mark.parametrize("how", list(OTHER))
def test_a_client_made_by_an_operator_without_a_method_may_use_either(how):
    client, secret = flows.create_client(name="Service", grant_types=["client_credentials"], scopes="profile")
    assert client.token_endpoint_auth_method == ""
    assert send(TOKEN_URL, CLIENT_CREDENTIALS, (client.client_id, secret), how).status_code == 200


@pytest.mark.parametrize("method", list(OTHER))
def test_an_operator_may_set_the_method(method):
    client, secret = flows.create_client(
        name="Service", grant_types=["client_credentials"], scopes="profile", token_endpoint_auth_method=method
    )
    pair = (client.client_id, secret)
    assert send(TOKEN_URL, CLIENT_CREDENTIALS, pair, method).status_code == 200
    assert_refused(send(TOKEN_URL, CLIENT_CREDENTIALS, pair, OTHER[method]))


def test_a_registered_web_app_redeems_its_code_with_its_method_only(token_registration, initial_token, user):
    body = register(
        {
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_post",
            "scope": "profile",
        },
        initial_token,
    ).json()
    flow = Flow(user, Client.objects.get(client_id=body["client_id"]), body["client_secret"], redirect_uri=REDIRECT_URI)
    code, verifier = flow.code()
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    assert_refused(flow.exchange(code, verifier))  # Flow sends HTTP Basic
    pair = (body["client_id"], body["client_secret"])
    tokens = send(TOKEN_URL, exchange, pair, "client_secret_post")  # the refusal did not spend the code
    assert tokens.status_code == 200, tokens.content
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens.json()["refresh_token"]}
    assert_refused(send(TOKEN_URL, refresh, pair, "client_secret_basic"))
    refreshed = send(TOKEN_URL, refresh, pair, "client_secret_post")
    assert refreshed.status_code == 200, refreshed.content
