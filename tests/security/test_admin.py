"""The admin console, attacked from outside: staff without a second factor, ordinary users,
CSRF on the admin's POSTs, framing, the admin's own login form."""

from urllib.parse import urlsplit

import pytest

from tests.faults.flows import TIMEOUT

from .surfaces import at_code_step, browser_from, logged_in, send_code, totp_code, wait_for_next_step

ADMIN_PAGES = ["/admin/", "/admin/accounts/user/", "/admin/accounts/user/add/", "/admin/oauth/client/"]


def _path(response):
    return urlsplit(response.headers.get("Location", "")).path


@pytest.fixture(scope="module")
def staff(security):
    """The seeded staff member with TOTP, logged in with both factors."""
    user = security.data["mfa_staff"]
    browser = at_code_step(security.url, user)
    wait_for_next_step(user["totp"])
    response = send_code(browser, totp_code(user["totp"]))
    assert response.status_code == 302, response.text[:500]
    assert browser.get("/admin/").status_code == 200
    return browser


@pytest.mark.attack("SECURITY.md", "Authentication hardening: staff without 2FA gets no admin (MFA_REQUIRED=staff)")
@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_staff_without_two_factor_gets_no_admin_page(security, path):
    browser = browser_from(security.url)
    response = browser.start_login("staff-no-mfa")
    assert response.status_code == 302
    assert _path(response) == "/accounts/login/2fa/", "staff logged in on a password alone"
    page = browser.get(path)
    assert page.status_code == 302
    assert _path(page) in ("/admin/login/", "/accounts/login/")
    assert not logged_in(browser)


@pytest.mark.attack("OWASP ASVS", "V8.2 an ordinary user gets no admin page")
@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_an_ordinary_user_gets_no_admin_page(security, path):
    browser = security.browser()
    response = browser.get(path)
    assert response.status_code == 302
    assert _path(response) in ("/admin/login/", "/accounts/login/")


@pytest.mark.attack("SECURITY.md", "Authentication hardening: one throttled password form (/admin/login/ is not one)")
def test_the_admin_login_page_is_the_throttled_login_form(security):
    browser = browser_from(security.url)
    response = browser.get("/admin/login/?next=/admin/")
    assert response.status_code in (301, 302)
    assert _path(response) == "/accounts/login/"
    posted = browser.post("/admin/login/", {"username": "staff-no-mfa", "password": "correct horse battery staple"})
    assert posted.status_code in (301, 302, 405)
    assert not logged_in(browser)


@pytest.mark.attack("OWASP ASVS", "V50 CSRF on admin POSTs: no token → 403 and nothing written")
def test_an_admin_post_without_the_csrf_token_is_refused(security, staff):
    data = {"username": "csrf-made-user", "password1": "x" * 20 + "Aa1!", "password2": "x" * 20 + "Aa1!"}
    response = staff.http.post(
        f"{security.url}/admin/accounts/user/add/",
        data=data,
        headers={"Origin": "https://evil.example", "Referer": "https://evil.example/"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 403
    assert security.sql("SELECT count(*) FROM accounts_user WHERE username = 'csrf-made-user'")[0][0] == 0


@pytest.mark.attack("OWASP ASVS", "V50 CSRF on admin POSTs: a stolen token from another origin is still refused")
def test_an_admin_post_with_a_foreign_origin_is_refused(security, staff):
    data = {
        "username": "csrf-origin-user",
        "password1": "x" * 20 + "Aa1!",
        "password2": "x" * 20 + "Aa1!",
        "csrfmiddlewaretoken": staff.csrf_token(),
    }
    response = staff.http.post(
        f"{security.url}/admin/accounts/user/add/",
        data=data,
        headers={"Origin": "https://evil.example", "Referer": "https://evil.example/admin/"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 403
    assert security.sql("SELECT count(*) FROM accounts_user WHERE username = 'csrf-origin-user'")[0][0] == 0


@pytest.mark.attack("OWASP ASVS", "V50 CSRF: the admin's logout is a POST (a GET logs nobody out)")
def test_the_admin_logout_by_get_logs_nobody_out(security, staff):
    response = staff.get("/admin/logout/")
    assert response.status_code == 405
    assert staff.get("/admin/").status_code == 200


@pytest.mark.attack("SECURITY.md", "Authorization endpoint: no framing (X-Frame-Options DENY, frame-ancestors 'none')")
@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/user/"])
def test_admin_pages_cannot_be_framed(security, staff, path):
    response = staff.get(path)
    assert response.status_code == 200
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", "")
    assert "no-cache" in response.headers.get("Cache-Control", "") or "private" in response.headers.get(
        "Cache-Control", ""
    )
