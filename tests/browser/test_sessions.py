"""Sessions and logout, in Chromium: see each browser, end one, log out everywhere, and the
apps' tokens stop working at once."""


def sign_in_to_app(browser, rp, user):
    """Log in through the app's authorization request and consent: the app's tokens."""
    browser.goto(rp.authorization_url())
    browser.login(user.username)
    if "/oauth/authorize/" in browser.page.url:  # the consent page (unless remembered)
        browser.click("Allow")
    return rp.redeem(browser.query()["code"])


def test_end_another_session_then_log_out_everywhere(browser, second_browser, rp, user):
    tokens = sign_in_to_app(browser, rp, user)
    second_browser.goto("/accounts/login/")
    second_browser.login(user.username)

    browser.goto("/accounts/sessions/")
    rows = browser.page.locator("main li.session")
    assert rows.count() == 2
    assert "this browser" in browser.page.locator("main li.session.current").inner_text()
    browser.check("sessions")

    # End the other browser's session: that browser is logged out.
    other_row = browser.page.locator("main li.session:not(.current)")
    with browser.page.expect_navigation():
        other_row.get_by_role("button", name="End session").click()
    assert browser.page.locator("main li.session").count() == 1
    second_browser.goto("/accounts/profile/")
    assert "/accounts/login/" in second_browser.page.url

    # The app's access token still works until...
    assert rp.me(tokens["access_token"]).status_code == 200
    browser.click("Log out everywhere")
    assert browser.heading() == "You are logged out"
    assert "every device" in browser.page.inner_text("main")
    browser.check("logged-out-everywhere")
    # ...every session ends: the app's access token is refused at once, not when it expires.
    refused = rp.me(tokens["access_token"])
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    browser.goto("/accounts/sessions/")
    assert "/accounts/login/" in browser.page.url


def test_ending_this_browsers_session_logs_it_out(browser, user):
    browser.goto("/accounts/login/")
    browser.login(user.username)
    browser.goto("/accounts/sessions/")
    with browser.page.expect_navigation():
        browser.page.locator("main li.session.current").get_by_role("button").click()
    assert browser.heading() == "You are logged out"
