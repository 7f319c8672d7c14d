"""`purge_expired`'s token purger: batch by batch, what it keeps, and what it never waits on."""

import threading
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.models.signals import post_delete, pre_delete
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import Flow, basic, bearer, form_post
from core import purge as purgers
from oauth import purge, receivers, resource, tokens
from oauth.jws import verify_access_token
from oauth.models import AccessToken, IDToken, RefreshToken
from sso import revocation

pytestmark = pytest.mark.django_db


def purge_tokens(*args):
    out = StringIO()
    call_command("purge_expired", "--only", "oauth.tokens", *args, stdout=out)
    return out.getvalue()


def expired_rows(client, count, *, user=None, ago=timedelta(minutes=5)):
    """`count` access-token rows that expired `ago`, with nothing pointing to them."""
    expires = timezone.now() - ago
    return AccessToken.objects.bulk_create(
        AccessToken(
            token=f"expired-{uuid.uuid4()}", jti=uuid.uuid4().hex, expires=expires, application=client, user=user
        )
        for _ in range(count)
    )


def expire(access_token):
    """Age the row of `access_token` (the string a client holds) past its expiry."""
    row = AccessToken.objects.get(jti=access_token_jti(access_token))
    row.expires = timezone.now() - timedelta(minutes=5)
    row.save(update_fields=["expires"])
    return row


def access_token_jti(access_token):
    return verify_access_token(access_token)["jti"]


def deletes_of(queries, table):
    return [q["sql"] for q in queries if q["sql"].startswith(f'DELETE FROM "{table}"')]


def test_expired_access_tokens_go_in_batches_of_the_given_size(service):
    client, _ = service
    expired_rows(client, 7)
    live = AccessToken.objects.create(
        token="live", jti="live", expires=timezone.now() + timedelta(minutes=5), application=client
    )
    with CaptureQueriesContext(connection) as ctx, purgers.recording() as batches:
        assert purge.purge_tokens(now=timezone.now(), batch_size=3) == 7
    # One DELETE per batch, each its own transaction; the last one finds nothing left.
    deletes = deletes_of(ctx.captured_queries, "oauth_accesstoken")
    assert len(deletes) == 4 and all("LIMIT 3" in sql for sql in deletes)
    # Refresh tokens (none), access tokens (3 + 3 + 1, then nothing left), ID tokens (none).
    assert [rows for rows, _ in batches] == [0, 3, 3, 1, 0, 0]
    assert list(AccessToken.objects.all()) == [live]


def test_expired_access_token_of_a_live_refresh_token_stays_and_still_refreshes(flow):
    issued = flow.tokens()
    expire(issued["access_token"])
    expired_rows(flow.client, 2)
    assert purge_tokens().strip() == "oauth.tokens: 2 deleted"
    assert RefreshToken.objects.filter(access_token__isnull=False).count() == 1
    response = flow.refresh(issued["refresh_token"])
    assert response.status_code == 200, response.content


def test_live_tokens_stay_acceptable(flow, service):
    """Whenever Redis does not know a token (here: always, as nothing is committed), the
    revocation store asks whether its row exists: the purge must leave every unexpired row."""
    user_token = flow.tokens()["access_token"]
    client, secret = service
    auth = basic(client.client_id, secret)
    response = form_post(flow.api, "/oauth/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=auth)
    service_token = response.json()["access_token"]
    expired_rows(client, 3)
    assert purge_tokens().strip() == "oauth.tokens: 3 deleted"
    assert AccessToken.objects.count() == 2
    tokens.forget_verified_tokens()
    assert resource.authenticate_bearer(service_token).is_client_token
    assert flow.api.get("/api/me", **bearer(user_token)).status_code == 200


def test_expired_rows_are_deleted_without_telling_the_revocation_store(service, monkeypatch):
    """No signal, no instance: the one receiver would have done nothing for them anyway."""
    forgotten, sent = [], []
    monkeypatch.setattr(revocation, "forget_token", forgotten.append)
    post_delete.connect(
        lambda **kwargs: sent.append(kwargs["instance"]), sender=AccessToken, weak=False, dispatch_uid="t"
    )
    try:
        expired_rows(service[0], 4)
        assert purge_tokens().strip() == "oauth.tokens: 4 deleted"
        assert sent == []
        # The same rows deleted through the ORM: the receiver runs, and does nothing.
        expired_rows(service[0], 2)
        AccessToken.objects.all().delete()
        assert len(sent) == 2
    finally:
        post_delete.disconnect(sender=AccessToken, dispatch_uid="t")
    assert forgotten == []


def test_the_purge_skips_only_what_it_accounts_for():
    """`purge.expired_access_tokens` deletes without Django's collector because these are the
    only receivers and relations of AccessToken (see its docstring). A new one must be looked
    at there, before this list is changed."""
    assert post_delete._live_receivers(AccessToken) == ([receivers.forget_deleted_access_token], [])
    assert pre_delete._live_receivers(AccessToken) == ([], [])
    relations = [(r.related_model, r.field.name, r.on_delete.__name__) for r in AccessToken._meta.related_objects]
    assert relations == [(RefreshToken, "access_token", "SET_NULL")]


def test_expired_id_tokens_go_once_their_access_token_has_gone(flow):
    issued = flow.tokens(scope="openid profile")
    row = expire(issued["access_token"])
    id_token = IDToken.objects.get()
    IDToken.objects.filter(pk=id_token.pk).update(expires=timezone.now() - timedelta(minutes=5))
    purge_tokens()
    assert IDToken.objects.filter(pk=id_token.pk).exists()  # its access token anchors a refresh token
    RefreshToken.objects.filter(access_token=row).update(revoked=timezone.now() - timedelta(days=400))
    purge_tokens()
    assert not AccessToken.objects.exists()
    assert not IDToken.objects.exists()


@pytest.mark.postgres("row locks: SQLite has one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_token_requests_do_not_wait_for_a_running_batch(user, confidential, service, monkeypatch):
    """While a batch holds its transaction (and its row locks) open in another connection,
    a client-credentials request and the refresh of a token whose access token has expired
    (kept: it anchors the refresh token) are answered, with no lock wait."""
    web = Flow(user, *confidential)
    issued = web.tokens()
    expire(issued["access_token"])
    client, secret = service
    expired_rows(client, 6)
    in_batch, release = threading.Event(), threading.Event()
    delete_raw = purgers._delete_raw

    def paused(batch):
        result = delete_raw(batch)
        if result[0]:
            in_batch.set()
            release.wait(30)
        return result

    monkeypatch.setattr(purgers, "_delete_raw", paused)
    outcome = []

    def purge_in_another_connection():
        try:
            outcome.append(purge_tokens("--batch-size", "4"))
        finally:
            connections.close_all()

    purger = threading.Thread(target=purge_in_another_connection)
    purger.start()
    try:
        assert in_batch.wait(30), "the purge never reached its first batch"
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a lock wait fails the request, not the test run
        response = form_post(
            web.api,
            "/oauth/token/",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic(client.client_id, secret),
        )
        assert response.status_code == 200, response.content
        response = web.refresh(issued["refresh_token"])
        assert response.status_code == 200, response.content
    finally:
        release.set()
        purger.join(30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert outcome and outcome[0].strip() == "oauth.tokens: 6 deleted"


@pytest.mark.postgres("FOR UPDATE SKIP LOCKED")
@pytest.mark.django_db(transaction=True)
def test_a_row_a_request_holds_is_left_for_the_next_run(service):
    client, _ = service
    rows = expired_rows(client, 3)
    locked, release = threading.Event(), threading.Event()

    def request_holding_a_row():
        from django.db import transaction

        try:
            with transaction.atomic():
                AccessToken.objects.select_for_update().get(pk=rows[1].pk)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=request_holding_a_row)
    holder.start()
    try:
        assert locked.wait(30)
        assert purge_tokens("--batch-size", "2").strip() == "oauth.tokens: 2 deleted"
        assert list(AccessToken.objects.values_list("pk", flat=True)) == [rows[1].pk]
    finally:
        release.set()
        holder.join(30)
    assert purge_tokens().strip() == "oauth.tokens: 1 deleted"
