"""Password reset by email: Django's views and token, with our throttles, mail and session ending."""

import time
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.http import urlsafe_base64_encode

from accounts import flows
from accounts.tests.helpers import csrf_browser, csrf_token, link_in, login, sent_mail, without_csrf_tokens
from conftest import PASSWORD, bearer
from sso.models import SSOSession

URL = "/accounts/password/reset/"
NEW = "a brand new passphrase 42"

pytestmark = pytest.mark.django_db


def ask(browser, email):
    token = csrf_token(browser.get(URL))
    return browser.post(URL, {"email": email, "csrfmiddlewaretoken": token})


def follow(browser, link):
    """Open the mailed link: Django moves the token into the session and redirects."""
    response = browser.get(urlsplit(link).path)
    assert response.status_code == 302, response.content
    assert response["Location"].endswith("/set-password/")
    return response["Location"]


def choose(browser, url, password=NEW, again=None):
    token = csrf_token(browser.get(url))
    return browser.post(
        url, {"new_password1": password, "new_password2": again or password, "csrfmiddlewaretoken": token}
    )


@pytest.fixture
def browser():
    return csrf_browser()


def test_a_known_address_gets_a_link_built_on_the_issuer(browser, user, settings):
    settings.ISSUER = "https://id.example.com"
    response = ask(browser, user.email.upper())  # matched case-insensitively
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    [message] = sent_mail()
    assert message.to == [user.email]
    assert message.subject == "Reset your password at identity"
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert link_in(message).startswith("https://id.example.com/accounts/password/reset/")
    # The user is named by the subject, not the pk (which would count the users).
    assert urlsplit(link_in(message)).path.split("/")[4] == flows.reset_uid(user)
    assert flows.user_for_reset_uid(flows.reset_uid(user)) == user
    assert flows.reset_uid(user) != urlsafe_base64_encode(str(user.pk).encode())


def test_the_link_ignores_a_forged_host_header(user, settings):
    settings.ISSUER = "https://id.example.com"
    settings.ALLOWED_HOSTS = ["id.example.com", "evil.example"]
    agent = csrf_browser(HTTP_HOST="evil.example")
    assert ask(agent, user.email).status_code == 302
    [message] = sent_mail()
    assert "evil.example" not in message.body
    assert link_in(message).startswith("https://id.example.com/")


def test_a_host_outside_allowed_hosts_is_refused(user):
    response = csrf_browser(HTTP_HOST="evil.example").get(URL)
    assert response.status_code == 400
    assert sent_mail() == []


def test_unknown_and_known_addresses_get_the_same_answer(browser, user, make_user):
    make_user(email="inactive@example.com", is_active=False)
    answers = []
    for email in (user.email, "nobody@example.com", "inactive@example.com"):
        response = ask(csrf_browser(), email)
        answers.append((response.status_code, response["Location"]))
        page = csrf_browser().get(response["Location"])
        answers[-1] += (without_csrf_tokens(page.content.decode()),)
    assert answers[0] == answers[1] == answers[2]
    assert [m.to for m in sent_mail()] == [[user.email]]


def test_the_answer_does_not_wait_for_the_mail(browser, user, monkeypatch):
    """The SMTP conversation happens in the background: a slow server cannot tell a known
    address from an unknown one by the time of the answer."""
    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages

    def slow(self, messages):
        time.sleep(2)
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", slow)
    started = time.monotonic()
    assert ask(browser, user.email).status_code == 302
    assert time.monotonic() - started < 1.5
    assert len(sent_mail()) == 1


def test_a_user_without_a_usable_password_gets_no_mail(browser, user):
    user.set_unusable_password()
    user.save()
    assert ask(browser, user.email).status_code == 302
    assert sent_mail() == []


def test_an_invalid_address_is_a_form_error(browser):
    response = ask(browser, "not-an-address")
    assert response.status_code == 400
    assert b"Enter a valid email address" in response.content
    assert sent_mail() == []


def test_the_full_reset(browser, user):
    ask(browser, user.email)
    page = follow(browser, link_in(sent_mail()[0]))
    response = browser.get(page)
    assert response.status_code == 200
    assert b"Choose a new password" in response.content
    response = choose(browser, page)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    assert SESSION_KEY not in browser.session  # not logged in: the person logs in with it
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert login(csrf_browser(), user.username, NEW).status_code == 302
    assert browser.get("/accounts/password/reset/done/").status_code == 200


def test_the_token_leaves_the_url_before_the_form_is_shown(browser, user):
    ask(browser, user.email)
    link = link_in(sent_mail()[0])
    token = urlsplit(link).path.rstrip("/").rsplit("/", 1)[1]
    page = follow(browser, link)
    assert token not in page
    assert token not in browser.get(page).content.decode()


def test_a_used_link_is_refused(browser, user):
    ask(browser, user.email)
    link = link_in(sent_mail()[0])
    choose(browser, follow(browser, link))
    again = csrf_browser().get(urlsplit(link).path)
    assert again.status_code == 400
    assert b"Invalid reset link" in again.content


def test_an_expired_link_is_refused(browser, user, settings, monkeypatch):
    ask(browser, user.email)
    link = link_in(sent_mail()[0])
    later = default_token_generator._now().timestamp() + settings.PASSWORD_RESET_TIMEOUT + 1
    monkeypatch.setattr(default_token_generator, "_now", lambda: datetime.fromtimestamp(later))
    response = browser.get(urlsplit(link).path)
    assert response.status_code == 400
    assert b"Invalid reset link" in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/password/reset/bm90LWEtdXNlcg/abc-123/",  # unknown user
        "/accounts/password/reset/%%%/abc-123/",  # not base64
        "/accounts/password/reset/AA/abc-123/",  # a NUL (PostgreSQL refuses it in a literal)
        "/accounts/password/reset/" + "QUFB" * 30 + "/abc-123/",  # longer than a subject
        "/accounts/password/reset/__8/abc-123/",  # not UTF-8
        "/accounts/password/reset/{uid}/abc-123/",  # a bad token
        "/accounts/password/reset/{uid}/set-password/",  # no token in the session
    ],
)
def test_bad_links_are_refused(browser, user, path):
    response = browser.get(path.format(uid=flows.reset_uid(user)))
    assert response.status_code == 400
    assert b"Invalid reset link" in response.content
    token = csrf_token(browser.get(URL))
    response = browser.post(
        path.format(uid=flows.reset_uid(user)),
        {"new_password1": NEW, "new_password2": NEW, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_link_dies_when_the_email_changes(browser, user):
    ask(browser, user.email)
    link = link_in(sent_mail()[0])
    user.email = "elsewhere@example.com"
    user.save()
    assert browser.get(urlsplit(link).path).status_code == 400


def test_a_link_of_a_disabled_user_is_refused(browser, user):
    ask(browser, user.email)
    link = link_in(sent_mail()[0])
    user.is_active = False
    user.save()
    assert browser.get(urlsplit(link).path).status_code == 400


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (NEW, NEW + "x", b"The two password fields didn"),
        ("short", "short", b"This password is too short"),
        ("qz7-Lw4!xPv", "qz7-Lw4!xPv", b"at least 12 characters"),  # OWASP ASVS 2.1.1
        ("password", "password", b"This password is too common"),
    ],
)
def test_a_refused_password_is_a_form_error(browser, user, first, second, message):
    ask(browser, user.email)
    page = follow(browser, link_in(sent_mail()[0]))
    response = choose(browser, page, first, second)
    assert response.status_code == 400
    assert message in response.content
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert choose(browser, page).status_code == 302  # the link still works after the error


def test_a_completed_reset_ends_every_session_and_token(browser, user, flow):
    device = Client()
    assert login(device, user.username, PASSWORD).status_code == 302
    tokens = flow.tokens()
    assert device.get("/accounts/profile/").status_code == 200
    ask(browser, user.email)
    choose(browser, follow(browser, link_in(sent_mail()[0])))
    assert device.get("/accounts/profile/").status_code == 302  # logged out
    assert not SSOSession.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert Client().get("/api/me", **bearer(tokens["access_token"])).status_code == 401
    assert flow.refresh(tokens["refresh_token"]).status_code == 400


def test_a_completed_reset_verifies_the_address(browser, user):
    assert not user.email_verified
    ask(browser, user.email)
    choose(browser, follow(browser, link_in(sent_mail()[0])))
    user.refresh_from_db()
    assert user.email_verified


def test_a_completed_reset_lifts_the_lockout_from_this_address(browser, user, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        login(browser, user.username, "wrong")
    assert login(browser, user.username, PASSWORD).status_code == 429
    ask(browser, user.email)
    AccessAttempt.objects.create(
        username=user.username, ip_address="203.0.113.9", failures_since_start=3, user_agent="x", path_info="/"
    )
    choose(browser, follow(browser, link_in(sent_mail()[0])))
    assert login(browser, user.username, NEW).status_code == 302
    # Another address's count of this username is not ours to lift.
    assert AccessAttempt.objects.filter(ip_address="203.0.113.9").exists()


def test_the_lockout_page_links_to_the_reset(browser, user, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        response = login(browser, user.username, "wrong")
    assert response.status_code == 429
    assert b'href="/accounts/password/reset/"' in response.content


def test_the_login_page_links_to_the_reset(browser):
    assert b'href="/accounts/password/reset/">Forgot password?</a>' in browser.get("/accounts/login/").content


def test_requests_are_throttled_per_client(user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "password_reset": "2/hour"},
    }
    agent = csrf_browser()
    assert ask(agent, "a@example.com").status_code == 302
    assert ask(agent, "b@example.com").status_code == 302
    response = ask(agent, user.email)
    assert response.status_code == 429
    assert b"Too many password reset requests" in response.content
    assert sent_mail() == []
    assert ask(csrf_browser(REMOTE_ADDR="198.51.100.7"), user.email).status_code == 302  # another client


def test_requests_are_throttled_per_address_known_or_not(user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "password_reset_address": "1/hour",
        },
    }
    for email in (user.email, "nobody@example.com"):
        assert ask(csrf_browser(REMOTE_ADDR="198.51.100.1"), email).status_code == 302
        assert ask(csrf_browser(REMOTE_ADDR="198.51.100.2"), email.upper()).status_code == 429
    assert len(sent_mail()) == 1


def test_a_mail_that_cannot_be_sent_is_logged_without_its_link(browser, user, monkeypatch, caplog):
    from django.core.mail.backends.locmem import EmailBackend

    def broken(self, messages):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    assert ask(browser, user.email).status_code == 302
    sent_mail()
    assert "Sending the password_reset mail failed." in caplog.text
    assert "/accounts/password/reset/" not in caplog.text
