"""The second-factor step, attacked from outside: code replay (also in parallel), drift, brute
force per device and per address, enumeration, what a half-logged-in session can reach,
recovery codes (single use, one winner of parallel uses), passkey ceremonies with forged
answers."""

import json
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from tests.faults.flows import TIMEOUT

from .surfaces import (
    at_code_step,
    authorize_location,
    browser_from,
    code_in,
    fresh_address,
    logged_in,
    new_mfa_user,
    send_code,
    totp_code,
    wait_for_next_step,
)

SECTION = "Authentication hardening"


def _path(response):
    return urlsplit(response.headers.get("Location", "")).path


@pytest.mark.attack("SECURITY.md", SECTION + ": TOTP: a code works once")
def test_a_totp_code_works_once(security):
    user = new_mfa_user(security)
    wait_for_next_step(user["totp"])
    code = totp_code(user["totp"])
    first = at_code_step(security.url, user)
    assert send_code(first, code).status_code == 302
    assert logged_in(first)
    second = at_code_step(security.url, user)
    replay = send_code(second, code)
    assert replay.status_code in (400, 429)
    assert not logged_in(second)


@pytest.mark.attack("SECURITY.md", SECTION + ": TOTP: a code works once, also when submitted twice in parallel")
def test_one_totp_code_sent_in_parallel_logs_in_once(security):
    user = new_mfa_user(security)
    browsers = [at_code_step(security.url, user) for _ in range(6)]
    for browser in browsers:
        browser.csrf_token()
    wait_for_next_step(user["totp"])
    code = totp_code(user["totp"])
    with ThreadPoolExecutor(len(browsers)) as pool:
        statuses = list(pool.map(lambda b: send_code(b, code).status_code, browsers))
    assert statuses.count(302) == 1, statuses
    assert sum(logged_in(browser) for browser in browsers) == 1


@pytest.mark.attack("SECURITY.md", SECTION + ": TOTP: ±1 step of drift is accepted")
def test_a_code_one_step_ahead_is_accepted(security):
    user = new_mfa_user(security)
    browser = at_code_step(security.url, user)
    wait_for_next_step(user["totp"])
    assert send_code(browser, totp_code(user["totp"], +1)).status_code == 302
    assert logged_in(browser)


@pytest.mark.attack("SECURITY.md", SECTION + ": TOTP: no more than ±1 step of drift")
@pytest.mark.parametrize("steps", [-3, +3, +20])
def test_a_code_further_off_is_refused(security, steps):
    user = new_mfa_user(security)
    browser = at_code_step(security.url, user)
    wait_for_next_step(user["totp"])
    assert send_code(browser, totp_code(user["totp"], steps)).status_code == 400
    assert not logged_in(browser)


@pytest.mark.attack("SECURITY.md", SECTION + ": TOTP throttled per account (429 with Retry-After)")
def test_guessing_codes_is_throttled_with_retry_after(security):
    user = new_mfa_user(security)
    browser = at_code_step(security.url, user)
    answers = [send_code(browser, f"{n:06d}") for n in (111111, 222222, 333333)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[0] == 400 and 429 in statuses, statuses
    throttled = next(answer for answer in answers if answer.status_code == 429)
    assert int(throttled.headers["Retry-After"]) >= 1
    # The right code during the delay is refused too: guessing faster gains nothing.
    wait_for_next_step(user["totp"])
    right = send_code(browser, totp_code(user["totp"]))
    assert right.status_code == 429
    assert not logged_in(browser)


@pytest.mark.attack("SECURITY.md", SECTION + ": TOTP throttled per IP (one client guessing many users' codes)")
def test_guessing_many_users_codes_from_one_address_is_throttled(security):
    address = fresh_address()
    allowance = 10  # MFA_IP_FAILURE_ALLOWANCE's default
    statuses = []
    for _ in range(allowance + 2):
        browser = at_code_step(security.url, new_mfa_user(security), address)
        statuses.append(send_code(browser, "000000").status_code)
    assert statuses[:allowance] == [400] * allowance, statuses
    assert statuses[-1] == 429, statuses
    # Another address is not slowed down by it.
    other = new_mfa_user(security)
    browser = at_code_step(security.url, other)
    wait_for_next_step(other["totp"])
    assert send_code(browser, totp_code(other["totp"])).status_code == 302


@pytest.mark.attack("SECURITY.md", SECTION + ": no enumeration: a wrong password of a 2FA user looks like anyone's")
def test_a_wrong_password_does_not_tell_who_has_two_factor(security):
    browser = browser_from(security.url)
    plain = browser.start_login(security.new_user(), "wrong password for both")
    enrolled = browser.start_login(new_mfa_user(security)["username"], "wrong password for both")

    def strip(html):
        return re.sub(r'value="[^"]*"', "", html)

    assert plain.status_code == enrolled.status_code == 200
    assert strip(plain.text) == strip(enrolled.text)


@pytest.mark.attack("SECURITY.md", SECTION + ": no enumeration: the code step page names no user and no device")
def test_the_code_step_page_tells_nothing_of_the_account(security):
    user = new_mfa_user(security)
    browser = at_code_step(security.url, user)
    page = browser.get("/accounts/login/code/")
    assert page.status_code == 200
    assert user["username"] not in page.text
    assert "@example.com" not in page.text
    other = at_code_step(security.url, new_mfa_user(security))
    other_page = other.get("/accounts/login/code/")

    def strip(html):
        return re.sub(r'value="[^"]*"', "", html)

    assert strip(page.text) == strip(other_page.text)


@pytest.mark.attack("SECURITY.md", SECTION + ": a half-logged-in session gets no code from /authorize")
def test_a_half_logged_in_session_gets_no_authorization_code(security):
    browser = at_code_step(security.url, new_mfa_user(security))
    web = security.data["clients"]["web"]
    response = authorize_location(browser, web["client_id"], security.data["redirect_uri"])
    assert code_in(response) is None
    assert response.status_code == 302 and _path(response) == "/accounts/login/"


@pytest.mark.attack("SECURITY.md", SECTION + ": a half-logged-in session gets no admin, no account page, no API")
@pytest.mark.parametrize("path", ["/admin/", "/accounts/profile/", "/accounts/sessions/", "/api/admin/users/"])
def test_a_half_logged_in_session_reaches_nothing(security, path):
    staff = security.data["mfa_staff"]
    browser = at_code_step(security.url, staff)
    response = browser.get(path)
    if path.startswith("/api/"):
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 302
        assert _path(response) in ("/accounts/login/", "/admin/login/")


@pytest.mark.attack("SECURITY.md", SECTION + ": a code alone, with no password step, logs in nobody")
def test_a_code_without_a_pending_login_logs_in_nobody(security):
    user = new_mfa_user(security)
    browser = browser_from(security.url)
    response = send_code(browser, totp_code(user["totp"]))
    assert response.status_code == 302 and _path(response) == "/accounts/login/"
    assert not logged_in(browser)


@pytest.mark.attack("SECURITY.md", SECTION + ": a cancelled code step cannot be finished later")
def test_a_cancelled_login_cannot_be_finished(security):
    user = new_mfa_user(security)
    browser = at_code_step(security.url, user)
    assert browser.post("/accounts/login/code/cancel/").status_code == 302
    wait_for_next_step(user["totp"])
    response = send_code(browser, totp_code(user["totp"]))
    assert _path(response) == "/accounts/login/"
    assert not logged_in(browser)


@pytest.mark.attack("OWASP ASVS", "V6.5.1 a recovery code works once")
def test_a_recovery_code_works_once(security):
    user = new_mfa_user(security)
    code = user["recovery_codes"][0]
    first = at_code_step(security.url, user)
    assert send_code(first, code).status_code == 302
    assert logged_in(first)
    second = at_code_step(security.url, user)
    assert send_code(second, code).status_code == 400
    assert not logged_in(second)


@pytest.mark.attack("SECURITY.md", "Concurrency: one recovery code used in parallel has one winner (issue 15)")
def test_one_recovery_code_used_in_parallel_has_one_winner(security):
    user = new_mfa_user(security)
    code = user["recovery_codes"][1]
    browsers = [at_code_step(security.url, user) for _ in range(8)]
    for browser in browsers:
        browser.csrf_token()
    with ThreadPoolExecutor(len(browsers)) as pool:
        statuses = list(pool.map(lambda b: send_code(b, code).status_code, browsers))
    assert statuses.count(302) == 1, statuses
    assert set(statuses) <= {302, 400, 429}, statuses
    assert sum(logged_in(browser) for browser in browsers) == 1


@pytest.mark.attack("OWASP ASVS", "V6.5.1 a made-up recovery code logs in nobody")
@pytest.mark.parametrize("code", ["AAAA-BBBB-CCCC", "0000-0000", "x" * 300, "' OR '1'='1"])
def test_a_made_up_recovery_code_is_refused(security, code):
    user = new_mfa_user(security)
    browser = at_code_step(security.url, user)
    assert send_code(browser, code).status_code == 400
    assert not logged_in(browser)


@pytest.mark.attack("OWASP ASVS", "V6.3 turning 2FA off asks for the password again")
def test_turning_two_factor_off_needs_the_password(security):
    user = new_mfa_user(security)
    browser = at_code_step(security.url, user)
    wait_for_next_step(user["totp"])
    assert send_code(browser, totp_code(user["totp"])).status_code == 302
    response = browser.post("/accounts/2fa/disable/", {"password": "not the password"})
    assert response.status_code == 400
    again = browser_from(security.url).start_login(user["username"])
    assert _path(again) == "/accounts/login/code/", "2FA was turned off without the password"


def _options(browser, path):
    response = browser.post(path)
    assert response.status_code == 200, response.text[:500]
    return response.json()


def _forged_assertion(options, credential_id="AAAAAAAAAAAAAAAAAAAAAA"):
    client_data = {"type": "webauthn.get", "challenge": options.get("challenge", ""), "origin": "https://evil.example"}
    encode = __import__("base64").urlsafe_b64encode

    def b64(data):
        return encode(data).rstrip(b"=").decode()

    return json.dumps(
        {
            "id": credential_id,
            "rawId": credential_id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(json.dumps(client_data).encode()),
                "authenticatorData": b64(b"\x00" * 37),
                "signature": b64(b"\x30\x06\x02\x01\x01\x02\x01\x01"),
                "userHandle": b64(b"someone-else"),
            },
        }
    )


@pytest.mark.attack("OWASP ASVS", "V6.6 passkeys: a forged assertion is refused (passwordless login)")
@pytest.mark.parametrize("kind", ["forged", "garbage", "empty", "huge"])
def test_a_forged_passkey_assertion_logs_in_nobody(security, kind):
    browser = browser_from(security.url)
    options = _options(browser, "/accounts/login/passkey/options/")
    credential = {
        "forged": _forged_assertion(options),
        "garbage": "{not json",
        "empty": "",
        "huge": json.dumps({"id": "A" * 60000}),
    }[kind]
    response = browser.post("/accounts/login/passkey/", {"credential": credential})
    assert response.status_code in (303, 400, 413), response.status_code
    if response.status_code == 303:
        assert _path(response) == "/accounts/login/"
    assert not logged_in(browser)


@pytest.mark.attack("OWASP ASVS", "V6.6 passkeys: a forged assertion is refused as the second factor")
def test_a_forged_passkey_assertion_is_no_second_factor(security):
    user = new_mfa_user(security)
    browser = at_code_step(security.url, user)
    options = _options(browser, "/accounts/login/code/passkey/options/")
    response = browser.post("/accounts/login/code/passkey/", {"credential": _forged_assertion(options)})
    assert response.status_code == 400
    assert not logged_in(browser)


@pytest.mark.attack("OWASP ASVS", "V6.6 passkeys: an assertion answers one challenge (no challenge, no login)")
def test_a_passkey_assertion_without_a_challenge_is_refused(security):
    browser = browser_from(security.url)
    response = browser.post("/accounts/login/passkey/", {"credential": _forged_assertion({"challenge": "c" * 43})})
    assert response.status_code in (303, 400)
    assert not logged_in(browser)


@pytest.mark.attack("OWASP ASVS", "V6.6 passkeys: the passwordless options list nobody's credentials")
def test_passwordless_options_leak_no_credentials(security):
    options = _options(browser_from(security.url), "/accounts/login/passkey/options/")
    assert not options.get("allowCredentials")
    assert "user" not in options
    assert len(options["challenge"]) >= 22


@pytest.mark.attack("OWASP ASVS", "V6.6 passkeys: second-factor options only for a pending login, only its own")
def test_second_factor_options_need_a_pending_login(security):
    anonymous = browser_from(security.url)
    response = anonymous.post("/accounts/login/code/passkey/options/")
    assert response.status_code == 400
    assert "allowCredentials" not in response.text
    pending = at_code_step(security.url, new_mfa_user(security))
    options = _options(pending, "/accounts/login/code/passkey/options/")
    assert not options.get("allowCredentials"), "a user without passkeys was offered someone's credentials"


@pytest.mark.attack("OWASP ASVS", "V50 CSRF: passkey options need the CSRF token (a POST from another site)")
@pytest.mark.parametrize("path", ["/accounts/login/passkey/options/", "/accounts/passkeys/options/"])
def test_passkey_options_need_the_csrf_token(security, path):
    browser = security.browser()
    response = browser.http.post(
        security.url + path, headers={"Origin": "https://evil.example"}, timeout=TIMEOUT, allow_redirects=False
    )
    assert response.status_code == 403


@pytest.mark.attack("SECURITY.md", SECTION + ": a half-logged-in session is no session for the sessions API")
def test_a_pending_login_is_not_a_session_for_the_api(security):
    browser = at_code_step(security.url, new_mfa_user(security))
    response = browser.get("/api/sessions/")
    assert response.status_code in (401, 403)


@pytest.mark.attack("SECURITY.md", SECTION + ": the password alone gets a 2FA user no token (password grant)")
def test_the_password_alone_gets_no_token_by_the_password_grant(security):
    user = new_mfa_user(security)
    data = {"grant_type": "password", "username": user["username"], "password": "correct horse battery staple"}
    response = security.client("web").post("/oauth/token/", {**data, "scope": "openid"})
    assert response.status_code in (400, 401)
    assert "access_token" not in response.json()
    assert response.json()["error"] in ("unsupported_grant_type", "unauthorized_client", "invalid_grant")
