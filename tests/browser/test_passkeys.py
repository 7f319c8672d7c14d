"""Passkeys in Chromium, with its virtual authenticator (the DevTools protocol's WebAuthn
domain, through Playwright's CDP session): register one on the passkeys page, sign in with it
without a password, use it as the code step after the password, and remove it. The page's own
script (static/passkeys.js) runs the ceremonies under our CSP, as for a person."""

from audit import events
from audit.models import SecurityEvent
from conftest import PASSWORD
from sso.models import SSOSession


def virtual_authenticator(browser, *, synced=False):
    """A platform authenticator with user verification (a laptop's fingerprint reader), or,
    `synced`, one whose passkeys are backed up (a password manager's); its CDP session and id."""
    cdp = browser.context.new_cdp_session(browser.page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
        "defaultBackupEligibility": synced,
        "defaultBackupState": synced,
    }
    return cdp, cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]


def latest_amr(user):
    return SSOSession.objects.filter(user=user).latest("created_at").amr


def add_passkey(browser, name):
    browser.goto("/accounts/passkeys/")
    browser.page.get_by_label("Name of the new passkey").fill(name)
    browser.click("Add a passkey")
    assert f"Passkey “{name}” added." in browser.page.inner_text("main")


def test_register_a_passkey_then_sign_in_with_it_without_a_password_and_as_the_second_step(browser, user):
    cdp, authenticator = virtual_authenticator(browser)
    browser.goto("/accounts/login/")
    browser.login(user.username)
    browser.click("Passkeys", role="link")
    assert "No passkey yet." in browser.page.inner_text("main")
    browser.check("passkeys-empty")
    add_passkey(browser, "This laptop")
    browser.check("passkeys-one")
    [stored] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert stored["isResidentCredential"] and stored["rpId"] == "localhost"

    browser.click(f"Log out {user.username}", within="header")
    browser.goto("/accounts/login/")
    browser.check("login-with-passkey")
    browser.click("Sign in with a passkey")
    assert browser.page.url.endswith("/accounts/profile/")
    assert latest_amr(user) == ["hwk", "mfa"]

    browser.click(f"Log out {user.username}", within="header")
    browser.goto("/accounts/login/")
    browser.login(user.username)
    assert browser.page.url.endswith("/accounts/login/code/")
    browser.check("code-step-passkey")
    browser.click("Use a passkey")
    assert browser.page.url.endswith("/accounts/profile/")
    assert latest_amr(user) == ["hwk", "pwd"]
    [stored] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert stored["signCount"] >= 2

    browser.goto("/accounts/passkeys/")
    browser.click("Remove This laptop", role="link")
    browser.check("passkey-remove")
    browser.page.get_by_label("Your password").fill(PASSWORD)
    browser.click("Remove")
    assert "No passkey yet." in browser.page.inner_text("main")
    methods = [e.detail.get("method") for e in SecurityEvent.objects.filter(event=events.MFA_DISABLED)]
    assert methods == ["passkey"]


def test_a_synced_passkey_is_software_bound_and_a_refused_ceremony_says_so(browser, user):
    cdp, authenticator = virtual_authenticator(browser, synced=True)
    browser.goto("/accounts/login/")
    browser.login(user.username)
    add_passkey(browser, "Password manager")
    assert "synced between devices" in browser.page.inner_text("main")

    browser.click(f"Log out {user.username}", within="header")
    browser.goto("/accounts/login/")
    # The authenticator cannot verify the person (no fingerprint): no passwordless login.
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False})
    browser.page.get_by_role("button", name="Sign in with a passkey").click()
    browser.page.locator("[data-passkey-status]").filter(has_text="No passkey was used").wait_for()
    assert browser.page.url.endswith("/accounts/login/")
    browser.check("passkey-not-used")
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": True})
    browser.click("Sign in with a passkey")
    assert browser.page.url.endswith("/accounts/profile/")
    assert latest_amr(user) == ["mfa", "swk"]
