"""Two-factor authentication in Chromium: enrol an authenticator app from the page (the test
reads the key shown for manual entry, as a person without a camera would type it), log in with
a code, fall back to a recovery code, turn it off."""

import time
from base64 import b32decode
from types import SimpleNamespace

from django.test import RequestFactory
from django_otp.oath import TOTP

from accounts.mfa import flows, ip_throttle, trust
from accounts.mfa.tests.conftest import code_for
from conftest import PASSWORD
from sso.models import SSOSession


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
    # The failure's growing delay (1 s) passes before the next try. The current step's code: one
    # computed a step early would fall out of the drift window if a 30 s boundary passed before
    # the server checks it (drift is tested in accounts/mfa/tests/test_flows.py).
    browser.page.wait_for_timeout(1500)
    browser.page.get_by_label("Code from your app").fill(current_code(secret))
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


def enrolled_device(person):
    """`person` with a confirmed authenticator app (set up as the API would)."""
    device = flows.start_totp(user=person)
    flows.confirm_totp(user=person, code=code_for(device, offset_steps=-1))
    device.refresh_from_db()
    return device


def test_trust_this_browser_skips_the_code_step_on_the_next_login(browser, user, settings):
    settings.MFA_TRUST_BROWSER_DAYS = 30
    device = enrolled_device(user)
    browser.goto("/accounts/login/")
    browser.login(user.username)
    assert browser.heading() == "Two-step verification"
    box = browser.page.get_by_label("Trust this browser for 30 days", exact=False)
    assert not box.is_checked()
    browser.check("mfa-code-step-trust")
    box.check()
    browser.page.get_by_label("Code", exact=True).fill(code_for(device, offset_steps=1))
    browser.click("Verify")
    assert browser.page.url.endswith("/accounts/profile/")
    (cookie,) = [c for c in browser.context.cookies() if c["name"] == trust.COOKIE_NAME]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/accounts/login/"
    assert cookie["expires"] > time.time() + 29 * 24 * 3600

    browser.click(f"Log out {user.username}", within="header")
    browser.goto("/accounts/login/")
    browser.login(user.username)
    assert browser.page.url.endswith("/accounts/profile/")  # no code asked on this browser
    assert SSOSession.objects.filter(user=user, revoked_at__isnull=True).get().amr == ["pwd"]


def test_wrong_codes_from_one_ip_for_several_users_get_the_429_page(
    browser, second_browser, user, make_user, settings, monkeypatch
):
    settings.MFA_IP_FAILURE_ALLOWANCE = 0
    settings.MFA_IP_MAX_DELAY_SECONDS = 60
    with monkeypatch.context() as earlier:  # this IP guessed a minute ago: its next wrong code costs 32 s
        earlier.setattr(ip_throttle, "time", SimpleNamespace(time=lambda: time.time() - 60))
        for _ in range(5):
            ip_throttle.failed(RequestFactory().post("/accounts/login/code/", REMOTE_ADDR="127.0.0.1"))
    enrolled_device(user)
    other = make_user(username="other")
    other_device = enrolled_device(other)

    browser.goto("/accounts/login/")
    browser.login(user.username)
    browser.page.get_by_label("Code", exact=True).fill("000000" if code_for(other_device) != "000000" else "111111")
    browser.click("Verify")
    assert "not right" in browser.page.get_by_role("alert").first.inner_text()

    second_browser.goto("/accounts/login/")  # the same IP (127.0.0.1), another user, a right code
    second_browser.login(other.username)
    second_browser.page.get_by_label("Code", exact=True).fill(code_for(other_device, offset_steps=1))
    with second_browser.page.expect_response(lambda r: r.url.endswith("/accounts/login/code/") and r.status == 429):
        second_browser.click("Verify")
    assert "Too many wrong codes" in second_browser.page.get_by_role("alert").first.inner_text()
    second_browser.check("mfa-code-step-ip-throttled")
