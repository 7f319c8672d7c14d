"""Security events end sessions: password change, disabled account; admin actions."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.tests.helpers import csrf_token
from conftest import PASSWORD
from sso import revocation
from sso.models import SSOSession, UserNotBefore

from .conftest import is_logged_in, log_in, session_of

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"


def change_password(browser, old=PASSWORD, new=NEW_PASSWORD):
    page = browser.get("/accounts/password/")
    assert page.status_code == 200
    return browser.post(
        "/accounts/password/",
        {"old_password": old, "new_password1": new, "new_password2": new, "csrfmiddlewaretoken": csrf_token(page)},
    )


def test_the_password_page_needs_a_login():
    assert Client().get("/accounts/password/").status_code == 302


def test_a_wrong_old_password_changes_nothing(user):
    browser, other = log_in(user), log_in(user)
    response = change_password(browser, old="not it")
    assert response.status_code == 200
    assert is_logged_in(other)
    assert not UserNotBefore.objects.filter(user=user).exists()


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(user, django_capture_on_commit_callbacks):
    laptop, phone = log_in(user, device="laptop"), log_in(user, device="phone")
    kept = session_of(laptop)
    issued = time.time() - 1  # a token this very session obtained before the change
    with django_capture_on_commit_callbacks(execute=True):
        response = change_password(laptop)
    assert response.status_code == 302 and response["Location"] == "/accounts/password/done/"
    assert is_logged_in(laptop)
    assert session_of(laptop).pk == kept.pk
    assert not is_logged_in(phone)
    # Every earlier token of the user is refused, the kept session's included.
    assert not revocation.is_token_acceptable(
        jti="j", sid=kept.sid, user_id=user.pk, issued_at=issued, token_is_live=lambda: True
    )
    assert revocation.is_token_acceptable(
        jti="j", sid=kept.sid, user_id=user.pk, issued_at=time.time() + 1, token_is_live=lambda: True
    )
    # And the new password works on a new device.
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


@pytest.mark.usefixtures("mfa_not_required")
def test_an_admin_changing_a_users_password_ends_all_their_sessions(user, make_user):
    laptop = log_in(user)
    admin = make_user(is_staff=True, is_superuser=True)
    admin_browser = log_in(admin)
    url = f"/admin/accounts/user/{user.pk}/password/"
    response = admin_browser.post(
        url,
        {
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "usable_password": "true",
            "set_usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content
    assert not is_logged_in(laptop)
    assert UserNotBefore.objects.filter(user=user).exists()
    assert is_logged_in(admin_browser)


def test_disabling_a_user_ends_every_session(user):
    laptop, phone = log_in(user), log_in(user)
    user.is_active = False
    user.save()
    assert not is_logged_in(laptop) and not is_logged_in(phone)
    assert not SSOSession.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert UserNotBefore.objects.filter(user=user).exists()


def test_saving_an_active_user_ends_nothing(user):
    laptop = log_in(user)
    user.first_name = "Ada"
    user.save()
    assert is_logged_in(laptop)
    assert not UserNotBefore.objects.filter(user=user).exists()


def test_a_user_created_inactive_is_not_announced(db):
    get_user_model().objects.create_user(username="dormant", password=PASSWORD, is_active=False)
    assert not UserNotBefore.objects.exists()


# --- Admin ----------------------------------------------------------------------------------


@pytest.fixture
def admin_browser(make_user, mfa_not_required):
    return log_in(make_user(is_staff=True, is_superuser=True))


def test_admin_lists_sessions_without_sids(admin_browser, user):
    session = session_of(log_in(user))
    body = admin_browser.get("/admin/sso/ssosession/").content.decode()
    assert str(session.public_id) in body
    assert session.sid not in body
    detail = admin_browser.get(f"/admin/sso/ssosession/{session.pk}/change/")
    assert detail.status_code == 200 and session.sid not in detail.content.decode()
    assert admin_browser.get(f"/admin/sso/ssosession/?q={user.username}").status_code == 200


def test_admin_user_page_shows_the_sessions_inline(admin_browser, user):
    session = session_of(log_in(user, device="Inline browser"))
    body = admin_browser.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "Inline browser" in body and str(session.public_id) in body and session.sid not in body


def test_admin_action_revokes_sessions(admin_browser, user):
    laptop, phone = log_in(user), log_in(user)
    target = session_of(phone)
    response = admin_browser.post(
        "/admin/sso/ssosession/", {"action": "revoke_sessions", "_selected_action": [target.pk]}
    )
    assert response.status_code == 302
    assert not is_logged_in(phone) and is_logged_in(laptop)


def test_admin_action_logs_users_out_everywhere(admin_browser, user, make_user):
    laptop, phone = log_in(user), log_in(user)
    bystander = log_in(make_user())
    response = admin_browser.post(
        "/admin/accounts/user/", {"action": "log_out_everywhere", "_selected_action": [user.pk]}
    )
    assert response.status_code == 302
    assert not is_logged_in(laptop) and not is_logged_in(phone)
    assert is_logged_in(bystander)


def test_a_password_set_outside_the_pages_ends_every_session(user, django_capture_on_commit_callbacks):
    """`manage.py changepassword`, a shell, a script: any save after set_password counts."""
    browser, other = log_in(user), log_in(user)
    with django_capture_on_commit_callbacks(execute=True):
        user.set_password(NEW_PASSWORD)
        user.save()
    assert not is_logged_in(browser)
    assert not is_logged_in(other)
    assert UserNotBefore.objects.filter(user=user).exists()


def test_saving_a_user_without_a_new_password_is_no_password_change(user):
    browser = log_in(user)
    user.first_name = "Ada"
    user.save()
    assert is_logged_in(browser)
    assert not UserNotBefore.objects.filter(user=user).exists()
