"""A person's own pages, in Chromium: the start page, registering, logging out, the password."""

from conftest import PASSWORD


def test_the_start_page_says_what_this_is_and_offers_login_and_registration(browser):
    response = browser.goto("/")
    assert response.status == 200
    assert "One account" in browser.heading()
    browser.check("landing")
    browser.click("Log in", role="link", exact=True)
    assert browser.page.url.endswith("/accounts/login/")


def test_the_start_page_of_a_signed_in_person_is_their_account(browser, user):
    browser.goto("/accounts/login/")
    browser.login(user.username)
    browser.goto("/")
    assert browser.page.url.endswith("/accounts/profile/")


def test_register_and_land_on_the_account_page(browser):
    browser.goto("/")
    browser.click("Create an account", role="link")
    browser.check("register")
    browser.page.get_by_label("Username").fill("newcomer")
    browser.page.get_by_label("Email").fill("newcomer@example.com")
    browser.page.get_by_label("Password").fill("a long enough passphrase")
    browser.click("Create account")
    assert browser.page.url.endswith("/accounts/profile/")
    assert "newcomer" in browser.page.inner_text("main")


def test_registration_errors_are_announced(browser, user):
    browser.goto("/accounts/register/")
    browser.page.get_by_label("Username").fill(user.username)
    browser.page.get_by_label("Email").fill("not-an-address")
    browser.page.get_by_label("Password").fill("short")
    browser.click("Create account")
    alerts = browser.page.get_by_role("alert")
    assert "Enter a valid email address" in alerts.first.inner_text()
    assert browser.page.get_by_label("Email").get_attribute("aria-invalid") == "true"
    browser.check("register-errors")


def test_log_out_ends_on_a_page_that_says_so(browser, user):
    browser.goto("/accounts/login/")
    browser.login(user.username)
    browser.check("account")
    browser.click(f"Log out {user.username}", within="header")
    assert browser.heading() == "You are logged out"
    browser.check("logged-out")
    browser.goto("/accounts/profile/")
    assert "/accounts/login/" in browser.page.url


def test_change_password(browser, user):
    browser.goto("/accounts/login/")
    browser.login(user.username)
    browser.goto("/accounts/password/")
    browser.check("password-change")
    browser.page.get_by_label("Current password", exact=False).fill("wrong password")
    browser.page.get_by_label("New password", exact=True).fill("a brand new passphrase 42")
    browser.page.get_by_label("New password again").fill("a brand new passphrase 42")
    browser.click("Change password")
    assert browser.page.get_by_role("alert").count() >= 1
    browser.check("password-change-error")
    browser.page.get_by_label("Current password", exact=False).fill(PASSWORD)
    browser.page.get_by_label("New password", exact=True).fill("a brand new passphrase 42")
    browser.page.get_by_label("New password again").fill("a brand new passphrase 42")
    browser.click("Change password")
    assert browser.heading() == "Password changed"
    browser.check("password-changed")
    user.refresh_from_db()
    assert user.check_password("a brand new passphrase 42")


def test_a_missing_page_is_our_404(browser):
    response = browser.goto("/no/such/page/")
    assert response.status == 404
    assert browser.heading() == "Page not found"
    browser.check("not-found")


def test_too_many_wrong_passwords_show_the_lockout_page(browser, user, settings):
    browser.goto("/accounts/login/")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        browser.login(user.username, "not the password")
    assert browser.heading() == "Too many failed login attempts"
    browser.check("locked-out")
    browser.click("Back to the login page", role="link")
    browser.login(user.username, PASSWORD)  # refused too, whatever the password
    assert browser.heading() == "Too many failed login attempts"
