"""Two-factor authentication in Chromium: enrol an authenticator app from the page (the test
reads the key shown for manual entry, as a person without a camera would type it), log in with
a code, fall back to a recovery code, turn it off."""

from base64 import b32decode

from django_otp.oath import TOTP

from conftest import PASSWORD


def current_code(secret, steps=0):
    padded = secret + "=" * (-len(secret) % 8)
    totp = TOTP(b32decode(padded), 30, 0, 6)
    totp.time = totp.time + steps * 30
    return f"{totp.token():06d}"


def test_enrol_log_in_with_a_code_then_a_recovery_code_then_turn_it_off(browser, user):
    browser.goto("/accounts/login/")
    browser.login(user.username)
    browser.goto("/accounts/profile/")
    browser.click("Two-factor authentication", role="link")
    browser.check("mfa-off")
    browser.click("Set up an authenticator app", role="link")
    assert browser.page.locator("svg.qr").count() == 1
    browser.check("mfa-setup")
    secret = browser.page.locator("[data-secret]").get_attribute("data-secret")

    browser.page.get_by_label("Code from your app").fill("000000" if current_code(secret) != "000000" else "111111")
    browser.click("Turn on")
    assert "not right" in browser.page.get_by_role("alert").first.inner_text()
    browser.check("mfa-setup-error")
    # The failure's growing delay (1 s) passes before the next try.
    browser.page.wait_for_timeout(1100)
    browser.page.get_by_label("Code from your app").fill(current_code(secret, steps=-1))
    browser.click("Turn on")
    assert browser.heading() == "Your recovery codes"
    codes = browser.page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    browser.check("mfa-recovery-codes")
    browser.click("I have saved them", role="link")
    assert "On" in browser.page.inner_text("main")

    browser.click(f"Log out {user.username}", within="header")
    browser.goto("/accounts/login/")
    browser.login(user.username)
    assert browser.page.url.endswith("/accounts/login/code/")
    assert browser.heading() == "Two-step verification"
    browser.check("mfa-code-step")
    browser.page.get_by_label("Code").fill(current_code(secret, steps=1))
    browser.click("Verify")
    assert browser.page.url.endswith("/accounts/profile/")

    browser.click(f"Log out {user.username}", within="header")
    browser.goto("/accounts/login/")
    browser.login(user.username)
    browser.page.get_by_label("Code").fill(codes[0])
    browser.click("Verify")
    assert browser.page.url.endswith("/accounts/profile/")

    browser.goto("/accounts/2fa/")
    assert "9 unused recovery codes" in browser.page.inner_text("main")
    browser.check("mfa-on")
    browser.click("Turn off two-factor authentication", role="link")
    browser.page.get_by_label("Your password").fill(PASSWORD)
    browser.click("Turn off")
    assert "Two-factor authentication is off." in browser.page.inner_text("main")
