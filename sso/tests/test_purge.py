import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import purge
from sso.models import SSOSession
from sso.purge import purge_sessions

from .conftest import make_session

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("purge_expired", *args, stdout=out)
    return out.getvalue()


def test_purge_removes_sessions_that_ended_before_the_retention_window(user, settings):
    settings.SSO_SESSION_RETENTION_SECONDS = 3600
    now = timezone.now()
    long_ago = now - timedelta(hours=2)
    keep = [
        make_session(user),
        make_session(user, revoked_at=now - timedelta(minutes=10)),  # ended, still retained
        make_session(user, idle_expires_at=now - timedelta(minutes=10)),
    ]
    gone = [
        make_session(user, revoked_at=long_ago),
        make_session(user, idle_expires_at=long_ago),
        make_session(user, expires_at=long_ago, idle_expires_at=long_ago),
    ]
    assert "sso.sessions: 3 deleted" in run()
    remaining = set(SSOSession.objects.values_list("pk", flat=True))
    assert remaining == {s.pk for s in keep}
    assert not remaining & {s.pk for s in gone}


def test_purge_works_in_batches(user, settings):
    settings.SSO_SESSION_RETENTION_SECONDS = 0
    for _ in range(7):
        make_session(user, revoked_at=timezone.now() - timedelta(seconds=5))
    with CaptureQueriesContext(connection) as ctx, purge.recording() as batches:
        assert purge_sessions(now=timezone.now(), batch_size=3) == 7
    deletes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('DELETE FROM "sso_ssosession"')]
    assert len(deletes) == 3
    assert [rows for rows, _ in batches] == [3, 3, 1, 0]  # one transaction each; the last finds none
    assert not SSOSession.objects.exists()


def test_verbose_output_times_each_purger(user, settings):
    settings.SSO_SESSION_RETENTION_SECONDS = 0
    make_session(user, revoked_at=timezone.now() - timedelta(seconds=5))
    out = run("--only", "sso.sessions", "--verbosity", "2")
    assert re.fullmatch(r"sso\.sessions: 1 deleted in \d+\.\d\d s, 2 transactions, longest \d+ ms\n", out), out


def test_other_apps_can_register_purgers(user):
    calls = []

    def purger(*, now, batch_size):
        calls.append(batch_size)
        return 4

    purge.register("test.things", purger)
    try:
        out = run("--only", "test.things", "--batch-size", "10")
    finally:
        purge._purgers.pop("test.things")
    assert calls == [10]
    assert out.strip() == "test.things: 4 deleted"


def test_pause_sleeps_between_batches_that_deleted_rows(user, settings, monkeypatch):
    settings.SSO_SESSION_RETENTION_SECONDS = 0
    for _ in range(5):
        make_session(user, revoked_at=timezone.now() - timedelta(seconds=5))
    sleeps = []
    monkeypatch.setattr(purge.time, "sleep", sleeps.append)
    out = run("--only", "sso.sessions", "--batch-size", "2", "--pause", "0.25")
    assert out.strip() == "sso.sessions: 5 deleted"
    assert sleeps == [0.25, 0.25, 0.25]  # after the batches of 2, 2 and 1; none after the empty one
    assert not SSOSession.objects.exists()
    sleeps.clear()
    purge_sessions(now=timezone.now(), batch_size=2)  # outside the command: no pause
    assert sleeps == []


def test_purge_refuses_bad_arguments():
    with pytest.raises(CommandError):
        run("--batch-size", "0")
    for pause in ("-1", "61"):
        with pytest.raises(CommandError):
            run("--pause", pause)
    with pytest.raises(CommandError):
        run("--only", "nope")
