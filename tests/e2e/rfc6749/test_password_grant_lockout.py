"""RFC 6749 section 4.3 and 5.2: the password grant's lockout (SECURITY.md, "Authentication
hardening"). Failures count per (username, client_id), whatever the client's server address,
against LOGIN_FAILURE_LIMIT, and per client IP across usernames against the higher
PASSWORD_GRANT_IP_FAILURE_LIMIT; apart from the login page's counts. A locked-out request is
`invalid_grant` saying the account is temporarily locked, even with the right password."""

import threading

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

from accounts import lockout
from accounts.tests.helpers import csrf_browser, login
from audit import events
from audit.models import SecurityEvent
from conftest import PASSWORD, require_postgres, run_concurrently
from tests.e2e.helpers import assert_oauth_error, creds, post_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("password_grant_enabled")]

LIMIT = settings.LOGIN_FAILURE_LIMIT
SERVER_IP = "192.0.2.10"  # the client's server
OTHER_SERVER_IP = "192.0.2.11"
WRONG = "wrong password"


def password(pair, username, secret_word=PASSWORD, ip=SERVER_IP):
    data = {"grant_type": "password", "username": username, "password": secret_word}
    return post_token(data, auth=creds(pair), REMOTE_ADDR=ip)


def assert_locked(response, *, by=lockout.ACCOUNT):
    body = assert_oauth_error(response, "invalid_grant")
    assert "temporarily locked" in body["error_description"]
    assert ("this account" in body["error_description"].lower()) is (by == lockout.ACCOUNT)
    assert "access_token" not in body
    return body


def assert_not_locked_wrong(response):
    body = assert_oauth_error(response, "invalid_grant")
    assert "locked" not in body.get("error_description", "")


def fail(pair, username, times, ip=SERVER_IP):
    return [password(pair, username, WRONG, ip) for _ in range(times)]


def counted(**filters):
    return AccessAttempt.objects.filter(**filters).aggregate(n=Sum("failures_since_start"))["n"] or 0


@pytest.fixture
def other_client(make_client, password_grant_enabled):
    return make_client(name="Other legacy app", grant_types=["password"])


# --- Per (username, client_id) -----------------------------------------------------------


@pytest.mark.rfc("6749", "5.2")
def test_the_failure_that_reaches_the_limit_says_locked_and_the_right_password_is_refused(password_client, user):
    answers = fail(password_client, user.username, LIMIT)
    for response in answers[:-1]:
        assert_not_locked_wrong(response)
    body = assert_locked(answers[-1])
    assert f"{settings.LOGIN_LOCKOUT_SECONDS // 60} minutes" in body["error_description"]
    assert_locked(password(password_client, user.username))  # the right password, refused
    # A refused attempt checks no password and is not counted.
    assert counted() == LIMIT


@pytest.mark.rfc("6749", "5.2")
def test_an_unknown_username_is_locked_out_alike(password_client, user):
    fail(password_client, user.username, LIMIT)
    fail(password_client, "no-such-user", LIMIT)
    assert assert_locked(password(password_client, user.username)) == assert_locked(
        password(password_client, "no-such-user")
    )


@pytest.mark.rfc("6749", "4.3.2")
def test_the_lockout_is_of_that_client_only(password_client, other_client, user):
    fail(password_client, user.username, LIMIT)
    assert password(other_client, user.username).status_code == 200
    assert login(csrf_browser(REMOTE_ADDR=SERVER_IP), user.username, PASSWORD).status_code == 302
    assert_locked(password(password_client, user.username))


@pytest.mark.rfc("6749", "4.3.2")
def test_the_count_follows_the_client_across_its_server_addresses(password_client, user):
    fail(password_client, user.username, LIMIT - 1, ip=SERVER_IP)
    assert_locked(password(password_client, user.username, WRONG, ip=OTHER_SERVER_IP))
    assert_locked(password(password_client, user.username, ip="198.51.100.99"))


@pytest.mark.rfc("6749", "4.3.2")
def test_login_page_failures_do_not_lock_the_password_grant_out(password_client, user):
    browser = csrf_browser(REMOTE_ADDR=SERVER_IP)
    for _ in range(LIMIT):
        login(browser, user.username, WRONG)
    assert login(csrf_browser(REMOTE_ADDR=SERVER_IP), user.username, PASSWORD).status_code == 429
    assert password(password_client, user.username).status_code == 200


@pytest.mark.rfc("6749", "4.3.2")
def test_a_success_clears_the_count_of_its_username_and_client(password_client, other_client, user):
    fail(password_client, user.username, LIMIT - 1)
    fail(other_client, user.username, LIMIT - 1)
    assert password(password_client, user.username).status_code == 200
    assert counted(user_agent=lockout.grant_agent(password_client[0].client_id)) == 0
    assert counted(user_agent=lockout.grant_agent(other_client[0].client_id)) == LIMIT - 1
    for response in fail(password_client, user.username, LIMIT - 1):
        assert_not_locked_wrong(response)
    assert password(password_client, user.username).status_code == 200


@pytest.mark.rfc("6749", "4.3.2")
def test_a_login_page_user_agent_cannot_pass_for_a_clients_grant(password_client, user):
    """No HTTP client can send this User-Agent (it is not latin-1); a test client can, and its
    login failures still count as the login page's, not as the client's."""
    forged = {"HTTP_USER_AGENT": lockout.grant_agent(password_client[0].client_id)}
    for _ in range(LIMIT):
        login(csrf_browser(REMOTE_ADDR=SERVER_IP, **forged), user.username, WRONG)
    assert login(csrf_browser(REMOTE_ADDR=SERVER_IP, **forged), user.username, PASSWORD).status_code == 429
    assert password(password_client, user.username).status_code == 200
    assert counted(user_agent=lockout.REPLACED_AGENT) == LIMIT


# --- Per client IP, across usernames -----------------------------------------------------


@pytest.mark.rfc("6749", "4.3.2")
def test_the_default_ip_limit_lets_a_clients_users_make_typos(password_client, user):
    assert settings.PASSWORD_GRANT_IP_FAILURE_LIMIT > settings.LOGIN_IP_FAILURE_LIMIT
    for i in range(settings.LOGIN_IP_FAILURE_LIMIT + 1):
        assert_not_locked_wrong(password(password_client, f"typo{i}", WRONG))
    assert password(password_client, user.username).status_code == 200


@pytest.mark.rfc("6749", "4.3.2")
def test_the_ip_limit_locks_that_address_out_of_the_grant(password_client, other_client, user, settings):
    settings.PASSWORD_GRANT_IP_FAILURE_LIMIT = 7
    for i in range(6):
        assert_not_locked_wrong(password(password_client if i % 2 else other_client, f"typo{i}", WRONG))
    assert_locked(password(password_client, "typo-last", WRONG), by=lockout.ADDRESS)
    assert_locked(password(other_client, user.username), by=lockout.ADDRESS)  # every client, right password
    assert password(password_client, user.username, ip=OTHER_SERVER_IP).status_code == 200
    # The login page from that address is not locked out by the grant's failures.
    assert login(csrf_browser(REMOTE_ADDR=SERVER_IP), user.username, PASSWORD).status_code == 302


@pytest.mark.rfc("6749", "4.3.2")
def test_login_page_failures_do_not_count_toward_the_grants_ip_limit(password_client, make_user, user, settings):
    settings.PASSWORD_GRANT_IP_FAILURE_LIMIT = LIMIT
    for _ in range(LIMIT):
        login(csrf_browser(REMOTE_ADDR=SERVER_IP), make_user().username, WRONG)
    assert password(password_client, user.username).status_code == 200


# --- Audit -------------------------------------------------------------------------------


def test_the_lockout_is_recorded_with_its_client(password_client, user):
    fail(password_client, user.username, LIMIT)
    (row,) = SecurityEvent.objects.filter(event=events.LOGIN_LOCKED_OUT)
    client_id = password_client[0].client_id
    assert row.detail == {"username": user.username, "client_id": client_id, "locked": "account"}
    assert (row.subject_id, row.outcome, row.ip_address) == (user.pk, events.FAILURE, SERVER_IP)


def test_an_ip_lockout_is_recorded_as_such(password_client, settings):
    settings.PASSWORD_GRANT_IP_FAILURE_LIMIT = LIMIT
    for i in range(LIMIT):
        password(password_client, f"typo{i}", WRONG)
    (row,) = SecurityEvent.objects.filter(event=events.LOGIN_LOCKED_OUT)
    assert row.detail["locked"] == "address"


# --- Parallel attempts (PostgreSQL) ------------------------------------------------------


@pytest.mark.rfc("6749", "4.3.2")
@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_from_the_clients_servers_get_no_further_than_the_limit(
    password_client, user, settings
):
    """Serialized per (username, client_id): from two server addresses at once, the attempts
    after the limit are refused before any password check, uncounted."""
    require_postgres("parallel attempts serialized by an advisory lock")
    settings.LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 3
    turn = iter(range(10))
    take = threading.Lock()

    def one():
        with take:
            ip = SERVER_IP if next(turn) % 2 else OTHER_SERVER_IP
        return password(password_client, user.username, WRONG, ip=ip).status_code

    results, errors = run_concurrently(one, 10)
    assert not errors, errors
    assert results == [400] * 10
    assert counted() == 3


@pytest.mark.rfc("6749", "4.3.2")
@pytest.mark.django_db(transaction=True)
def test_parallel_failures_across_usernames_pass_the_ip_limit_by_the_attempts_in_flight(password_client, settings):
    require_postgres("parallel attempts on separate connections")
    settings.PASSWORD_GRANT_IP_FAILURE_LIMIT = 6
    usernames = iter([f"typo{i}" for i in range(12)])
    take = threading.Lock()

    def one():
        with take:
            username = next(usernames)
        return password(password_client, username, WRONG).status_code

    results, errors = run_concurrently(one, 12)
    assert not errors, errors
    assert results == [400] * 12
    # The lock is per (username, client_id): attempts on other usernames running at the same
    # instant may each pass the check, at most one per worker (here, per thread).
    assert 6 <= counted(ip_address=SERVER_IP) <= 12
    before = counted()
    assert_locked(password(password_client, "typo-after", WRONG), by=lockout.ADDRESS)
    assert counted() == before
