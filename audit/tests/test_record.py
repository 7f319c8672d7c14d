from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import audit
from audit import events
from audit.models import SecurityEvent
from audit.purging import purge_events
from audit.recording import clean_detail
from core import purge

pytestmark = pytest.mark.django_db


def test_record_writes_every_field(user):
    request = RequestFactory().post("/x", HTTP_USER_AGENT="Firefox/" + "x" * 400, REMOTE_ADDR="::ffff:192.0.2.7")
    row = audit.record(
        event=events.LOGIN_SUCCEEDED, request=request, actor=user, client_id="app-1", detail={"amr": ["pwd"]}
    )
    row = SecurityEvent.objects.get(pk=row.pk)
    assert row.event == "login.succeeded"
    assert row.outcome == events.SUCCESS
    assert (row.actor_id, row.actor_username) == (user.pk, user.username)
    assert (row.subject_id, row.subject_username) == (user.pk, user.username)  # defaults to the actor
    assert row.client_id == "app-1"
    assert row.ip_address == "192.0.2.7"  # core.client_ip's rule: the IPv4 of a mapped address
    assert row.user_agent.startswith("Firefox/") and len(row.user_agent) == 255
    assert row.detail == {"amr": ["pwd"]}
    assert timezone.now() - row.created_at < timedelta(seconds=5)


def test_record_keeps_the_username_when_the_user_is_renamed_or_deleted(user, make_user):
    other_user = make_user()
    row = audit.record(event=events.ROLE_ASSIGNED, actor=other_user, subject=user, detail={"role": "admin"})
    old_name = user.username
    user.delete()
    row.refresh_from_db()
    assert (row.subject_username, row.actor_username) == (old_name, other_user.username)


def test_anonymous_actor_is_nobody():
    from django.contrib.auth.models import AnonymousUser

    row = audit.record(event=events.LOGIN_FAILED, actor=AnonymousUser(), outcome=events.FAILURE)
    assert (row.actor_id, row.actor_username, row.subject_id) == (None, "", None)


def test_unknown_event_type_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown audit event"):
        audit.record(event="login.maybe")


def test_record_is_keyword_only():
    with pytest.raises(TypeError):
        audit.record(events.LOGIN_FAILED)


SECRETS = {
    "password": "hunter2",
    "new_password1": "hunter3",
    "client_secret": "s3cr3t",
    "code": "123456",
    "recovery_codes": ["aaaa-bbbb"],
    "access_token": "tok",
    "refresh_token": "rtok",
    "id_token_hint": "hint",
    "code_verifier": "verifier",
    "Authorization": "Basic Zm9vOmJhcg==",
    "private_key": "-----BEGIN PRIVATE KEY-----",
    "otp": "654321",
}


def test_secrets_never_reach_the_detail():
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"
    detail = {**SECRETS, "scope": "openid", "nested": {**SECRETS, "ok": 1}, "list": [jwt, "fine"], "hint": jwt}
    row = audit.record(event=events.CLIENT_CREATED, detail=detail)
    stored = SecurityEvent.objects.get(pk=row.pk).detail
    assert stored == {"scope": "openid", "nested": {"ok": 1}, "list": ["fine"]}
    text = str(stored)
    for value in ("hunter2", "s3cr3t", "123456", "aaaa-bbbb", "tok", "verifier", "Zm9v", "PRIVATE", jwt):
        assert value not in text


def test_detail_is_made_json_and_bounded():
    now = timezone.now()
    cleaned = clean_detail(
        {"when": now, "text": "x" * 5000, "many": list(range(100)), "deep": {"a": {"b": {"c": {"d": 1}}}}}
    )
    assert cleaned["when"].startswith(now.strftime("%Y-%m-%dT%H:%M:%S"))
    assert len(cleaned["text"]) == 500
    assert len(cleaned["many"]) == 50
    assert cleaned["deep"] == {"a": {"b": {"c": {}}}}
    assert clean_detail({"obj": object()})["obj"].startswith("<object")


def test_event_of_a_rolled_back_change_never_appears(user):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(event=events.PASSWORD_CHANGED, actor=user)
        raise RuntimeError("the change failed")
    assert not SecurityEvent.objects.exists()


def test_recording_costs_one_insert(user):
    with CaptureQueriesContext(connection) as ctx:
        audit.record(event=events.LOGOUT, actor=user)
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["INSERT"]


def test_a_failed_insert_outside_a_transaction_does_not_break_the_caller(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(SecurityEvent, "save", broken)
    monkeypatch.setattr(transaction.get_connection(), "in_atomic_block", False)
    assert audit.record(event=events.LOGOUT) is None
    assert "Could not record the audit event session.logout" in caplog.text


def test_admin_is_read_only(rf, admin_user):
    model_admin = site._registry[SecurityEvent]
    request = rf.get("/admin/audit/securityevent/")
    request.user = admin_user
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


@pytest.mark.usefixtures("mfa_not_required")
def test_admin_list_search_and_filters(client, admin_user, user):
    audit.record(event=events.LOGIN_FAILED, subject=user, outcome=events.FAILURE, detail={"username": user.username})
    audit.record(event=events.CLIENT_CREATED, client_id="zzz-client")
    client.force_login(admin_user)
    page = client.get("/admin/audit/securityevent/", {"q": user.username})
    assert page.status_code == 200
    assert b"Login failed" in page.content and b"zzz-client" not in page.content
    page = client.get("/admin/audit/securityevent/", {"event__exact": events.CLIENT_CREATED})
    assert page.status_code == 200 and b"zzz-client" in page.content
    row = SecurityEvent.objects.get(event=events.CLIENT_CREATED)
    assert client.get(f"/admin/audit/securityevent/{row.pk}/change/").status_code == 200
    assert client.get("/admin/audit/securityevent/add/").status_code == 403


def _aged(days, **kwargs):
    row = audit.record(event=events.LOGOUT, **kwargs)
    SecurityEvent.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=days))
    return row


def test_purge_keeps_the_retention_window(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    keep = [_aged(1), _aged(29)]
    _aged(31)
    _aged(400)
    out = StringIO()
    call_command("purge_expired", "--only", "audit.events", stdout=out)
    assert out.getvalue().strip() == "audit.events: 2 deleted"
    assert set(SecurityEvent.objects.values_list("pk", flat=True)) == {r.pk for r in keep}


def test_purge_is_registered_and_batched(settings):
    assert purge.registered()["audit.events"] is purge_events
    settings.AUDIT_RETENTION_DAYS = 1
    for _ in range(5):
        _aged(2)
    with purge.recording() as batches:
        assert purge_events(now=timezone.now(), batch_size=2) == 5
    assert [rows for rows, _ in batches] == [2, 2, 1, 0]


def test_retention_zero_keeps_everything(settings):
    settings.AUDIT_RETENTION_DAYS = 0
    _aged(4000)
    assert purge_events(now=timezone.now(), batch_size=10) == 0
    assert SecurityEvent.objects.count() == 1


def test_default_retention_is_a_year():
    from django.conf import settings

    assert settings.AUDIT_RETENTION_DAYS == 365
    assert settings.AUDIT_TOKEN_EVENTS is False


def test_the_request_being_answered_gives_ip_agent_and_actor(user):
    from audit.middleware import RequestContextMiddleware

    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.50", HTTP_USER_AGENT="Agent/1")
    request.user = user
    seen = []

    def view(request):
        seen.append(audit.record(event=events.PASSWORD_CHANGED, subject=user))
        seen.append(audit.record(event=events.LOGIN_FAILED, actor=None, ip_address="192.0.2.1", user_agent="other"))
        return "response"

    assert RequestContextMiddleware(view)(request) == "response"
    first, second = seen
    assert (first.actor_id, first.ip_address, first.user_agent) == (user.pk, "203.0.113.50", "Agent/1")
    assert (second.actor_id, second.subject_id, second.ip_address, second.user_agent) == (
        None,
        None,
        "192.0.2.1",
        "other",
    )
    # Outside the request: nobody, no address.
    third = audit.record(event=events.LOGOUT)
    assert (third.actor_id, third.ip_address, third.user_agent) == (None, None, "")


def test_control_characters_are_replaced_in_the_detail():
    # PostgreSQL's jsonb refuses a NUL: the event is still written, readable.
    row = audit.record(event=events.LOGIN_FAILED, actor=None, detail={"user\x00name": "a\x00b\nc"})
    assert SecurityEvent.objects.get(pk=row.pk).detail == {"user\ufffdname": "a\ufffdb\ufffdc"}


def test_a_detail_that_is_not_json_does_not_break_the_caller(caplog):
    circular = {}
    circular["self"] = circular
    assert clean_detail(circular) == {"unrecorded": True}
    row = audit.record(event=events.LOGOUT, detail={"ratio": float("nan")})
    assert SecurityEvent.objects.get(pk=row.pk).detail == {"unrecorded": True}
    assert "could not be made JSON" in caplog.text
