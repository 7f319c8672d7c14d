"""Hostile unauthenticated input answers 4xx, never 500 (issue 15, item 1; SECURITY.md
"Malformed input and errors")."""

import base64

import pytest
import requests


@pytest.mark.django_db
def test_json_nested_1000_levels_is_400(client):
    body = "[" * 1000 + "]" * 1000
    response = client.post("/api/users/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]


@pytest.mark.rfc("6749", "5.2")
@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["/oauth/token/", "/oauth/introspect/", "/oauth/revoke/"])
def test_form_body_in_another_charset_is_a_json_invalid_request(client, endpoint):
    """Found by tests/fuzz: a UTF-16 body answered Django's HTML 400 page, not RFC 6749 JSON."""
    response = client.post(endpoint, b"\x00", content_type="application/x-www-form-urlencoded; charset=utf-16")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response["Cache-Control"] == "no-store"


FORMS = [
    "/accounts/login/",
    "/accounts/register/",
    "/accounts/password/reset/",
    "/accounts/logout/",
    "/oauth/logout/confirm/",
    "/accounts/verify-email/resend/",
]


@pytest.mark.django_db(transaction=True)
def test_form_with_non_utf8_charset_is_4xx_live(live_server):
    with requests.Session() as http:
        http.get(live_server.url + "/accounts/login/", timeout=10)
        token = http.cookies.get("csrftoken")
        for url in [*FORMS, "/oauth/token/", "/oauth/revoke/", "/oauth/introspect/"]:
            for charset in ("bogus", "utf-16", "latin-1"):
                response = http.post(
                    live_server.url + url,
                    data=b"a=\xff\xfe\xff&b=%ff",
                    headers={
                        "X-CSRFToken": token,
                        "Content-Type": f"application/x-www-form-urlencoded; charset={charset}",
                    },
                    timeout=10,
                )
                assert response.status_code < 500, (url, charset, response.status_code)


BAD_BASIC = [
    b"Basic \xc3\xb1xyz",  # "ñ" in UTF-8: not base64's alphabet, and not ASCII
    b"Basic \xf1",  # "ñ" in Latin-1
    b"Basic " + base64.b64encode(b"\xff\xfe:secret"),  # decodes to bytes that are not UTF-8
    b"Basic " + base64.b64encode(b"no-colon"),  # RFC 6749 2.3.1: client_id ":" secret
    b"Basic ===",
]


@pytest.mark.rfc("6749", "5.2")
@pytest.mark.django_db(transaction=True)
def test_malformed_basic_credentials_are_401_invalid_client_live(live_server):
    for endpoint in ("/oauth/token/", "/oauth/introspect/", "/oauth/revoke/"):
        for header in BAD_BASIC:
            response = requests.post(
                live_server.url + endpoint,
                data={"grant_type": "client_credentials", "token": "x"},
                headers={"Authorization": header},
                timeout=10,
            )
            assert response.status_code == 401, (endpoint, header, response.status_code)
            assert response.json()["error"] == "invalid_client"
            assert response.headers["WWW-Authenticate"].startswith("Basic ")
            assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.django_db(transaction=True)
def test_registration_does_not_say_whether_an_address_has_an_account_live(live_server, make_user):
    """Issue 15 (OWASP ASVS 2.x / SECURITY.md "No user enumeration"), over HTTP."""
    make_user(username="owner", email="owner@example.com")
    answers = []
    for username, email in (("probe1", "owner@example.com"), ("probe2", "nobody@example.com")):
        response = requests.post(
            live_server.url + "/api/users/",
            json={"username": username, "email": email, "password": "a sufficiently long passphrase 42"},
            timeout=10,
        )
        body = response.json()
        answers.append((response.status_code, sorted(body), body["email"] == email, body["email_verified"]))
    assert answers[0] == answers[1] == (201, ["date_joined", "email", "email_verified", "sub", "username"], True, False)
