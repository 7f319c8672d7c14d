from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from core.permissions import HasScope, HasScopeOrSession, InsufficientScope, token_scopes


def request_with(auth, user=None):
    return SimpleNamespace(auth=auth, user=user or AnonymousUser())


def view(*scopes):
    return SimpleNamespace(required_scopes=list(scopes))


class Token:
    """Any object with `scopes` and `claims` is a verified token to these permissions."""

    def __init__(self, *scopes):
        self.scopes = set(scopes)
        self.claims = {"scope": " ".join(scopes)}


def test_a_token_with_the_scopes_passes():
    assert HasScope().has_permission(request_with(Token("read", "write")), view("read"))
    assert token_scopes(request_with(Token("read"))) == {"read"}


def test_a_token_without_them_is_403_insufficient_scope_with_the_challenge():
    with pytest.raises(InsufficientScope) as refused:
        HasScope().has_permission(request_with(Token("read")), view("write", "admin"))
    assert refused.value.status_code == 403
    assert refused.value.detail["error"] == "insufficient_scope"
    assert refused.value.auth_header == 'Bearer realm="identity", error="insufficient_scope", scope="admin write"'


def test_no_token_is_refused_so_drf_answers_401():
    assert token_scopes(request_with(None)) is None
    assert not HasScope().has_permission(request_with(None), view("read"))


def test_a_session_passes_only_where_allowed():
    user = SimpleNamespace(is_authenticated=True)
    assert not HasScope().has_permission(request_with(None, user), view("read"))
    assert HasScopeOrSession().has_permission(request_with(None, user), view("read"))
    assert not HasScopeOrSession().has_permission(request_with(None), view("read"))
