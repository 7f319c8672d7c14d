"""Email in Chromium: verifying the address after registration, resetting a forgotten password,
and editing one's name and address. Mail is read from Django's outbox (the live server runs in
this process, with the locmem email backend)."""

from accounts.tests.helpers import link_in, sent_mail
from conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase 42"


def test_register_verify_the_address_and_see_it_verified(browser):
    browser.goto("/accounts/register/")
    browser.page.get_by_label("Username").fill("newcomer")
    browser.page.get_by_label("Email").fill("newcomer@example.com")
    browser.page.get_by_label("Password").fill("a long enough passphrase")
    browser.click("Create account")
    # The address joins the account once verified (issue 15: the same page whether or not
    # another account has it).
    assert "We sent a message to newcomer@example.com: follow its link" in browser.page.inner_text("main")
    browser.check("profile-address-pending")
    [message] = sent_mail()
    assert message.to == ["newcomer@example.com"]
    browser.goto(link_in(message))
    assert browser.page.url.endswith("/accounts/verify-email/")  # the token left the URL
    assert browser.heading() == "Verify your email address"
    browser.check("verify-email")
    browser.click("Verify my email address")
    assert browser.page.url.endswith("/accounts/profile/")
    main = browser.page.inner_text("main")
    assert "Your email address newcomer@example.com is verified." in main
    assert "Verified" in main and "Not verified" not in main
    browser.check("profile-verified")


def test_resend_the_verification_email(browser, user):
    browser.goto("/accounts/login/")
    browser.login(user.username)
    browser.click("Send the verification email again")
    assert f"We sent a new verification link to {user.email}." in browser.page.inner_text("main")
    browser.check("verification-resent")
    [message] = sent_mail()
    assert message.to == [user.email]


def test_a_bad_verification_link_says_so(browser):
    response = browser.goto("/accounts/verify-email/not-a-token/")
    assert response.status == 400
    assert browser.heading() == "Invalid verification link"
    browser.check("verify-email-invalid")


def test_forgot_password_from_the_login_page(browser, second_browser, user):
    second_browser.goto("/accounts/login/")  # another device, logged in before the reset
    second_browser.login(user.username)
    assert second_browser.page.url.endswith("/accounts/profile/")
    browser.goto("/accounts/login/")
    browser.click("Forgot password?", role="link")
    assert browser.heading() == "Reset your password"
    browser.check("password-reset")
    browser.page.get_by_label("Email").fill(user.email)
    browser.click("Send the reset link")
    assert browser.heading() == "Check your email"
    browser.check("password-reset-sent")
    [message] = sent_mail()
    browser.goto(link_in(message))
    assert browser.page.url.endswith("/set-password/")  # the token left the URL
    assert browser.heading() == "Choose a new password"
    browser.check("password-reset-form")
    browser.page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    browser.page.get_by_label("New password again").fill(NEW_PASSWORD + " typo")
    browser.click("Set new password")
    assert browser.page.get_by_role("alert").count() >= 1
    browser.check("password-reset-mismatch")
    browser.page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    browser.page.get_by_label("New password again").fill(NEW_PASSWORD)
    browser.click("Set new password")
    assert browser.heading() == "Your password has been reset"
    browser.check("password-reset-complete")
    # The old session on the other device is gone.
    second_browser.goto("/accounts/profile/")
    assert "/accounts/login/" in second_browser.page.url
    # The link worked once.
    response = browser.goto(link_in(message))
    assert response.status == 400
    assert browser.heading() == "Invalid reset link"
    browser.check("password-reset-used-link")
    # Logging in with the new password works, with the old one it does not.
    browser.goto("/accounts/login/")
    browser.login(user.username, PASSWORD)
    assert browser.page.url.endswith("/accounts/login/")
    browser.login(user.username, NEW_PASSWORD)
    assert browser.page.url.endswith("/accounts/profile/")
    assert "Verified" in browser.page.inner_text("main")  # the reset link proved the address


def test_forgot_password_from_the_lockout_page(browser, user, settings):
    browser.goto("/accounts/login/")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        browser.login(user.username, "not the password")
    assert browser.heading() == "Too many failed login attempts"
    browser.click("Reset it by email", role="link")
    assert browser.heading() == "Reset your password"
    browser.page.get_by_label("Email").fill(user.email)
    browser.click("Send the reset link")
    browser.goto(link_in(sent_mail()[0]))
    browser.page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    browser.page.get_by_label("New password again").fill(NEW_PASSWORD)
    browser.click("Set new password")
    browser.click("Log in", role="link")
    browser.login(user.username, NEW_PASSWORD)  # the lockout of this browser's address is lifted
    assert browser.page.url.endswith("/accounts/profile/")


def test_edit_name_and_email(browser, user, make_user):
    """A new address is the account's only once its link is followed, and the page answers
    the same whether or not another account has it (issue 15)."""
    owner = make_user(email="taken@example.com")
    old = user.email
    user.email_verified = True
    user.save()
    browser.goto("/accounts/login/")
    browser.login(user.username)
    browser.check("profile")
    browser.page.get_by_label("First name").fill("Ada")
    browser.page.get_by_label("Last name").fill("Lovelace")
    browser.click("Save changes")
    assert "Your changes have been saved." in browser.page.inner_text("main")
    assert browser.page.get_by_label("First name").input_value() == "Ada"
    browser.check("profile-saved")
    pages = []
    for address in ("TAKEN@example.com", "ada@example.com"):
        browser.page.get_by_label("Email").fill(address)
        browser.click("Save changes")
        assert browser.page.url.endswith("/accounts/profile/")
        main = browser.page.inner_text("main")
        assert f"We sent a link to {address}: your address changes to it when you follow the link." in main
        assert browser.page.get_by_label("Email").input_value() == old  # still the account's
        assert browser.page.get_by_label("Email").get_attribute("aria-invalid") is None
        pages.append(main.replace(address, "EMAIL"))
    assert pages[0] == pages[1]
    browser.check("profile-email-pending")
    attempt, verify = sent_mail()
    assert attempt.to == [owner.email] and verify.to == ["ada@example.com"]
    browser.goto(link_in(verify))
    assert "ada@example.com" in browser.page.inner_text("main")
    browser.check("verify-new-email")
    browser.click("Verify my email address")
    assert browser.page.url.endswith("/accounts/profile/")
    main = browser.page.inner_text("main")
    assert "Your email address ada@example.com is verified." in main
    assert "Verified" in main and "Not verified" not in main
    assert browser.page.get_by_label("Email").input_value() == "ada@example.com"
    [notice] = sent_mail()[2:]
    assert notice.to == [old]
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email, user.email_verified) == (
        "Ada",
        "Lovelace",
        "ada@example.com",
        True,
    )


def test_too_many_changes_of_address(browser, user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verification_email": "1/hour"},
    }
    browser.goto("/accounts/login/")
    browser.login(user.username)
    for address in ("first@example.com", "second@example.com"):
        browser.page.get_by_label("Email").fill(address)
        browser.click("Save changes")
    alert = browser.page.get_by_role("alert").first.inner_text()
    assert "Too many changes of address were asked for. Try again later." in alert
    assert browser.page.get_by_label("Email").get_attribute("aria-invalid") == "true"
    browser.check("profile-email-throttled")
    [verify] = sent_mail()
    assert verify.to == ["first@example.com"]
