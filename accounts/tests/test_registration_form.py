import pytest
from django.contrib.auth import SESSION_KEY, get_user_model

from .helpers import csrf_browser, csrf_token, without_csrf_tokens

URL = "/accounts/register/"
STRONG = "a sufficiently long passphrase 42"


def submit(browser, **fields):
    token = csrf_token(browser.get(URL))
    data = {"username": "newcomer", "email": "newcomer@example.com", "password": STRONG, **fields}
    data = {k: v for k, v in data.items() if v is not None}
    return browser.post(URL, {**data, "csrfmiddlewaretoken": token})


@pytest.fixture
def browser():
    return csrf_browser()


@pytest.mark.django_db
def test_form_renders_with_csrf_token(browser):
    response = browser.get(URL)
    assert response.status_code == 200
    assert csrf_token(response)


@pytest.mark.django_db
def test_success_logs_in_and_redirects(browser):
    response = submit(browser)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    user = get_user_model().objects.get(username="newcomer")
    assert browser.session[SESSION_KEY] == str(user.pk)
    assert browser.get("/accounts/profile/").status_code == 200


@pytest.mark.django_db
def test_post_without_csrf_token_refused(browser):
    browser.get(URL)
    response = browser.post(URL, {"username": "newcomer", "email": "newcomer@example.com", "password": STRONG})
    assert response.status_code == 403
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_weak_password_rerenders_with_400(browser):
    response = submit(browser, password="password")
    assert response.status_code == 400
    assert b"This password is too common" in response.content
    assert SESSION_KEY not in browser.session


def test_duplicate_username_rerenders_with_400(browser, make_user):
    make_user(username="Newcomer")
    response = submit(browser, email="another@example.com")
    assert response.status_code == 400
    assert b"already exists" in response.content


def test_a_taken_address_is_answered_as_a_free_one(make_user):
    """Issue 15: the form does not say whether an address has an account."""
    make_user(username="first", email="NEWCOMER@example.com")
    answers = []
    for username, email in (("probe", "newcomer@example.com"), ("probe2", "free@example.com")):
        browser = csrf_browser()
        response = submit(browser, username=username, email=email)
        assert SESSION_KEY in browser.session  # logged in, as any new account is
        page = browser.get(response["Location"])
        subject = get_user_model().objects.get(username=username).subject
        body = without_csrf_tokens(page.content.decode()).replace(email, "EMAIL").replace(subject, "SUB")
        answers.append((response.status_code, response["Location"], body))
    assert answers[0][:2] == answers[1][:2] == (302, "/accounts/profile/")
    assert "We sent a message to EMAIL: follow its link" in answers[0][2]
    assert answers[0][2].replace("probe", "NAME") == answers[1][2].replace("probe2", "NAME")


@pytest.mark.django_db
def test_empty_post_rerenders_with_400(browser):
    response = submit(browser, username=None, email=None, password=None)
    assert response.status_code == 400
    assert response.content.count(b"This field is required") == 3


@pytest.mark.django_db
def test_errors_do_not_echo_the_password(browser):
    response = submit(browser, password="password")
    assert b'value="password"' not in response.content


@pytest.mark.django_db
def test_closed_registration_answers_403(browser, settings):
    settings.REGISTRATION_OPEN = False
    assert browser.get(URL).status_code == 403


@pytest.mark.django_db
def test_form_shares_the_registration_throttle(browser, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"registration": "1/minute"}}
    assert submit(browser, password="password").status_code == 400
    response = submit(browser)
    assert response.status_code == 429
    assert not get_user_model().objects.exists()
    api = browser.post(
        "/api/users/", {"username": "x", "email": "x@example.com", "password": STRONG}, content_type="application/json"
    )
    assert api.status_code == 429
