"""Passkeys with a real (software) authenticator registered over HTTP: an assertion answers one
challenge (a replay is refused), a cloned authenticator (counter not moving) is refused, one
user's passkey is no second factor for another, the options name nobody's credentials."""

from urllib.parse import urlsplit

import pytest

from .authenticator import SoftAuthenticator
from .surfaces import at_code_step, browser_from, logged_in, new_mfa_user

SOURCE = "OWASP ASVS"


def _options(browser, path):
    response = browser.post(path)
    assert response.status_code == 200, response.text[:500]
    return response.json()


@pytest.fixture
def passkey_user(security):
    """(username, authenticator, user handle): a fresh user with a passkey registered through
    the account page's ceremony."""
    username = security.new_user()
    browser = security.browser(username)
    authenticator = SoftAuthenticator(security.url)
    options = _options(browser, "/accounts/passkeys/options/")
    response = browser.post("/accounts/passkeys/add/", {"credential": authenticator.create(options), "name": "soft"})
    assert response.status_code == 303, response.status_code
    page = browser.get("/accounts/passkeys/")
    assert "soft" in page.text, "the passkey was not registered"
    return username, authenticator, options["user"]["id"]


def _passkey_login(security, authenticator, handle, *, advance=True, assertion=None):
    browser = browser_from(security.url)
    options = _options(browser, "/accounts/login/passkey/options/")
    credential = assertion or authenticator.get(options, advance=advance, user_handle=handle)
    response = browser.post("/accounts/login/passkey/", {"credential": credential})
    return browser, response, credential


@pytest.mark.attack(SOURCE, "V6.6 passkeys: a genuine assertion logs in (the control of the attacks below)")
def test_a_genuine_passkey_assertion_logs_in(security, passkey_user):
    _, authenticator, handle = passkey_user
    browser, response, _ = _passkey_login(security, authenticator, handle)
    assert response.status_code == 303
    assert logged_in(browser)


@pytest.mark.attack(SOURCE, "V6.6 passkeys: a replayed assertion is refused (it answered another challenge)")
def test_a_replayed_passkey_assertion_is_refused(security, passkey_user):
    _, authenticator, handle = passkey_user
    first, response, assertion = _passkey_login(security, authenticator, handle)
    assert response.status_code == 303 and logged_in(first)
    replayer, replay, _ = _passkey_login(security, authenticator, handle, assertion=assertion)
    assert replay.status_code == 303
    assert urlsplit(replay.headers["Location"]).path == "/accounts/login/"
    assert not logged_in(replayer)


@pytest.mark.attack(SOURCE, "V6.6 passkeys: a cloned authenticator (signature counter not moving) is refused")
def test_a_cloned_authenticator_is_refused(security, passkey_user):
    _, authenticator, handle = passkey_user
    first, _, _ = _passkey_login(security, authenticator, handle)
    assert logged_in(first)
    clone, response, _ = _passkey_login(security, authenticator, handle, advance=False)
    assert urlsplit(response.headers["Location"]).path == "/accounts/login/"
    assert not logged_in(clone)


@pytest.mark.attack(SOURCE, "V6.6 passkeys: an assertion signed by another key for the same credential id fails")
def test_an_assertion_signed_by_another_key_is_refused(security, passkey_user):
    _, authenticator, handle = passkey_user
    impostor = SoftAuthenticator(security.url)
    impostor.credential_id = authenticator.credential_id
    impostor.sign_count = 1000
    browser, response, _ = _passkey_login(security, impostor, handle)
    assert urlsplit(response.headers["Location"]).path == "/accounts/login/"
    assert not logged_in(browser)


@pytest.mark.attack(SOURCE, "V6.6 passkeys: one user's passkey is no second factor for another user")
def test_a_passkey_of_another_user_is_no_second_factor(security, passkey_user):
    _, authenticator, handle = passkey_user
    victim = new_mfa_user(security)
    browser = at_code_step(security.url, victim)
    options = _options(browser, "/accounts/login/code/passkey/options/")
    assert not options.get("allowCredentials"), "the victim's options list someone's passkey"
    response = browser.post("/accounts/login/code/passkey/", {"credential": authenticator.get(options)})
    assert response.status_code == 400
    assert not logged_in(browser)


@pytest.mark.attack(SOURCE, "V6.6 passkeys: passwordless options list no credential, though passkeys exist")
def test_passwordless_options_list_no_credential_of_anyone(security, passkey_user):
    _, authenticator, _ = passkey_user
    options = _options(browser_from(security.url), "/accounts/login/passkey/options/")
    assert not options.get("allowCredentials")
    from .authenticator import b64url

    assert b64url(authenticator.credential_id) not in str(options)


@pytest.mark.attack(SOURCE, "V6.6 passkeys: an assertion for an origin other than the server's is refused")
def test_an_assertion_from_another_origin_is_refused(security, passkey_user):
    _, authenticator, handle = passkey_user
    authenticator.origin = "https://evil.example"
    browser, response, _ = _passkey_login(security, authenticator, handle)
    assert urlsplit(response.headers["Location"]).path == "/accounts/login/"
    assert not logged_in(browser)
