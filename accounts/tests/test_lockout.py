"""Login throttling (SECURITY.md, "Authentication hardening"): django-axes as configured in
settings and extended by accounts.lockout, driven through the login page as a browser does."""

import logging
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Sum
from django.test import Client, RequestFactory

from accounts import lockout
from accounts.checks import check_login_lockout_settings
from conftest import PASSWORD, run_concurrently

from .helpers import LOGIN, csrf_browser, csrf_token, login

ATTACKER_IP = "203.0.113.66"
USER_IP = "198.51.100.7"
WRONG = "not the password"
LIMIT = settings.LOGIN_FAILURE_LIMIT


def attempt(username, password, ip=ATTACKER_IP, **headers):
    """One login attempt from a new browser at `ip`; `headers` are WSGI environ entries."""
    return login(csrf_browser(REMOTE_ADDR=ip, **headers), username, password)


def fail(username, times, ip=ATTACKER_IP, **headers):
    """`times` wrong passwords for `username` from `ip`; their status codes."""
    return [attempt(username, WRONG, ip, **headers).status_code for _ in range(times)]


def counted(**filters):
    """Failures axes holds, in total or for the rows matching `filters`."""
    return AccessAttempt.objects.filter(**filters).aggregate(n=Sum("failures_since_start"))["n"] or 0


# --- The lockout --------------------------------------------------------------------------


def test_the_failure_that_reaches_the_limit_locks_out(user):
    assert fail(user.username, LIMIT) == [200] * (LIMIT - 1) + [429]


def test_a_locked_out_attempt_is_refused_even_with_the_right_password(user):
    fail(user.username, LIMIT)
    browser = csrf_browser(REMOTE_ADDR=ATTACKER_IP)
    response = login(browser, user.username, PASSWORD)
    assert response.status_code == 429
    assert SESSION_KEY not in browser.session
    assert browser.get("/accounts/profile/").status_code == 302
    # Refused attempts check no password and are not counted (they do not extend the lockout).
    assert fail(user.username, 3) == [429] * 3
    assert counted() == LIMIT


def test_the_lockout_page(user):
    fail(user.username, LIMIT)
    response = attempt(user.username, PASSWORD)
    assert response.status_code == 429
    assert "accounts/login_locked.html" in [t.name for t in response.templates]
    body = response.content.decode()
    assert "<h1>Too many failed login attempts</h1>" in body
    assert "Try again in 15 minutes." in body
    assert user.username not in body
    assert "Traceback" not in body
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == str(settings.LOGIN_LOCKOUT_SECONDS)
    assert "no-store" in response["Cache-Control"]
    # The headers of every other page (the middleware above axes' adds them).
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"


def test_an_ajax_attempt_gets_the_same_page_and_no_cors(user):
    fail(user.username, LIMIT)
    page = attempt(user.username, PASSWORD)
    ajax = attempt(user.username, PASSWORD, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert ajax.status_code == 429
    assert ajax.content == page.content
    assert "Access-Control-Allow-Origin" not in ajax


def test_known_and_unknown_usernames_are_locked_out_alike(user):
    known = fail(user.username, LIMIT, ip=ATTACKER_IP)
    unknown = fail("nobody-here", LIMIT, ip=USER_IP)
    assert known == unknown
    locked_known = attempt(user.username, PASSWORD, ip=ATTACKER_IP)
    locked_unknown = attempt("nobody-here", PASSWORD, ip=USER_IP)
    assert locked_known.status_code == locked_unknown.status_code == 429
    assert locked_known.content == locked_unknown.content
    assert locked_known["Retry-After"] == locked_unknown["Retry-After"]


# --- Who is locked out ----------------------------------------------------------------------


def test_the_real_user_still_logs_in_from_another_ip(user):
    fail(user.username, LIMIT, ip=ATTACKER_IP)
    browser = csrf_browser(REMOTE_ADDR=USER_IP)
    assert login(browser, user.username, PASSWORD).status_code == 302
    assert browser.get("/accounts/profile/").status_code == 200


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(user):
    # NUM_PROXIES=0 (the default): each attempt claims another address, all are the peer's.
    statuses = [
        attempt(user.username, WRONG, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 192.0.2.{i + 100}").status_code
        for i in range(LIMIT)
    ]
    assert statuses[-1] == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER_IP}


def test_behind_trusted_proxies_the_proxy_reported_client_is_counted(user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.2"
    # The client may prepend what it likes; the proxy appends the address it saw.
    statuses = [
        attempt(user.username, WRONG, ip=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, {ATTACKER_IP}").status_code
        for i in range(LIMIT)
    ]
    assert statuses[-1] == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER_IP}
    # Another client behind the same proxy is not locked out.
    assert attempt(user.username, PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR=USER_IP).status_code == 302


def test_ipv6_clients_are_counted_per_64(user):
    statuses = [attempt(user.username, WRONG, ip=f"2001:db8:1:2::{i + 1:x}").status_code for i in range(LIMIT)]
    assert statuses[-1] == 429
    assert attempt(user.username, PASSWORD, ip="2001:db8:1:2:ffff::1").status_code == 429
    assert attempt(user.username, PASSWORD, ip="2001:db8:1:3::1").status_code == 302


def test_spellings_of_one_username_count_as_one(make_user):
    make_user(username="Alice")
    statuses = [attempt(name, WRONG).status_code for name in ("alice", "ALICE", "Alice", "aLiCe", " alice ")]
    assert statuses == [200] * (LIMIT - 1) + [429]
    assert attempt("Alice", PASSWORD).status_code == 429


# --- Resets -----------------------------------------------------------------------------


def test_a_successful_login_clears_its_count(user):
    fail(user.username, LIMIT - 1)
    assert attempt(user.username, PASSWORD).status_code == 302
    assert counted() == 0
    assert fail(user.username, LIMIT - 1) == [200] * (LIMIT - 1)


def test_logging_in_to_ones_own_account_clears_no_other_count(make_user):
    victim, attacker = make_user(), make_user()
    fail(victim.username, LIMIT - 1)
    assert attempt(attacker.username, PASSWORD).status_code == 302
    assert fail(victim.username, 1) == [429]


def test_the_real_user_logs_in_again_after_the_cool_off(user):
    fail(user.username, LIMIT)
    cool_off = timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    # Move time: the failures were made almost, then a whole, cool-off ago.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - cool_off + timedelta(minutes=1))
    assert attempt(user.username, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=1))
    assert attempt(user.username, PASSWORD).status_code == 302


# --- Per IP, across usernames -------------------------------------------------------------


def test_failures_from_one_ip_across_usernames_have_their_own_limit(make_user, settings, caplog):
    settings.LOGIN_IP_FAILURE_LIMIT = 8
    own = make_user()
    assert [attempt(f"someone{i}", WRONG).status_code for i in range(7)] == [200] * 7
    # Logging in to one's own account clears nothing of the others'.
    assert attempt(own.username, PASSWORD).status_code == 302
    with caplog.at_level(logging.WARNING):
        assert attempt("someone-else", WRONG).status_code == 429  # the 8th failure from this IP
    assert any("Locking out" in r.getMessage() and ATTACKER_IP in r.getMessage() for r in caplog.records)
    assert attempt(own.username, PASSWORD).status_code == 429  # whatever the account
    assert attempt(own.username, PASSWORD, ip=USER_IP).status_code == 302


# --- Logs and operators -------------------------------------------------------------------


def test_the_lockout_is_logged_with_username_and_ip_never_the_password(user, caplog):
    secret = "hunter2 is what I always type"
    with caplog.at_level(logging.INFO):
        for _ in range(LIMIT):
            attempt(user.username, secret)
        attempt(user.username, PASSWORD)
    lockouts = [r for r in caplog.records if r.levelno == logging.WARNING and "Locking out" in r.getMessage()]
    assert len(lockouts) == 1
    assert user.username in lockouts[0].getMessage()
    assert ATTACKER_IP in lockouts[0].getMessage()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert secret not in logged
    assert PASSWORD not in logged
    # Nor is it stored with the attempt.
    assert secret not in AccessAttempt.objects.get().post_data


def test_axes_reset_lifts_every_lockout(user):
    fail(user.username, LIMIT)
    out = StringIO()
    call_command("axes_reset", stdout=out)
    assert out.getvalue().strip() == "1 attempts removed."
    assert attempt(user.username, PASSWORD).status_code == 302


def test_axes_reset_username_takes_the_counted_spelling(make_user):
    make_user(username="Alice")
    fail("ALICE", LIMIT)
    call_command("axes_reset_username", "alice", stdout=StringIO())
    assert attempt("Alice", PASSWORD).status_code == 302


@pytest.mark.usefixtures("mfa_not_required")
def test_the_admin_lists_lockouts_and_deleting_one_lifts_it(user, make_user):
    fail(user.username, LIMIT)
    admin = Client()
    admin.force_login(make_user(is_staff=True, is_superuser=True))
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    body = listing.content.decode()
    assert user.username in body
    assert ATTACKER_IP in body
    assert "Locked Out" in body
    row = AccessAttempt.objects.get()
    response = admin.post(
        "/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert attempt(user.username, PASSWORD).status_code == 302


@pytest.mark.usefixtures("mfa_not_required")
def test_the_admin_action_cleans_up_expired_attempts_only(make_user):
    fail("expired", 1)
    fail("recent", 1)
    AccessAttempt.objects.filter(username="expired").update(
        attempt_time=F("attempt_time") - timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS + 1)
    )
    admin = Client()
    admin.force_login(make_user(is_staff=True, is_superuser=True))
    rows = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = admin.post(
        "/admin/axes/accessattempt/", {"action": "cleanup_expired_attempts", "_selected_action": rows}
    )
    assert response.status_code == 302
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["recent"]
    assert admin.get("/admin/axes/accesslog/").status_code == 404  # not kept: not listed


@pytest.mark.usefixtures("mfa_not_required")
def test_the_admin_login_is_the_throttled_login_page(make_user):
    staff = make_user(is_staff=True, is_superuser=True)
    browser = csrf_browser(REMOTE_ADDR=USER_IP)
    response = browser.get("/admin/")
    assert response.status_code == 302
    response = browser.get(response["Location"])  # the admin's own login URL...
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"  # ...is the login page
    # Credentials posted to the admin's old form are not checked there.
    form_poster = Client(REMOTE_ADDR=USER_IP)
    assert form_poster.post("/admin/login/", {"username": staff.username, "password": PASSWORD}).status_code == 302
    assert SESSION_KEY not in form_poster.session
    assert login(browser, staff.username, PASSWORD, next="/admin/")["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200


# --- Cost -----------------------------------------------------------------------------------


def test_a_successful_login_costs_the_check_and_its_transaction(user, django_assert_num_queries):
    """10 statements before axes. Now also: the lockout check (one aggregate) in a transaction
    (SAVEPOINT and RELEASE here, BEGIN and COMMIT in production) and, on PostgreSQL, the
    advisory lock. Nothing is written for a login without earlier failures. And the login stages
    (accounts.stages): the two-factor stage asks whether the user has a device (one EXISTS).
    And the audit log's login.succeeded event (one INSERT)."""
    browser = csrf_browser()
    token = csrf_token(browser.get(LOGIN))
    with django_assert_num_queries(15 + (connection.vendor == "postgresql")):
        response = browser.post(LOGIN, {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


# --- Parallel attempts (PostgreSQL: several connections, row and advisory locks) ------------


class CountingHasher(MD5PasswordHasher):
    """The suite's fast hasher, counting the passwords it checks."""

    algorithm = "counting_md5"
    checked = 0
    _lock = threading.Lock()

    def verify(self, password, encoded):
        with CountingHasher._lock:
            CountingHasher.checked += 1
        return super().verify(password, encoded)


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.checked = 0
    return CountingHasher


@pytest.mark.postgres("parallel logins on separate connections, serialized by an advisory lock")
@pytest.mark.django_db(transaction=True)
def test_parallel_attempts_check_no_more_passwords_than_the_limit(make_user, counting_hasher):
    user = make_user()
    results, errors = run_concurrently(lambda: attempt(user.username, WRONG).status_code, 12)
    assert errors == []
    assert sorted(results) == [200] * (LIMIT - 1) + [429] * (12 - LIMIT + 1)
    assert counting_hasher.checked == LIMIT
    assert counted() == LIMIT


@pytest.mark.postgres("parallel logins on separate connections, serialized by an advisory lock")
@pytest.mark.django_db(transaction=True)
def test_parallel_attempts_across_usernames_stop_at_the_ip_limit(make_user, counting_hasher, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 6
    usernames = iter([make_user().username for _ in range(12)])
    take = threading.Lock()

    def one():
        with take:
            username = next(usernames)
        return attempt(username, WRONG).status_code

    results, errors = run_concurrently(one, 12)
    assert errors == []
    # The lock is per (username, IP), not per IP (people behind one address must not log in
    # one at a time): attempts on different usernames that run at the same instant may each
    # pass the check, so the per-IP limit may be passed by the attempts in flight, never more.
    assert results.count(200) >= 5
    assert counting_hasher.checked >= 6
    assert counted(ip_address=ATTACKER_IP) == counting_hasher.checked
    # Once the count is there, every further attempt from that IP is refused unchecked.
    checked = counting_hasher.checked
    assert attempt(make_user().username, WRONG).status_code == 429
    assert counting_hasher.checked == checked


@pytest.mark.postgres("on SQLite, BEGIN IMMEDIATE makes every login wait for the one before it")
@pytest.mark.django_db(transaction=True)
def test_logins_of_different_users_behind_one_address_run_in_parallel(make_user):
    """The lock taken through the password hash is per (username, IP): a second user's login
    from the same address does not wait for the first one's."""
    first, second = make_user(), make_user()
    holding = threading.Event()
    release = threading.Event()

    def slow_first():
        request = RequestFactory().post(LOGIN, {"username": first.username}, REMOTE_ADDR=ATTACKER_IP)
        try:
            with lockout.browser_login_attempt(request):
                holding.set()
                release.wait(10)
        finally:
            connection.close()  # this thread's

    thread = threading.Thread(target=slow_first)
    thread.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        assert attempt(second.username, PASSWORD).status_code == 302
        assert time.monotonic() - started < 5
    finally:
        release.set()
        thread.join()


# --- The pieces -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "num_proxies", "expected"),
    [
        ({"REMOTE_ADDR": "192.0.2.1"}, 0, "192.0.2.1"),
        ({"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}, 0, "192.0.2.1"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.1"}, 1, "198.51.100.1"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.1, 10.0.0.3"}, 2, "198.51.100.1"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "not-an-address"}, 1, None),
        ({"REMOTE_ADDR": "2001:db8:1:2:3:4:5:6"}, 0, "2001:db8:1:2::"),
        ({"REMOTE_ADDR": "::ffff:192.0.2.9"}, 0, "192.0.2.9"),
        ({"REMOTE_ADDR": ""}, 0, None),
    ],
    ids=["peer", "xff-untrusted", "one-proxy", "two-proxies", "garbage", "ipv6-per-64", "ipv4-mapped", "none"],
)
def test_client_ip(settings, environ, num_proxies, expected):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    assert lockout.client_ip(RequestFactory().get("/", **environ)) == expected


@pytest.mark.parametrize(
    ("typed", "counted_as"),
    [
        ("Alice", "alice"),
        ("ALICE ", "alice"),
        ("alıce", "alice"),  # dotless i: PostgreSQL's UPPER() makes it I, so iexact matches alice
        ("a\nb\x1b", "a\ufffdb\ufffd"),
        ("x" * 500, "x" * 150),
        (None, None),
    ],
)
def test_attempted_username(typed, counted_as):
    assert lockout.attempted_username(None, {"username": typed}) == counted_as


def test_attempted_username_from_the_form_when_no_credentials_are_given():
    request = RequestFactory().post("/accounts/login/", {"username": "Bob"})
    assert lockout.attempted_username(request, None) == "bob"


def test_the_shipped_settings_pass_the_checks():
    assert check_login_lockout_settings(None) == []


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("LOGIN_FAILURE_LIMIT", 0, "accounts.E001"),
        ("LOGIN_IP_FAILURE_LIMIT", 2, "accounts.E001"),
        ("PASSWORD_GRANT_IP_FAILURE_LIMIT", 2, "accounts.E001"),
        ("LOGIN_LOCKOUT_SECONDS", 0, "accounts.E001"),
        ("AXES_LOCKOUT_PARAMETERS", [["username", "ip_address"], "ip_address"], "accounts.E002"),
    ],
)
def test_bad_settings_are_errors(settings, name, value, expected):
    setattr(settings, name, value)
    assert expected in {problem.id for problem in check_login_lockout_settings(None)}


def test_lockout_stores_nothing_but_failures(user):
    """No access log: a successful login leaves no axes row (sso.SSOSession records logins)."""
    assert attempt(user.username, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()
    assert not AccessLog.objects.exists()
    assert not AccessFailureLog.objects.exists()


# --- The password page: the current password is checked as a login is -----------------------

PASSWORD_PAGE = "/accounts/password/"
NEW = "a brand new passphrase 42"


def change_password(browser, old):
    token = csrf_token(browser.get(PASSWORD_PAGE))
    form = {"old_password": old, "new_password1": NEW, "new_password2": NEW, "csrfmiddlewaretoken": token}
    return browser.post(PASSWORD_PAGE, form)


def logged_in_at(user, ip):
    browser = csrf_browser(REMOTE_ADDR=ip)
    assert login(browser, user.username, PASSWORD).status_code == 302
    return browser


def test_a_stolen_session_cannot_guess_the_password_on_the_password_page(user):
    browser = logged_in_at(user, ATTACKER_IP)
    statuses = [change_password(browser, WRONG).status_code for _ in range(LIMIT)]
    assert statuses == [200] * (LIMIT - 1) + [429]
    assert counted(username=user.username.lower(), ip_address=ATTACKER_IP) == LIMIT
    # Locked out: the right current password is refused too, and nothing changes.
    assert change_password(browser, PASSWORD).status_code == 429
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # The same (username, IP) pair is locked at the login page; the user elsewhere is not.
    assert attempt(user.username, PASSWORD).status_code == 429
    assert attempt(user.username, PASSWORD, ip=USER_IP).status_code == 302


def test_the_right_current_password_still_changes_it(user):
    browser = logged_in_at(user, USER_IP)
    assert change_password(browser, WRONG).status_code == 200
    response = change_password(browser, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/accounts/password/done/"
    user.refresh_from_db()
    assert user.check_password(NEW)
