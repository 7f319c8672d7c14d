"""Login stages (accounts.stages): a correct password, then every stage that applies, then the login."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.http import HttpResponseRedirect

from accounts import stages
from conftest import PASSWORD
from sso.models import SSOSession

pytestmark = [pytest.mark.django_db, pytest.mark.urls("accounts.tests.stage_urls")]


class ConfirmStage:
    key = "confirm"

    def __init__(self, applies_to=None):
        self.applies_to = applies_to

    def applies(self, *, request, user):
        return self.applies_to is None or user.username in self.applies_to

    def start(self, *, request, user):
        return HttpResponseRedirect("/test-stage/")


@pytest.fixture
def stage():
    registered = ConfirmStage()
    stages.register(registered)
    yield registered
    stages.unregister("confirm")


def log_in(client, user, next_url="/accounts/sessions/"):
    return client.post(f"/accounts/login/?next={next_url}", {"username": user.username, "password": PASSWORD})


def test_without_stages_the_password_logs_in(client, user):
    assert stages.registered() == []
    response = log_in(client, user)
    assert response.status_code == 302 and response["Location"] == "/accounts/sessions/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert SSOSession.objects.get(user=user).amr == ["pwd"]


def test_a_stage_that_applies_holds_the_login_until_it_is_satisfied(client, user, stage):
    response = log_in(client, user)
    assert response.status_code == 302 and response["Location"] == "/test-stage/"
    assert SESSION_KEY not in client.session  # not logged in yet
    assert not SSOSession.objects.exists()
    assert client.get("/accounts/sessions/").status_code == 302  # to the login page
    assert client.post("/test-stage/", {"code": "wrong"}).content == b"enter the code"
    assert SESSION_KEY not in client.session

    done = client.post("/test-stage/", {"code": "ok"})
    assert done.status_code == 302 and done["Location"] == "/accounts/sessions/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert stages.PENDING_SESSION_KEY not in client.session
    assert SSOSession.objects.get(user=user).amr == ["otp", "pwd"]
    # The pending login is gone: the stage cannot be replayed.
    assert client.post("/test-stage/", {"code": "ok"}).status_code == 400


def test_a_stage_that_does_not_apply_is_skipped(client, user, make_user):
    stages.register(ConfirmStage(applies_to={"someone-else"}))
    try:
        response = log_in(client, user)
    finally:
        stages.unregister("confirm")
    assert response["Location"] == "/accounts/sessions/"
    assert client.session[SESSION_KEY] == str(user.pk)


def test_a_wrong_password_never_reaches_a_stage(client, user, stage):
    response = client.post("/accounts/login/", {"username": user.username, "password": "wrong"})
    assert response.status_code == 200
    assert stages.PENDING_SESSION_KEY not in client.session


def test_a_pending_login_expires(client, user, stage, settings, monkeypatch):
    log_in(client, user)
    started = client.session[stages.PENDING_SESSION_KEY]["started_at"]
    monkeypatch.setattr(stages.time, "time", lambda: started + settings.LOGIN_STAGE_TIMEOUT_SECONDS + 1)
    assert client.post("/test-stage/", {"code": "ok"}).status_code == 400
    assert SESSION_KEY not in client.session


def test_a_user_disabled_meanwhile_is_not_logged_in(client, user, stage):
    log_in(client, user)
    user.is_active = False
    user.save()
    assert client.post("/test-stage/", {"code": "ok"}).status_code == 400
    assert SESSION_KEY not in client.session


def test_advance_for_another_stage_is_refused(rf, client, user, stage):
    log_in(client, user)
    request = rf.post("/")
    request.session = client.session
    with pytest.raises(LookupError):
        stages.advance(request, stage="something-else")


def test_the_next_url_is_the_checked_one(client, user, stage):
    # An off-site `next` is dropped by the login view before the stage stores it.
    log_in(client, user, next_url="https://evil.example/")
    done = client.post("/test-stage/", {"code": "ok"})
    assert done["Location"] == "/accounts/profile/"


def test_registering_a_key_again_replaces_it_in_place(stage):
    other = ConfirmStage(applies_to=set())
    stages.register(other)
    assert stages.registered() == [other]
