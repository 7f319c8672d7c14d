"""Cross-site requests against the account's own forms: every state-changing POST needs the CSRF
token (a page on another site cannot forge it), the login form too (login CSRF), and the login
never redirects off-site (open redirect)."""

from urllib.parse import urlsplit

import pytest

from conftest import PASSWORD
from tests.faults.flows import TIMEOUT

from .surfaces import browser_from, logged_in, session_key

ACCOUNT_POSTS = [
    ("/accounts/profile/", {"given_name": "Forged"}),
    (
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "forged pass 123456", "new_password2": "forged pass 123456"},
    ),
    ("/accounts/sessions/logout-everywhere/", {}),
    ("/accounts/2fa/totp/", {"code": "123456"}),
    ("/accounts/verify-email/resend/", {}),
    ("/accounts/passkeys/add/", {"credential": "{}"}),
]


@pytest.mark.attack("OWASP ASVS", "V50.3 CSRF: a cross-site POST to an account form is refused (403)")
@pytest.mark.parametrize("path,data", ACCOUNT_POSTS, ids=[path for path, _ in ACCOUNT_POSTS])
def test_account_posts_without_the_csrf_token_are_refused(security, path, data):
    browser = security.browser()
    before = session_key(browser)
    response = browser.http.post(
        security.url + path,
        data=data,
        headers={"Origin": "https://evil.example", "Referer": "https://evil.example/page"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 403, response.status_code
    assert session_key(browser) == before and logged_in(browser)


@pytest.mark.attack("OWASP ASVS", "V50.3 CSRF: the password is unchanged after a forged password change")
def test_a_forged_password_change_changes_nothing(security):
    username = security.new_user()
    browser = security.browser(username)
    new = "forged password 987654"
    browser.http.post(
        security.url + "/accounts/password/",
        data={"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        headers={"Origin": "https://evil.example"},
        timeout=TIMEOUT,
    )
    assert browser_from(security.url).start_login(username).status_code == 302
    assert browser_from(security.url).start_login(username, new).status_code == 200


@pytest.mark.attack("OWASP ASVS", "V50.3 login CSRF: a login POST from another site is refused")
def test_a_cross_site_login_is_refused(security):
    browser = browser_from(security.url)
    response = browser.http.post(
        security.url + "/accounts/login/",
        data={"username": security.new_user(), "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 403
    assert not logged_in(browser)


@pytest.mark.attack("OWASP ASVS", "V50 open redirect: the login's `next` never leaves the site")
@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "https:evil.example",
        "javascript:alert(1)",
        "http://127.0.0.1.evil.example/",
        "\t//evil.example",
    ],
)
def test_the_login_does_not_redirect_off_site(security, target):
    browser = browser_from(security.url)
    token = browser.csrf_token()
    response = browser.http.post(
        security.url + "/accounts/login/",
        data={"username": security.new_user(), "password": PASSWORD, "next": target, "csrfmiddlewaretoken": token},
        headers={"Referer": security.url + "/accounts/login/"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.scheme in ("", "http") and parts.netloc in ("", urlsplit(security.url).netloc), location
    assert not location.startswith(("//", "/\\", "javascript:")), location


@pytest.mark.attack("SECURITY.md", "Sessions, cookies, logout: the session key changes at a password change")
def test_the_session_key_changes_at_a_password_change(security):
    browser = security.browser()
    before = session_key(browser)
    new = "rotated session passphrase 1"
    response = browser.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert session_key(browser) != before and logged_in(browser)
