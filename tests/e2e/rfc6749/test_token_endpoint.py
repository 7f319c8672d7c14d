"""RFC 6749 sections 2.3, 3.2 and 5: the token endpoint and client authentication."""

import base64
import json

import pytest
from django.test import Client as BrowserClient

from conftest import PASSWORD, basic, form_post
from oauth.models import AccessToken
from tests.e2e.helpers import TOKEN_URL, assert_no_store, assert_oauth_error, creds, jwt_parts, post_token

pytestmark = pytest.mark.django_db

CC = {"grant_type": "client_credentials"}


def raw_basic(raw_bytes):
    return "Basic " + base64.b64encode(raw_bytes).decode()


@pytest.mark.rfc("6749", "5.1")
def test_success_is_json_and_not_cached(service):
    response = post_token(CC, auth=creds(service))
    assert response.status_code == 200
    assert_no_store(response)


@pytest.mark.rfc("6749", "5.2")
@pytest.mark.parametrize(
    "auth",
    [
        pytest.param(lambda c, s: (c.client_id, s + "x"), id="wrong-secret"),
        pytest.param(lambda c, s: (c.client_id, ""), id="empty-secret"),
        pytest.param(lambda c, s: ("unknown", s), id="unknown-client"),
        pytest.param(lambda c, s: (c.client_id.upper(), s), id="client-id-case"),
        pytest.param(lambda c, s: (c.client_id, s[:-1]), id="truncated-secret"),
    ],
)
def test_bad_basic_credentials_are_401_invalid_client(service, auth):
    response = post_token(CC, auth=auth(*service))
    assert_oauth_error(response, "invalid_client", status=401)
    assert response["WWW-Authenticate"].startswith("Basic")


@pytest.mark.rfc("6749", "5.2")
def test_bad_body_credentials_are_401_invalid_client(service):
    client, secret = service
    response = post_token({**CC, "client_id": client.client_id, "client_secret": secret + "x"})
    assert_oauth_error(response, "invalid_client", status=401)
    assert response.has_header("WWW-Authenticate")


@pytest.mark.rfc("6749", "2.3.1")
def test_body_credentials_work(service):
    client, secret = service
    response = post_token({**CC, "client_id": client.client_id, "client_secret": secret})
    assert response.status_code == 200


@pytest.mark.rfc("6749", "2.3.1")
def test_basic_credentials_are_form_urlencoded_before_base64(make_client):
    from urllib.parse import quote_plus

    client, secret = make_client(grant_types=["client_credentials"])
    header = raw_basic(f"{quote_plus(client.client_id)}:{quote_plus(secret)}".encode())
    response = post_token(CC, HTTP_AUTHORIZATION=header)
    assert response.status_code == 200, response.content


@pytest.mark.rfc("6749", "5.2")
def test_no_credentials_at_all_are_401_invalid_client(service):
    response = post_token(CC)
    assert_oauth_error(response, "invalid_client", status=401)


@pytest.mark.rfc("6749", "2.3.1")
@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Basic !!!not-base64!!!", id="bad-base64"),
        pytest.param("Basic abc", id="bad-padding"),
        pytest.param(raw_basic(b"no-colon-here"), id="no-colon"),
        pytest.param(raw_basic(b"\xff\xfe:\xfa\xfb"), id="non-utf8"),
        pytest.param(raw_basic(b"id\x00:secret"), id="nul"),
        pytest.param(raw_basic(b":"), id="empty-both"),
        pytest.param("Basic ", id="empty"),
        pytest.param("Basic", id="scheme-only"),
        pytest.param("Basic " + "A" * 10000, id="huge"),
        pytest.param("Bearer abc", id="other-scheme"),
        pytest.param("Digest username=x", id="digest"),
    ],
)
def test_malformed_basic_is_4xx_never_500(service, header):
    response = post_token(CC, HTTP_AUTHORIZATION=header)
    assert response.status_code in (400, 401), response.content
    assert_no_store(response)
    assert response.json()["error"] in ("invalid_client", "invalid_request")


@pytest.mark.rfc("6749", "2.3")
def test_two_authentication_methods_are_invalid_request(service):
    client, secret = service
    response = post_token(
        {**CC, "client_id": client.client_id, "client_secret": secret}, auth=(client.client_id, secret)
    )
    assert_oauth_error(response, "invalid_request")


@pytest.mark.rfc("6749", "2.3.1")
def test_credentials_in_the_query_string_are_refused(service):
    client, secret = service
    response = form_post(BrowserClient(), f"{TOKEN_URL}?client_id={client.client_id}&client_secret={secret}", CC)
    assert_oauth_error(response, "invalid_request")


@pytest.mark.rfc("6749", "3.2")
def test_any_parameter_in_the_query_string_is_refused(service):
    response = form_post(
        BrowserClient(), f"{TOKEN_URL}?grant_type=client_credentials", {}, HTTP_AUTHORIZATION=basic(*creds(service))
    )
    assert_oauth_error(response, "invalid_request")


@pytest.mark.rfc("6749", "3.2")
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_405_json(service, method):
    response = getattr(BrowserClient(), method)(TOKEN_URL, HTTP_AUTHORIZATION=basic(*creds(service)))
    assert_oauth_error(response, "invalid_request", status=405)
    assert response["Allow"] == "POST"


@pytest.mark.rfc("6749", "3.2")
def test_json_body_is_invalid_request(service):
    response = BrowserClient().post(
        TOKEN_URL, json.dumps(CC), content_type="application/json", HTTP_AUTHORIZATION=basic(*creds(service))
    )
    assert_oauth_error(response, "invalid_request")


@pytest.mark.rfc("6749", "3.2")
def test_multipart_body_is_invalid_request(service):
    response = BrowserClient().post(TOKEN_URL, CC, HTTP_AUTHORIZATION=basic(*creds(service)))  # multipart
    assert_oauth_error(response, "invalid_request")


@pytest.mark.rfc("6749", "3.2")
def test_form_content_type_with_charset_is_accepted(service):
    from urllib.parse import urlencode

    response = BrowserClient().post(
        TOKEN_URL,
        urlencode(CC),
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
        HTTP_AUTHORIZATION=basic(*creds(service)),
    )
    assert response.status_code == 200, response.content


@pytest.mark.rfc("6749", "4.1.3")
@pytest.mark.parametrize("grant_type", [None, ""])
def test_missing_grant_type_is_invalid_request(service, grant_type):
    data = {} if grant_type is None else {"grant_type": grant_type}
    assert_oauth_error(post_token(data, auth=creds(service)), "invalid_request")


@pytest.mark.rfc("6749", "5.2")
@pytest.mark.parametrize(
    "grant_type",
    [
        "foo",
        "implicit",
        "token",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "CLIENT_CREDENTIALS",
    ],
)
def test_unknown_grant_type_is_unsupported_grant_type(service, grant_type):
    assert_oauth_error(post_token({"grant_type": grant_type}, auth=creds(service)), "unsupported_grant_type")


@pytest.mark.rfc("6749", "5.2")
def test_grant_not_allowed_for_the_client_is_unauthorized_client(confidential):
    # A code-flow client asking for client credentials.
    assert_oauth_error(post_token(CC, auth=creds(confidential)), "unauthorized_client")


@pytest.mark.rfc("6749", "5.2")
@pytest.mark.usefixtures("password_grant_enabled")
def test_password_grant_not_allowed_for_the_client_is_unauthorized_client(confidential, user):
    from conftest import PASSWORD

    data = {"grant_type": "password", "username": user.username, "password": PASSWORD}
    assert_oauth_error(post_token(data, auth=creds(confidential)), "unauthorized_client")


@pytest.mark.rfc("6749", "5.2")
def test_refresh_grant_not_allowed_for_the_client_is_unauthorized_client(service):
    data = {"grant_type": "refresh_token", "refresh_token": "whatever"}
    assert_oauth_error(post_token(data, auth=creds(service)), "unauthorized_client")


@pytest.mark.rfc("6749", "5.2")
def test_code_grant_not_allowed_for_the_client_is_unauthorized_client(service):
    data = {"grant_type": "authorization_code", "code": "x", "redirect_uri": "https://app.example.com/callback"}
    assert_oauth_error(post_token(data, auth=creds(service)), "unauthorized_client")


@pytest.mark.rfc("6749", "3.2")
@pytest.mark.parametrize("name", ["grant_type", "scope", "client_id", "client_secret", "code", "refresh_token", "foo"])
def test_duplicated_parameters_are_invalid_request(service, name):
    from urllib.parse import urlencode

    client, secret = service
    body = urlencode(CC) + "&" + urlencode({name: "x"}) + "&" + urlencode({name: "y"})
    response = BrowserClient().post(
        TOKEN_URL,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    assert_oauth_error(response, "invalid_request")


@pytest.mark.rfc("6749", "3.2")
def test_duplicated_grant_type_with_same_value_is_invalid_request(service):
    body = "grant_type=client_credentials&grant_type=client_credentials"
    response = BrowserClient().post(
        TOKEN_URL, body, content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=basic(*creds(service))
    )
    assert_oauth_error(response, "invalid_request")


@pytest.mark.rfc("6749", "3.2")
def test_unknown_parameters_are_ignored(service):
    response = post_token({**CC, "foo": "bar", "audience": "x"}, auth=creds(service))
    assert response.status_code == 200, response.content


@pytest.mark.rfc("6749", "3.2")
def test_oversized_body_is_413(service):
    response = post_token({**CC, "padding": "x" * 70_000}, auth=creds(service))
    assert_oauth_error(response, "invalid_request", status=413)


@pytest.mark.rfc("6749", "3.2")
def test_too_many_fields_is_400(service):
    data = {**CC, **{f"f{i}": "x" for i in range(150)}}
    assert_oauth_error(post_token(data, auth=creds(service)), "invalid_request")


@pytest.mark.rfc("6749", "3.2")
@pytest.mark.parametrize("field", ["grant_type", "scope", "foo"])
def test_nul_bytes_are_400(service, field):
    data = {**CC, field: "client_credentials\x00" if field == "grant_type" else "a\x00b"}
    assert_oauth_error(post_token(data, auth=creds(service)), "invalid_request")


@pytest.mark.rfc("6749", "3.2")
def test_nul_byte_in_a_parameter_name_is_400(service):
    body = "grant_type=client_credentials&a%00b=1"
    response = BrowserClient().post(
        TOKEN_URL, body, content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=basic(*creds(service))
    )
    assert_oauth_error(response, "invalid_request")


@pytest.mark.rfc("6749", "3.2")
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"grant_type=client_credentials&scope=%ff%fe", id="invalid-utf8-value"),
        pytest.param(b"grant_type=client_credentials&%ff=1", id="invalid-utf8-name"),
        pytest.param(b"grant_type=client_credentials&scope=%zz", id="bad-percent"),
        pytest.param(b"\xff\xfe\xfd", id="raw-binary"),
        pytest.param(b"grant_type=client_credentials&scope=\x01\x02", id="control-chars"),
        pytest.param(b"=&=&&==", id="empty-names"),
    ],
)
def test_garbage_bodies_are_4xx_never_500(service, body):
    response = BrowserClient().post(
        TOKEN_URL, body, content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=basic(*creds(service))
    )
    assert response.status_code < 500, response.content
    assert_no_store(response)


@pytest.mark.rfc("6749", "5.2")
def test_error_description_has_no_quotes_backslashes_or_newlines(service):
    for data in ({}, {"grant_type": "foo"}, {**CC, "scope": "nope"}):
        body = post_token(data, auth=creds(service)).json()
        description = body.get("error_description", "")
        assert not any(c in description for c in '"\\\r\n'), body


# Parameters named like the values our validator carries between oauthlib's hooks. oauthlib's
# Request answers unknown attributes from the request's parameters, so these once reached the
# token rows and claims (a forged `sid` claim, a 500 for a `token_family` that is no UUID);
# they travel on one context object now (oauth.context), out of the client's reach.
SMUGGLED = {
    "sid": "forged-sid",
    "token_family": "not-a-uuid",
    "auth_time": "1",
    "access_token_jti": "chosen-jti",
    "grant_instance": "x",
    "id_token": "x",
    "identity": "x",
}


@pytest.mark.rfc("6749", "3.2")
@pytest.mark.parametrize("name", sorted(SMUGGLED))
def test_parameters_cannot_set_what_the_server_carries(service, password_client, user, name):
    requests = [
        (service, {**CC, name: SMUGGLED[name]}),
        (
            password_client,
            {"grant_type": "password", "username": user.username, "password": PASSWORD, name: SMUGGLED[name]},
        ),
    ]
    for pair, data in requests:
        response = post_token(data, auth=creds(pair))
        assert response.status_code == 200, response.content
        _, claims = jwt_parts(response.json()["access_token"])
        row = AccessToken.objects.get(jti=claims["jti"])
        assert "sid" not in claims and row.sid == ""
        assert claims["jti"] != SMUGGLED["access_token_jti"]
        assert claims.get("auth_time") != 1
        assert row.id_token is None


def test_dot_app_authorized_is_not_sent(service):
    """views.TokenView documents it: DOT's signal would cost a SELECT per token request."""
    from oauth2_provider.signals import app_authorized

    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    app_authorized.connect(receiver, dispatch_uid="test_dot_app_authorized_is_not_sent")
    try:
        assert post_token(CC, auth=creds(service)).status_code == 200
    finally:
        app_authorized.disconnect(dispatch_uid="test_dot_app_authorized_is_not_sent")
    assert received == []
