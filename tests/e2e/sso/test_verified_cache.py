"""The per-process memory of verified access tokens never stands in for the revocation check:
a token remembered by the API process is refused once revoked, on Redis and without it."""

import pytest

from oauth import jws, resource
from tests.e2e.helpers import creds, introspect, me, revoke

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["locmem", "redis"])
def store(request):
    """The revocation store's two back ends (Redis skips without REDIS_URL)."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def signature_checks(monkeypatch):
    calls = []
    check = jws._verified_claims
    monkeypatch.setattr(jws, "_verified_claims", lambda *args: calls.append(args) or check(*args))
    return calls


def test_a_token_revoked_after_it_was_remembered_is_refused(
    store, devices, signature_checks, django_capture_on_commit_callbacks
):
    laptop, _ = devices
    with django_capture_on_commit_callbacks(execute=True):
        access = laptop.tokens()["access_token"]
    assert me(access).status_code == 200
    assert me(access).status_code == 200
    assert len(signature_checks) == 1  # the second call was a cache hit
    with django_capture_on_commit_callbacks(execute=True):
        assert revoke(access, (laptop.client.client_id, laptop.secret)).status_code == 200
    response = me(access)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    with pytest.raises(resource.BearerError, match="revoked"):
        resource.authenticate_bearer(access)
    assert len(signature_checks) == 1  # refused on a cache hit, by the revocation check


def test_introspection_of_a_remembered_token_still_sees_its_revocation(
    store, devices, resource_server, signature_checks, django_capture_on_commit_callbacks
):
    laptop, _ = devices
    with django_capture_on_commit_callbacks(execute=True):
        access = laptop.tokens()["access_token"]
    assert introspect(access, creds(resource_server)).json()["active"] is True
    assert introspect(access, creds(resource_server)).json()["active"] is True
    assert len(signature_checks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert revoke(access, (laptop.client.client_id, laptop.secret)).status_code == 200
    assert introspect(access, creds(resource_server)).json() == {"active": False}
