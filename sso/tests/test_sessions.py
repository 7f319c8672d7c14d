"""SSO sessions bound to browsers: creation at login, server-side expiry and logout."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from conftest import PASSWORD
from sso import flows
from sso.models import SSOSession
from sso.signals import sessions_ended

from .conftest import is_logged_in, log_in, session_of

pytestmark = pytest.mark.django_db


def test_login_starts_a_session_with_a_random_sid_that_is_not_the_session_key(user):
    browser = log_in(user, device="Firefox on Linux", ip="203.0.113.7")
    session = session_of(browser)
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert session.user == user
    assert session.sid != cookie and cookie not in session.sid
    assert len(session.sid) >= 43  # 32 random bytes, URL-safe base64
    assert set(session.sid) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert session.user_agent == "Firefox on Linux"
    assert str(session.ip) == "203.0.113.7"
    assert session.amr == ["pwd"]
    assert session.revoked_at is None


def test_session_expiry_comes_from_settings(user, settings):
    settings.SSO_SESSION_IDLE_SECONDS = 600
    settings.SSO_SESSION_ABSOLUTE_SECONDS = 3600
    session = session_of(log_in(user))
    assert session.idle_expires_at - session.created_at == timedelta(seconds=600)
    assert session.expires_at - session.created_at == timedelta(seconds=3600)


def test_a_long_user_agent_is_truncated(user):
    session = session_of(log_in(user, device="x" * 5000))
    assert len(session.user_agent) == 400


def test_two_devices_get_two_sessions(user):
    laptop, phone = log_in(user, device="laptop"), log_in(user, device="phone")
    assert session_of(laptop).sid != session_of(phone).sid
    assert SSOSession.objects.filter(user=user).count() == 2


def test_ending_one_session_logs_that_browser_out_and_not_the_other(user):
    laptop, phone = log_in(user, device="laptop"), log_in(user, device="phone")
    flows.end_session(user=user, session_id=session_of(phone).public_id)
    assert not is_logged_in(phone)
    assert is_logged_in(laptop)
    # The ended browser's cookie stays anonymous (not silently logged in again).
    assert not is_logged_in(phone)


def test_logout_everywhere_logs_every_browser_out(user, make_user):
    laptop, phone = log_in(user, device="laptop"), log_in(user, device="phone")
    someone_else = log_in(make_user())
    ended = flows.logout_everywhere(user=user)
    assert len(ended) == 2
    assert not is_logged_in(laptop)
    assert not is_logged_in(phone)
    assert is_logged_in(someone_else)
    assert user.not_before.not_before <= timezone.now()


def test_logout_ends_the_session(user):
    browser = log_in(user)
    session = session_of(browser)
    assert browser.post("/accounts/logout/").status_code in (200, 302)
    session.refresh_from_db()
    assert session.revoked_at is not None


def test_idle_expiry_is_enforced_on_the_server(user):
    browser = log_in(user)
    SSOSession.objects.filter(user=user).update(idle_expires_at=timezone.now() - timedelta(seconds=1))
    assert not is_logged_in(browser)
    assert browser.get("/accounts/profile/").status_code == 302  # and stays logged out


def test_absolute_expiry_is_enforced_on_the_server(user):
    browser = log_in(user)
    SSOSession.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not is_logged_in(browser)


def test_activity_moves_last_seen_and_the_idle_expiry_at_most_once_a_minute(user, django_assert_num_queries):
    browser = log_in(user)
    session = session_of(browser)
    before = timezone.now() - timedelta(minutes=5)
    SSOSession.objects.filter(pk=session.pk).update(last_seen_at=before, idle_expires_at=before + timedelta(hours=8))
    assert is_logged_in(browser)
    session.refresh_from_db()
    assert session.last_seen_at > before + timedelta(minutes=4)
    assert session.idle_expires_at > timezone.now() + timedelta(hours=7, minutes=59)
    seen = session.last_seen_at
    assert is_logged_in(browser)
    session.refresh_from_db()
    assert session.last_seen_at == seen  # not written again within the minute


def test_idle_expiry_never_passes_the_absolute_expiry(user):
    browser = log_in(user)
    session = session_of(browser)
    soon = timezone.now() + timedelta(minutes=10)
    past = timezone.now() - timedelta(minutes=5)
    SSOSession.objects.filter(pk=session.pk).update(expires_at=soon, last_seen_at=past)
    assert is_logged_in(browser)
    session.refresh_from_db()
    assert session.idle_expires_at <= soon


def test_a_logged_in_django_session_without_an_sso_session_is_logged_out(user):
    browser = log_in(user)
    SSOSession.objects.filter(user=user).delete()
    assert not is_logged_in(browser)


def test_a_session_bound_to_another_user_is_refused(user, make_user):
    browser = log_in(user)
    other = make_user()
    SSOSession.objects.filter(user=user).update(user=other)
    assert not is_logged_in(browser)


def test_logging_in_again_in_the_same_browser_keeps_the_session(user, rf):
    browser = log_in(user)
    first = session_of(browser)
    browser.post("/accounts/login/", {"username": user.username, "password": "correct horse battery staple"})
    assert session_of(browser).pk == first.pk
    assert SSOSession.objects.filter(user=user).count() == 1


def test_logging_in_as_someone_else_starts_a_new_session(user, make_user):
    browser = log_in(user)
    first = session_of(browser)
    other = make_user()
    browser.post("/accounts/login/", {"username": other.username, "password": "correct horse battery staple"})
    assert session_of(browser).user == other
    assert session_of(browser).pk != first.pk


def test_force_login_also_binds_a_session(user, client):
    client.force_login(user)
    assert is_logged_in(client)
    assert session_of(client).user == user


def test_sessions_ended_is_sent_after_commit_with_the_sids(user, django_capture_on_commit_callbacks):
    laptop, phone = log_in(user, device="laptop"), log_in(user, device="phone")
    received = []

    def receiver(sender, user, sids, everywhere, **kwargs):
        received.append((user, sorted(sids), everywhere))

    sessions_ended.connect(receiver, dispatch_uid="test")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            flows.end_session(user=user, session_id=session_of(phone).public_id)
        assert received == []  # nothing before the commit
        for callback in callbacks:
            callback()
        assert received == [(user, [session_of(phone).sid], False)]
        received.clear()
        with django_capture_on_commit_callbacks(execute=True):
            flows.logout_everywhere(user=user)
        assert received == [(user, [session_of(laptop).sid], True)]
        received.clear()
        with django_capture_on_commit_callbacks(execute=True):
            flows.bump_not_before(user=user)
        assert received == [(user, [], True)]
    finally:
        sessions_ended.disconnect(dispatch_uid="test")


def test_a_failing_receiver_does_not_break_the_logout(user, django_capture_on_commit_callbacks, caplog):
    browser = log_in(user)

    def broken(**kwargs):
        raise RuntimeError("boom")

    sessions_ended.connect(broken, dispatch_uid="broken")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            flows.logout_everywhere(user=user)
    finally:
        sessions_ended.disconnect(dispatch_uid="broken")
    assert not is_logged_in(browser)
    assert "sessions_ended receiver" in caplog.text


def test_logs_never_carry_a_whole_sid(user, caplog, django_capture_on_commit_callbacks):
    caplog.set_level("INFO")
    with django_capture_on_commit_callbacks(execute=True):
        browser = log_in(user)
        sid = session_of(browser).sid
        flows.logout_everywhere(user=user)
    assert "SSO session" in caplog.text
    assert sid not in caplog.text


# --- the login time (authenticated_at, the auth_time claim) -------------------------------------


def test_login_records_the_login_time(user):
    before = timezone.now()
    session = session_of(log_in(user))
    assert before <= session.authenticated_at <= timezone.now()
    assert session.authenticated_at == session.created_at


def test_logging_in_again_moves_the_login_time_and_keeps_the_session(user):
    browser = log_in(user)
    earlier = timezone.now() - timedelta(hours=1)
    SSOSession.objects.filter(pk=session_of(browser).pk).update(authenticated_at=earlier)
    browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    session = session_of(browser)
    assert session.authenticated_at > earlier + timedelta(minutes=59)
    assert session.created_at < session.authenticated_at


def _request_of(browser, rf):
    request = rf.get("/")
    request.session = browser.session
    return request


def test_auth_time_is_the_sessions_login_time_in_unix_seconds(user, rf):
    browser = log_in(user)
    session = session_of(browser)
    assert flows.auth_time(_request_of(browser, rf)) == int(session.authenticated_at.timestamp())


def test_auth_time_is_none_without_an_active_sso_session(user, rf, client):
    assert flows.auth_time(_request_of(client, rf)) is None  # never logged in
    browser = log_in(user)
    SSOSession.objects.filter(pk=session_of(browser).pk).update(revoked_at=timezone.now())
    assert flows.auth_time(_request_of(browser, rf)) is None


def test_auth_time_reuses_the_session_the_middleware_checked(user, rf, django_assert_num_queries):
    browser = log_in(user)
    request = _request_of(browser, rf)
    session = session_of(browser)
    setattr(request, flows.SESSION_REQUEST_ATTRIBUTE, session)
    assert flows.current_sid(request) == session.sid  # the Django session loaded, as in a view
    with django_assert_num_queries(0):
        assert flows.auth_time(request) == int(session.authenticated_at.timestamp())
