"""OpenID Connect Back-Channel Logout 1.0: a relying party's endpoint (a tiny HTTP server on
127.0.0.1) receives a signed logout token when a session ends; delivery is retried."""

import json
import socket
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client as BrowserClient
from django.utils import timezone
from jwcrypto import jwk, jws

from conftest import bearer
from oauth import backchannel, flows, purge
from oauth.models import BackchannelLogout

from .conftest import Device

pytestmark = pytest.mark.django_db

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def verify_logout_token(token, audience):
    """Verify as a relying party would: with the published JWKS. Returns (header, claims)."""
    jwks = BrowserClient().get("/.well-known/jwks.json").json()
    parsed = jws.JWS()
    parsed.deserialize(token)
    parsed.verify(jwk.JWKSet.from_json(json.dumps(jwks)), alg="RS256")
    header, claims = parsed.jose_header, json.loads(parsed.payload)
    assert header["alg"] == "RS256" and header["typ"] == "logout+jwt"
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert claims["aud"] == audience
    assert claims["events"] == {EVENT: {}}
    assert "nonce" not in claims
    assert 0 < claims["exp"] - claims["iat"] <= 120 and abs(claims["iat"] - time.time()) < 60
    assert claims["jti"]
    return header, claims


@pytest.fixture
def rp(make_client, receiver):
    """A confidential client whose back-channel logout URI is the receiver."""
    return make_client(name="RP", backchannel_logout_uri=receiver.uri)


def device_of(user, pair):
    client, secret = pair
    return Device(user, client, secret)


def run_command():
    out = StringIO()
    call_command("deliver_backchannel_logouts", stdout=out)
    return out.getvalue()


def test_ending_a_session_posts_a_signed_logout_token(user, rp, receiver, django_capture_on_commit_callbacks):
    laptop, phone = device_of(user, rp), device_of(user, rp)
    laptop_tokens, _ = laptop.tokens(), phone.tokens()
    with django_capture_on_commit_callbacks(execute=True):
        response = laptop.api.delete(
            f"/api/sessions/{phone.session.public_id}", **bearer(laptop_tokens["access_token"])
        )
    assert response.status_code == 204
    row = BackchannelLogout.objects.get()
    assert row.sid == phone.sid and row.next_attempt_at is not None
    assert "1 delivered" in run_command()
    [request] = receiver.requests
    assert request["path"] == "/backchannel-logout"
    assert request["content_type"] == "application/x-www-form-urlencoded"
    _, claims = verify_logout_token(receiver.logout_tokens[0], rp[0].client_id)
    assert claims["sid"] == phone.sid and claims["sub"] == user.subject
    assert claims["jti"] == row.jti
    row.refresh_from_db()
    assert row.delivered_at is not None and row.next_attempt_at is None
    assert "0 delivered" in run_command()  # idempotent: nothing is sent twice


def test_logout_everywhere_sends_one_token_without_sid(user, rp, receiver, django_capture_on_commit_callbacks):
    laptop, phone = device_of(user, rp), device_of(user, rp)
    tokens = laptop.tokens()
    phone.tokens()
    with django_capture_on_commit_callbacks(execute=True):
        laptop.api.post("/api/sessions/logout-all", **bearer(tokens["access_token"]))
    backchannel.deliver_due()
    [token] = receiver.logout_tokens
    _, claims = verify_logout_token(token, rp[0].client_id)
    assert claims["sub"] == user.subject and "sid" not in claims


def test_a_client_that_requires_sid_gets_one_token_per_session(
    user, make_client, receiver, django_capture_on_commit_callbacks
):
    pair = make_client(name="RP", backchannel_logout_uri=receiver.uri, backchannel_logout_session_required=True)
    laptop, phone = device_of(user, pair), device_of(user, pair)
    tokens = laptop.tokens()
    phone.tokens()
    with django_capture_on_commit_callbacks(execute=True):
        laptop.api.post("/api/sessions/logout-all", **bearer(tokens["access_token"]))
    backchannel.deliver_due()
    sids = {verify_logout_token(t, pair[0].client_id)[1]["sid"] for t in receiver.logout_tokens}
    assert sids == {laptop.sid, phone.sid}


def test_only_clients_of_the_ended_session_are_told(
    user, rp, make_client, receiver, confidential, django_capture_on_commit_callbacks
):
    other_rp = make_client(name="Other RP", backchannel_logout_uri=receiver.uri.replace("logout", "other"))
    laptop, phone, phone_other = device_of(user, rp), device_of(user, rp), None
    tokens = laptop.tokens()
    phone.tokens()
    phone_other = Device(user, *other_rp)
    phone_other.browser = laptop.browser  # the other RP logged in under the laptop's session
    phone_other.tokens()
    device_of(user, confidential).tokens()  # a client without a back-channel URI
    with django_capture_on_commit_callbacks(execute=True):
        laptop.api.delete(f"/api/sessions/{phone.session.public_id}", **bearer(tokens["access_token"]))
    backchannel.deliver_due()
    assert [r["path"] for r in receiver.requests] == ["/backchannel-logout"]


def test_an_unreachable_client_does_not_stop_the_logout_and_is_retried_with_backoff(
    user, make_client, receiver, django_capture_on_commit_callbacks, settings
):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    settings.BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS = 1
    client, secret = make_client(name="Down RP", backchannel_logout_uri=f"http://127.0.0.1:{dead_port}/logout")
    laptop = Device(user, client, secret)
    tokens = laptop.tokens()
    with django_capture_on_commit_callbacks(execute=True):
        response = laptop.api.post("/api/sessions/logout-all", **bearer(tokens["access_token"]))
    assert response.status_code == 204  # the logout completed
    assert BrowserClient().get("/api/me", **bearer(tokens["access_token"])).status_code == 401

    started = timezone.now()
    assert "1 to retry" in run_command()
    row = BackchannelLogout.objects.get()
    assert row.attempts == 1 and row.delivered_at is None and row.last_error == "ConnectionError"
    assert timedelta(seconds=14) < row.next_attempt_at - started < timedelta(seconds=20)
    assert "0 delivered, 0 to retry" in run_command()  # not due yet

    BackchannelLogout.objects.update(next_attempt_at=timezone.now())
    run_command()
    row.refresh_from_db()
    assert row.attempts == 2
    assert timedelta(seconds=29) < row.next_attempt_at - timezone.now() < timedelta(seconds=31)

    # The client comes back (here: at another address); the next run delivers.
    client.backchannel_logout_uri = receiver.uri
    client.save()
    BackchannelLogout.objects.update(next_attempt_at=timezone.now())
    assert "1 delivered" in run_command()
    verify_logout_token(receiver.logout_tokens[0], client.client_id)


def test_delivery_gives_up_after_the_last_attempt(user, rp, receiver, settings, django_capture_on_commit_callbacks):
    settings.BACKCHANNEL_LOGOUT_MAX_ATTEMPTS = 2
    receiver.status = 500
    laptop = device_of(user, rp)
    tokens = laptop.tokens()
    with django_capture_on_commit_callbacks(execute=True):
        laptop.api.post("/api/sessions/logout-all", **bearer(tokens["access_token"]))
    assert backchannel.deliver_due().retrying
    BackchannelLogout.objects.update(next_attempt_at=timezone.now())
    assert backchannel.deliver_due().given_up
    row = BackchannelLogout.objects.get()
    assert row.next_attempt_at is None and row.delivered_at is None and row.last_error == "HTTP 500"


def test_backoff_doubles_up_to_an_hour():
    assert [backchannel.backoff(n) for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert backchannel.backoff(30) == 3600


def test_the_purge_removes_delivered_and_given_up_rows(rp, settings):
    settings.BACKCHANNEL_LOGOUT_RETENTION_SECONDS = 60
    client, _ = rp
    old = timezone.now() - timedelta(minutes=5)

    def row(**fields):
        return BackchannelLogout.objects.create(client=client, subject="s", jti=str(time.monotonic_ns()), **fields)

    keep = [row(next_attempt_at=old), row(delivered_at=timezone.now())]
    row(delivered_at=old)
    row(created_at=old, next_attempt_at=None)
    assert purge.purge_backchannel_logouts(now=timezone.now(), batch_size=1) == 2
    assert set(BackchannelLogout.objects.values_list("pk", flat=True)) == {r.pk for r in keep}


@pytest.mark.parametrize(
    "uri", ["http://rp.example.com/logout", "ftp://127.0.0.1/x", "https://rp.example.com/logout#frag", "javascript:x"]
)
def test_a_backchannel_logout_uri_must_be_https_or_loopback(make_client, uri):
    with pytest.raises(flows.ClientError) as caught:
        make_client(backchannel_logout_uri=uri)
    assert "backchannel_logout_uri" in caught.value.errors


def test_create_client_registers_a_backchannel_logout_uri():
    out = StringIO()
    call_command(
        "create_client",
        "--name=RP",
        "--grant-types=authorization_code,refresh_token",
        "--redirect-uri=https://rp.example.com/cb",
        "--backchannel-logout-uri=https://rp.example.com/backchannel",
        "--json",
        stdout=out,
    )
    assert json.loads(out.getvalue())["backchannel_logout_uri"] == "https://rp.example.com/backchannel"


@pytest.mark.django_db(transaction=True)
def test_delivery_happens_in_the_background_after_the_commit(user, rp, receiver):
    """No captured callbacks here: the logout commits, and a worker thread POSTs the token."""
    laptop = device_of(user, rp)
    tokens = laptop.tokens()
    response = laptop.api.post("/api/sessions/logout-all", **bearer(tokens["access_token"]))
    assert response.status_code == 204
    assert receiver.arrived.wait(timeout=10), "no logout token arrived"
    verify_logout_token(receiver.logout_tokens[0], rp[0].client_id)
    # Let the worker finish recording the delivery before reading the row: polling the table
    # meanwhile would race the worker's write on SQLite's in-memory test database (table locks).
    backchannel.shutdown(wait=True)
    assert BackchannelLogout.objects.get().delivered_at is not None


@pytest.mark.postgres  # SELECT ... FOR UPDATE SKIP LOCKED
@pytest.mark.django_db(transaction=True)
def test_a_row_another_process_is_delivering_is_skipped_not_waited_for(user, rp, receiver):
    client, _ = rp
    row = BackchannelLogout.objects.create(
        client=client, subject=user.subject, jti="j1", next_attempt_at=timezone.now()
    )
    locked, release = threading.Event(), threading.Event()

    def other_process():
        with transaction.atomic():
            BackchannelLogout.objects.select_for_update().get(pk=row.pk)
            locked.set()
            release.wait(10)
        connection.close()

    worker = threading.Thread(target=other_process)
    worker.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        report = backchannel.deliver_due()
        assert time.monotonic() - started < 2
        assert not report.delivered and not receiver.requests
    finally:
        release.set()
        worker.join()
    assert backchannel.deliver_due().delivered == [row.pk]
