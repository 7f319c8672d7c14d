def test_login_page(browser, user):
    browser.goto("/accounts/login/")
    browser.check("login")
    browser.login(user.username)
    assert browser.page.url.endswith("/accounts/profile/")
    browser.check("profile")
