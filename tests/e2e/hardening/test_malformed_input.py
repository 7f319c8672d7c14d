"""Hostile unauthenticated input answers 4xx, never 500 (issue 15, item 1; SECURITY.md
"Malformed input and errors")."""

import pytest
import requests


@pytest.mark.django_db
def test_json_nested_1000_levels_is_400(client):
    body = "[" * 1000 + "]" * 1000
    response = client.post("/api/users/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]


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
