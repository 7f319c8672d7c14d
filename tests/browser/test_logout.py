"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), in Chromium."""

from urllib.parse import urlencode

from .test_sessions import sign_in_to_app


def end_session_url(rp, **params):
    return f"{rp.issuer}/oauth/logout/?{urlencode(params)}"


def test_with_id_token_hint_logs_out_at_once_and_returns_to_the_app(browser, rp, user, app_server):
    tokens = sign_in_to_app(browser, rp, user)
    browser.goto(
        end_session_url(
            rp, id_token_hint=tokens["id_token"], post_logout_redirect_uri=app_server.post_logout_uri, state="bye"
        )
    )
    assert browser.page.url == f"{app_server.post_logout_uri}?state=bye"
    assert rp.me(tokens["access_token"]).status_code == 401
    browser.goto("/accounts/profile/")
    assert "/accounts/login/" in browser.page.url


def test_without_id_token_hint_the_person_is_asked(browser, rp, user, app_server):
    tokens = sign_in_to_app(browser, rp, user)
    browser.goto(
        end_session_url(rp, client_id=rp.client.client_id, post_logout_redirect_uri=app_server.post_logout_uri)
    )
    assert browser.heading() == "Log out of identity?"
    assert "Acme Notes asks to log you out" in browser.page.inner_text("main")
    browser.check("logout-confirm")
    browser.click("Log out")
    assert browser.page.url == app_server.post_logout_uri
    assert rp.me(tokens["access_token"]).status_code == 401


def test_staying_logged_in_keeps_the_session(browser, rp, user):
    tokens = sign_in_to_app(browser, rp, user)
    browser.goto(end_session_url(rp))
    browser.click("Stay logged in", role="link")
    assert browser.page.url.endswith("/accounts/profile/")
    assert rp.me(tokens["access_token"]).status_code == 200


def test_without_a_session_or_a_redirect_it_says_logged_out(browser, rp):
    browser.goto(end_session_url(rp))
    assert browser.heading() == "You are logged out"
    browser.check("rp-logged-out")


def test_an_unregistered_post_logout_redirect_uri_is_an_error_page(browser, rp, user):
    sign_in_to_app(browser, rp, user)
    response = browser.goto(
        end_session_url(rp, client_id=rp.client.client_id, post_logout_redirect_uri="https://evil.example/")
    )
    assert response.status == 400
    assert browser.heading() == "This logout request cannot be completed"
    browser.check("logout-error")
