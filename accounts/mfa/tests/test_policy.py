"""MFA_REQUIRED: staff (the default) or everyone must enrol at their next login before it
completes (Keycloak's "Configure OTP" required action), and the admin console asks staff for a
second factor in their SSO session."""

from urllib.parse import urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.checks import run_checks
from django.test import Client

from accounts import stages
from accounts.mfa import flows, policy
from conftest import PASSWORD
from sso.models import SSOSession
from tests.e2e.helpers import assert_oauth_error, creds, post_token
from tests.e2e.oidc import authorize

from .conftest import code_for, log_in_with_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user):
    return make_user(username="staffer", is_staff=True)


@pytest.mark.parametrize(
    ("setting", "flags", "required"),
    [
        ("none", {"is_staff": True, "is_superuser": True}, False),
        ("staff", {}, False),
        ("staff", {"is_staff": True}, True),
        ("staff", {"is_superuser": True}, True),
        ("all", {}, True),
    ],
)
def test_who_must_have_a_second_factor(settings, make_user, setting, flags, required):
    settings.MFA_REQUIRED = setting
    assert policy.required_for(make_user(**flags)) is required


def test_the_default_is_staff(settings):
    from identity import settings as project_settings

    assert project_settings.MFA_REQUIRED == "staff"


def test_an_unknown_policy_fails_the_system_check(settings):
    settings.MFA_REQUIRED = "sometimes"
    assert "mfa.E002" in [message.id for message in run_checks()]


def test_staff_without_a_device_are_sent_to_enrolment_and_not_logged_in_until_it_is_done(staff):
    browser = Client()
    response = browser.post("/accounts/login/?next=/admin/", {"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/2fa/"
    assert SESSION_KEY not in browser.session and not SSOSession.objects.exists()
    assert browser.get("/admin/").status_code == 302  # not logged in

    page = browser.get("/accounts/login/2fa/")
    assert page.status_code == 200 and b"<svg" in page.content
    done = browser.post("/accounts/login/2fa/", {"code": code_for(flows.pending_totp(staff))})
    assert done.status_code == 200 and b"recovery-codes" in done.content
    assert SSOSession.objects.get(user=staff).amr == ["otp", "pwd"]
    assert browser.get("/admin/").status_code == 200


def test_a_user_who_must_enrol_gets_no_code_from_the_authorization_endpoint(staff, confidential):
    browser = Client()
    browser.post("/accounts/login/", {"username": staff.username, "password": PASSWORD})
    response, _, _ = authorize(browser, confidential[0])
    assert response.status_code == 302 and urlsplit(response["Location"]).path == "/accounts/login/"
    assert "code=" not in response["Location"]


def test_people_who_are_not_staff_log_in_with_the_password_under_the_default(user):
    browser = Client()
    response = browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response["Location"] == "/accounts/profile/"


def test_with_all_everyone_enrols(settings, user):
    settings.MFA_REQUIRED = "all"
    browser = Client()
    response = browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response["Location"] == "/accounts/login/2fa/"
    assert SESSION_KEY not in browser.session


def test_with_none_staff_log_in_and_reach_the_admin_with_the_password(settings, staff):
    settings.MFA_REQUIRED = "none"
    browser = Client()
    browser.post("/accounts/login/", {"username": staff.username, "password": PASSWORD})
    assert browser.get("/admin/").status_code == 200


def test_a_one_factor_staff_session_is_asked_for_the_code_before_the_admin(operator):
    browser = Client()
    browser.force_login(operator)  # a session with the password alone (from before the policy…)
    session = SSOSession.objects.get(user=operator)
    assert session.amr == ["pwd"]
    response = browser.get("/admin/accounts/user/?q=x")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/code/"
    assert browser.get("/admin/").status_code == 302  # every admin page asks
    assert stages.PENDING_SESSION_KEY in browser.session

    done = browser.post("/accounts/login/code/", {"code": code_for(operator.totp_device, offset_steps=1)})
    assert done.status_code == 302 and done["Location"] == "/admin/"
    session.refresh_from_db()
    assert session.amr == ["otp", "pwd"] and session.revoked_at is None  # the same session, stepped up
    assert browser.get("/admin/accounts/user/").status_code == 200


def test_a_one_factor_staff_session_without_a_device_enrols_before_the_admin(staff):
    browser = Client()
    browser.force_login(staff)
    response = browser.get("/admin/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/2fa/"
    browser.get("/accounts/login/2fa/")
    done = browser.post("/accounts/login/2fa/", {"code": code_for(flows.pending_totp(staff))})
    assert done.status_code == 200
    assert browser.get("/admin/").status_code == 200


def test_a_post_to_the_admin_without_a_second_factor_changes_nothing(operator, user):
    browser = Client()
    browser.force_login(operator)
    response = browser.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/code/"
    user.refresh_from_db()  # still there


def test_the_site_says_no_permission_without_a_second_factor(operator, rf):
    from django.contrib import admin

    browser = Client()
    log_in_with_code(browser, operator, operator.totp_device)
    assert browser.get("/admin/").status_code == 200
    request = rf.get("/admin/")
    request.user = operator
    request.session = {}
    assert admin.site.has_permission(request) is False  # no SSO session bound: no second factor


def test_staff_without_a_second_factor_can_still_log_out_of_the_admin(operator):
    browser = Client()
    browser.force_login(operator)
    response = browser.post("/admin/logout/")
    assert response.status_code in (200, 302) and response.get("Location") != "/accounts/login/code/"
    assert SESSION_KEY not in browser.session
    assert not SSOSession.objects.filter(user=operator, revoked_at__isnull=True).exists()


def test_people_who_are_not_staff_still_get_the_admins_login_redirect(user):
    browser = Client()
    browser.force_login(user)
    response = browser.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.fixture
def password_client(make_client):
    return make_client(name="Legacy app", grant_types=["password"])


@pytest.mark.rfc("6749", "4.3.2")
def test_the_password_grant_gives_no_token_to_a_user_who_must_enrol(password_client, staff, password_grant_enabled):
    data = {"grant_type": "password", "username": staff.username, "password": PASSWORD}
    body = assert_oauth_error(post_token(data, auth=creds(password_client)), "invalid_grant")
    assert "second factor is needed" in body["error_description"]
    assert "set up two-factor authentication" in body["error_description"]


def register(browser, username):
    data = {"username": username, "email": f"{username}@example.com", "password": "a long enough passphrase 7"}
    return browser.post("/accounts/register/", data)


def test_with_all_a_person_who_registers_sets_up_a_second_factor_before_being_logged_in(settings):
    settings.MFA_REQUIRED = "all"
    browser = Client()
    response = register(browser, "newcomer")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/2fa/"
    assert SESSION_KEY not in browser.session


def test_under_the_default_a_person_who_registers_is_logged_in_at_once():
    browser = Client()
    response = register(browser, "newcomer")
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    assert SSOSession.objects.get(user__username="newcomer").amr == ["pwd"]
