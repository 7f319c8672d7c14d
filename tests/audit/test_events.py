"""The audit log records each security event once, with the right fields, in the flow's
transaction; never a secret. One test (or a few) per flow, driven as users and clients do."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client as BrowserClient

from accounts import flows as account_flows
from accounts.mfa import flows as mfa
from accounts.mfa.tests.conftest import code_for
from accounts.tests.helpers import csrf_browser, login
from audit import events
from audit.models import SecurityEvent
from conftest import PASSWORD, shown_once
from oauth import flows as oauth_flows
from oauth.models import Client
from rbac import flows as rbac
from sso import flows as sso_flows
from tests.e2e.helpers import revoke

pytestmark = pytest.mark.django_db


def recorded(event):
    return list(SecurityEvent.objects.filter(event=event).order_by("id"))


def only(event):
    rows = recorded(event)
    assert len(rows) == 1, [str(r) for r in SecurityEvent.objects.all()]
    return rows[0]


def no_secret_in_the_log(*secrets):
    dump = json.dumps(list(SecurityEvent.objects.values()), default=str)
    for secret in secrets:
        assert secret not in dump


# --- accounts: login, failure, lockout ----------------------------------------------------


def test_login_success(user):
    browser = csrf_browser(REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="Test browser")
    assert login(browser, user.username, PASSWORD).status_code == 302
    row = only(events.LOGIN_SUCCEEDED)
    assert (row.actor_id, row.subject_id, row.outcome) == (user.pk, user.pk, events.SUCCESS)
    assert (row.ip_address, row.user_agent) == ("198.51.100.4", "Test browser")
    no_secret_in_the_log(PASSWORD)


def test_login_failure_names_the_account_and_never_the_password(user):
    browser = csrf_browser(REMOTE_ADDR="198.51.100.5")
    assert login(browser, user.username, "wrong password!").status_code == 200
    row = only(events.LOGIN_FAILED)
    assert (row.actor_id, row.subject_id, row.outcome) == (None, user.pk, events.FAILURE)
    assert row.detail == {"username": user.username}
    assert row.ip_address == "198.51.100.5"
    assert not recorded(events.LOGIN_SUCCEEDED)
    no_secret_in_the_log("wrong password!")


def test_login_failure_for_nobody(db):
    login(csrf_browser(), "nobody-here", "whatever")
    row = only(events.LOGIN_FAILED)
    assert (row.subject_id, row.detail) == (None, {"username": "nobody-here"})


def test_lockout(user, settings):
    browser = csrf_browser(REMOTE_ADDR="198.51.100.6")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        login(browser, user.username, "wrong")
    assert len(recorded(events.LOGIN_FAILED)) == settings.LOGIN_FAILURE_LIMIT
    row = only(events.LOGIN_LOCKED_OUT)
    assert (row.subject_id, row.outcome, row.ip_address) == (user.pk, events.FAILURE, "198.51.100.6")


# --- accounts: password, email, disable ---------------------------------------------------


def test_password_change_by_the_user(user):
    browser = BrowserClient()
    browser.force_login(user)
    response = browser.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a new long passphrase 7",
            "new_password2": "a new long passphrase 7",
        },
    )
    assert response.status_code == 302, response.content
    row = only(events.PASSWORD_CHANGED)
    assert (row.actor_id, row.subject_id) == (user.pk, user.pk)
    no_secret_in_the_log(PASSWORD, "a new long passphrase 7")


def test_password_reset_is_recorded_as_a_reset(user, rf):
    account_flows.request_password_reset(email=user.email)
    assert only(events.PASSWORD_RESET_REQUESTED).subject_id == user.pk
    account_flows.reset_password(request=rf.post("/"), user=user, password="reset passphrase 123")
    row = only(events.PASSWORD_RESET)
    assert (row.actor_id, row.subject_id) == (None, user.pk)
    assert not recorded(events.PASSWORD_CHANGED)
    no_secret_in_the_log("reset passphrase 123")


def test_email_verification(make_user):
    from accounts import verification

    someone = make_user(email_verified=False)
    account_flows.verify_email(token=verification.make_token(someone))
    row = only(events.EMAIL_VERIFIED)
    assert row.subject_id == someone.pk and row.detail == {"email": someone.email}
    account_flows.verify_email(token=verification.make_token(someone))  # again: nothing changed
    assert len(recorded(events.EMAIL_VERIFIED)) == 1


def test_disable_and_enable(user):
    account_flows.set_active(user=user, active=False)
    account_flows.set_active(user=user, active=True)
    assert only(events.USER_DISABLED).subject_id == user.pk
    assert only(events.USER_ENABLED).subject_id == user.pk


# --- two-factor --------------------------------------------------------------------------


def test_two_factor_enable_use_failure_and_operator_reset(user, make_user):
    device = mfa.start_totp(user=user)
    codes = mfa.confirm_totp(user=user, code=code_for(device, offset_steps=-1))
    assert only(events.MFA_ENABLED).detail == {"method": "totp"}
    with pytest.raises(mfa.MFAError):
        mfa.verify(user=user, code="000000" if code_for(device) != "000000" else "111111")
    failed = only(events.MFA_FAILED)
    assert (failed.subject_id, failed.outcome) == (user.pk, events.FAILURE)
    assert mfa.verify(user=user, code=codes[0]) == "recovery_code"
    assert only(events.RECOVERY_CODE_USED).detail == {"remaining": len(codes) - 1}
    operator = make_user(username="operator", is_staff=True, is_superuser=True)
    mfa.disable(user=user, by=operator, reason="operator reset")
    row = only(events.MFA_DISABLED)
    assert (row.actor_id, row.subject_id, row.detail) == (operator.pk, user.pk, {"reason": "operator reset"})
    no_secret_in_the_log(*codes)


@pytest.mark.usefixtures("mfa_not_required")
def test_two_factor_operator_reset_in_the_admin(user, make_user):
    device = mfa.start_totp(user=user)
    mfa.confirm_totp(user=user, code=code_for(device, offset_steps=-1))
    operator = make_user(username="operator2", is_staff=True, is_superuser=True)
    browser = BrowserClient(REMOTE_ADDR="203.0.113.9")
    browser.force_login(operator)
    response = browser.post("/admin/accounts/user/", {"action": "remove_two_factor", "_selected_action": [user.pk]})
    assert response.status_code == 302
    row = only(events.MFA_DISABLED)
    assert (row.actor_id, row.subject_id, row.ip_address) == (operator.pk, user.pk, "203.0.113.9")


# --- sso ---------------------------------------------------------------------------------


def test_logout(user):
    browser = csrf_browser()
    login(browser, user.username, PASSWORD)
    sid = SecurityEvent.objects.count()
    browser.post("/accounts/logout/", {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value})
    assert SecurityEvent.objects.count() > sid
    row = only(events.LOGOUT)
    assert (row.actor_id, row.subject_id) == (user.pk, user.pk)
    assert len(row.detail["sessions"]) == 1


def test_global_logout(user, make_user):
    browser = csrf_browser()
    login(browser, user.username, PASSWORD)
    sso_flows.logout_everywhere(user=user, why="test")
    row = only(events.LOGOUT_EVERYWHERE)
    assert row.subject_id == user.pk and row.detail["reason"] == "test"


# --- rbac --------------------------------------------------------------------------------


def test_role_given_and_taken(user):
    rbac.seed_default_roles()
    rbac.assign_role(user=user, role="auditor")
    rbac.assign_role(user=user, role="auditor")  # held already: nothing to record
    rbac.remove_role(user=user, role="auditor")
    assigned, removed = only(events.ROLE_ASSIGNED), only(events.ROLE_REMOVED)
    assert (assigned.subject_id, assigned.detail) == (user.pk, {"roles": ["auditor"]})
    assert (removed.subject_id, removed.detail) == (user.pk, {"roles": ["auditor"]})


def test_role_given_through_the_relation(user):
    rbac.seed_default_roles()
    from rbac.models import Role

    user.roles.add(Role.objects.get(name="operator"))
    assert only(events.ROLE_ASSIGNED).detail == {"roles": ["operator"]}


def test_a_role_change_that_rolls_back_leaves_no_event(user):
    rbac.seed_default_roles()
    with pytest.raises(RuntimeError), transaction.atomic():
        rbac.assign_role(user=user, role="admin")
        raise RuntimeError
    assert not recorded(events.ROLE_ASSIGNED)


# --- oauth -------------------------------------------------------------------------------


def test_consent_granted_and_revoked(flow, user):
    flow.tokens(scope="openid profile")
    row = only(events.CONSENT_GRANTED)
    assert (row.actor_id, row.client_id, row.detail) == (user.pk, flow.client.client_id, {"scope": "openid profile"})
    flow.tokens(scope="openid")  # already covered: no new consent
    assert len(recorded(events.CONSENT_GRANTED)) == 1
    oauth_flows.revoke_app_access(user=user, client=flow.client)
    revoked = only(events.CONSENT_REVOKED)
    assert (revoked.subject_id, revoked.client_id) == (user.pk, flow.client.client_id)


def test_client_created_by_the_command_never_shows_its_secret(db):
    out = StringIO()
    call_command("create_client", "--name", "Audited", "--grant-types", "client_credentials", "--json", stdout=out)
    created = json.loads(out.getvalue())
    row = only(events.CLIENT_CREATED)
    assert row.client_id == created["client_id"]
    assert row.detail["name"] == "Audited"
    no_secret_in_the_log(created["client_secret"])


def test_client_changed_and_deleted(confidential):
    client, _ = confidential
    client.name = "Renamed"
    client.save()
    assert only(events.CLIENT_CHANGED).detail["name"] == "Renamed"
    client_id = client.client_id
    Client.objects.filter(pk=client.pk).get().delete()
    assert only(events.CLIENT_DELETED).client_id == client_id


@pytest.mark.usefixtures("mfa_not_required")
def test_client_secret_rotated_in_the_admin(confidential, make_user):
    client, _ = confidential
    operator = make_user(username="op3", is_staff=True, is_superuser=True)
    browser = BrowserClient()
    browser.force_login(operator)
    response = browser.post(f"/admin/oauth/client/{client.pk}/rotate-secret/")
    assert response.status_code == 200
    row = only(events.CLIENT_SECRET_ROTATED)
    assert (row.actor_id, row.client_id) == (operator.pk, client.client_id)
    assert "client_secret" not in json.dumps(row.detail)
    assert recorded(events.CLIENT_CHANGED) == []  # one event for one rotation
    no_secret_in_the_log(shown_once(response, "client-secret"))


def test_client_secret_rotated_by_the_flow_names_the_actor(confidential, make_user):
    client, _ = confidential
    operator = make_user(username="op4")
    secret = oauth_flows.rotate_client_secret(client=client, actor=operator)
    row = only(events.CLIENT_SECRET_ROTATED)
    assert (row.actor_id, row.client_id) == (operator.pk, client.client_id)
    no_secret_in_the_log(secret)


def test_signing_key_rotation(db):
    call_command("rotate_signing_keys", "--force", stdout=StringIO())
    row = only(events.SIGNING_KEY_ROTATED)
    assert row.detail["forced"] is True and row.detail["activated"]
    no_secret_in_the_log("PRIVATE KEY")


def test_token_revocation(flow, user):
    tokens = flow.tokens()
    assert revoke(tokens["access_token"], (flow.client.client_id, flow.secret)).status_code == 200
    row = only(events.TOKEN_REVOKED)
    assert (row.subject_id, row.client_id, row.detail["type"]) == (user.pk, flow.client.client_id, "access")
    no_secret_in_the_log(tokens["access_token"], tokens["refresh_token"], flow.secret)


def test_revoking_an_unknown_token_records_nothing(flow):
    assert revoke("not-a-token", (flow.client.client_id, flow.secret)).status_code == 200
    assert not recorded(events.TOKEN_REVOKED)


def test_refresh_token_reuse_detected(flow, user):
    tokens = flow.tokens()
    assert flow.refresh(tokens["refresh_token"]).status_code == 200
    assert flow.refresh(tokens["refresh_token"]).status_code == 400  # reuse: the family is revoked
    row = only(events.REFRESH_TOKEN_REUSED)
    assert (row.subject_id, row.client_id, row.outcome) == (user.pk, flow.client.client_id, events.FAILURE)
    no_secret_in_the_log(tokens["refresh_token"])


def test_code_replay_detected(flow, user):
    code, verifier = flow.code()
    assert flow.exchange(code, verifier).status_code == 200
    assert flow.exchange(code, verifier).status_code == 400
    row = only(events.CODE_REPLAYED)
    assert (row.subject_id, row.client_id) == (user.pk, flow.client.client_id)
    no_secret_in_the_log(code, verifier)


def test_token_issue_is_not_recorded_by_default(flow):
    tokens = flow.tokens()
    flow.refresh(tokens["refresh_token"])
    assert not recorded(events.TOKEN_ISSUED) and not recorded(events.TOKEN_REFRESHED)


def test_token_events_when_asked(flow, user, settings):
    settings.AUDIT_TOKEN_EVENTS = True
    tokens = flow.tokens()
    assert flow.refresh(tokens["refresh_token"]).status_code == 200
    issued, refreshed = only(events.TOKEN_ISSUED), only(events.TOKEN_REFRESHED)
    assert (issued.subject_id, issued.client_id, issued.detail["grant_type"]) == (
        user.pk,
        flow.client.client_id,
        "authorization_code",
    )
    assert refreshed.detail["grant_type"] == "refresh_token"
    no_secret_in_the_log(tokens["access_token"], tokens["refresh_token"])


def test_a_logout_everywhere_that_rolls_back_leaves_no_event(user):
    login(csrf_browser(), user.username, PASSWORD)
    with pytest.raises(RuntimeError), transaction.atomic():
        sso_flows.logout_everywhere(user=user, why="test")
        raise RuntimeError("the caller's change failed")
    assert not recorded(events.LOGOUT_EVERYWHERE)


def test_a_refused_client_leaves_no_event(db):
    with pytest.raises(oauth_flows.ClientError):
        oauth_flows.create_client(
            name="Bad", grant_types=["authorization_code"], redirect_uris=["http://evil.example/cb"]
        )
    assert not recorded(events.CLIENT_CREATED)


def test_a_failed_login_with_a_nul_in_the_username_is_recorded_without_a_lookup(db):
    from accounts import audit_log

    audit_log.login_failed(sender=None, credentials={"username": "a\x00b", "password": "********"}, request=None)
    row = only(events.LOGIN_FAILED)
    assert row.subject_id is None and row.detail == {"username": "a\ufffdb"}
