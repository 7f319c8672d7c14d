from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from sso import purge
from sso.models import SSOSession

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
    assert "sso.sessions: 7 deleted" in run("--batch-size", "3")
    assert not SSOSession.objects.exists()


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


def test_purge_refuses_bad_arguments():
    with pytest.raises(CommandError):
        run("--batch-size", "0")
    with pytest.raises(CommandError):
        run("--only", "nope")
