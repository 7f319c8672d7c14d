"""redirect_uri is required at the authorization endpoint (OpenID Connect Core 3.1.2.1) and
must then be repeated at the token endpoint (RFC 6749 4.1.3); one client per request."""

import pytest

from conftest import basic, form_post
from tests.e2e.helpers import assert_oauth_error


@pytest.mark.rfc("6749", "4.1.1")
def test_authorization_request_without_redirect_uri_is_an_error_page(flow):
    params = flow.authorize_params(challenge="A" * 43)
    del params["redirect_uri"]
    response = flow.browser.get("/oauth/authorize/", params)
    assert response.status_code == 400
    assert "Location" not in response
    assert b"redirect_uri" in response.content


@pytest.mark.rfc("6749", "4.1.3")
def test_token_request_without_redirect_uri_is_invalid_request(flow):
    code, verifier = flow.code()
    response = flow.token(grant_type="authorization_code", code=code, code_verifier=verifier)
    assert_oauth_error(response, "invalid_request")
    assert b"redirect_uri" in response.content


@pytest.mark.rfc("6749", "2.3.1")
def test_basic_auth_with_another_client_id_in_body_is_refused(client, confidential, other):
    first, secret = confidential
    response = form_post(
        client,
        "/oauth/token/",
        {"grant_type": "client_credentials", "client_id": other[0].client_id},
        HTTP_AUTHORIZATION=basic(first.client_id, secret),
    )
    assert_oauth_error(response, "invalid_request")
