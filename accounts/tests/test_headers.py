import pytest
from django.conf import settings

from conftest import PASSWORD

from .helpers import csrf_browser, csrf_token


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/register/"])
def test_pages_cannot_be_framed_and_send_referrers_only_to_us(client, url):
    response = client.get(url)
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_is_httponly_and_samesite_lax(user):
    browser = csrf_browser()
    token = csrf_token(browser.get("/accounts/login/"))
    response = browser.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
