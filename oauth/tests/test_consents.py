"""oauth.consents: storing approvals, and when one may answer a request without asking."""

import pytest

from conftest import run_concurrently
from oauth import consents, display
from oauth.models import Consent


def test_covers_the_same_or_fewer_scopes():
    assert consents.covers({"openid", "profile"}, ["openid", "profile"])
    assert consents.covers({"openid", "profile"}, ["profile"])
    assert not consents.covers({"openid"}, ["openid", "email"])
    assert not consents.covers(set(), ["openid"])
    assert not consents.covers({"openid"}, [])  # nothing asked is nothing approved


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("public", "redirect_uri", "silent"),
    [
        (False, "http://127.0.0.1:8765/callback", True),  # confidential: authenticates at the token endpoint
        (True, "https://spa.example/callback", True),
        (True, "http://127.0.0.1:7000/cb", False),  # RFC 8252 8.6: any local program could listen there
        (True, "http://localhost:7000/cb", False),
        (True, "http://[::1]:7000/cb", False),
    ],
)
def test_only_clients_whose_identity_is_assured_are_answered_silently(make_client, public, redirect_uri, silent):
    client = make_client(public=public, redirect_uris=[redirect_uri])[0]
    assert consents.may_answer_silently(client=client, redirect_uri=redirect_uri) is silent


@pytest.mark.django_db
def test_remember_widens_to_the_union_and_keeps_the_first_time(user, confidential):
    client = confidential[0]
    first = consents.remember(user=user, client=client, scopes=["profile", "openid"])
    assert first.scopes == "openid profile"  # sorted
    again = consents.remember(user=user, client=client, scopes=["profile"])
    assert again.updated_at == first.updated_at  # nothing new: untouched
    wider = consents.remember(user=user, client=client, scopes=["email"])
    assert wider.scope_set == {"openid", "profile", "email"}
    assert wider.created_at == first.created_at and wider.updated_at > first.updated_at
    assert consents.granted_scopes(user=user, client=client) == {"openid", "profile", "email"}
    assert Consent.objects.count() == 1


@pytest.mark.django_db
def test_forget(user, confidential):
    consents.remember(user=user, client=confidential[0], scopes=["profile"])
    assert consents.forget(user=user, client=confidential[0]) is True
    assert consents.granted_scopes(user=user, client=confidential[0]) == frozenset()
    assert consents.forget(user=user, client=confidential[0]) is False


@pytest.mark.postgres("concurrent transactions, row locks")
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_end_in_one_row_with_every_scope(user, confidential):
    client = confidential[0]
    scopes = [["openid"], ["profile"], ["email"], ["read"]]

    def approve():
        return consents.remember(user=user, client=client, scopes=scopes.pop())  # list.pop is atomic

    _, errors = run_concurrently(approve, 4)
    assert not errors
    assert Consent.objects.get().scope_set == {"openid", "profile", "email", "read"}


@pytest.mark.parametrize(
    ("uri", "origin"),
    [
        ("https://cdn.example/logo.png", "https://cdn.example"),
        ("https://cdn.example:8443/a/b.svg?x=1", "https://cdn.example:8443"),
        ("https://user:pw@cdn.example/logo.png", "https://cdn.example"),
        ("http://127.0.0.1:9000/logo.png", "http://127.0.0.1:9000"),
        ("", None),
        ("javascript:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
    ],
)
def test_logo_origin(uri, origin):
    assert display.logo_origin(uri) == origin


def test_dots_token_based_auto_approval_is_refused_by_a_system_check(settings):
    from oauth.checks import approval_prompt_check

    assert approval_prompt_check(None) == []
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REQUEST_APPROVAL_PROMPT": "auto"}
    assert [error.id for error in approval_prompt_check(None)] == ["oauth.E020"]
