"""handler500: a database that cannot answer is a 503 with Retry-After, anything else a 500.

Through Django's own uncaught-exception path (the one a view or a middleware takes); the live
scenarios with a stopped and a stalled PostgreSQL are in tests/faults/test_postgres.py."""

import json

import pytest
from django.core.handlers.exception import response_for_exception
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError


def answer(rf, path, exc, **headers):
    request = rf.get(path, **headers)
    try:
        raise exc
    except Exception as raised:
        return response_for_exception(request, raised)


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False  # with DEBUG on, Django shows its technical 500 page instead


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("connection refused"),
        OperationalError("canceling statement due to statement timeout"),
        InterfaceError("connection already closed"),
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "/api/me",
        "/oauth/userinfo/",
        "/api/sessions/",
        "/.well-known/jwks.json",
        "/oauth/token/",
        "/oauth/introspect/",
        "/oauth/revoke/",
    ],
)
def test_an_unavailable_database_is_a_json_503_at_the_apis(rf, exc, path):
    response = answer(rf, path, exc)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"  # as every token-endpoint answer (RFC 6749 5.1)
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["error"] == "temporarily_unavailable"


@pytest.mark.parametrize("path", ["/accounts/login/", "/oauth/authorize/", "/accounts/profile/", "/oauth/logout/"])
def test_an_unavailable_database_is_an_html_503_on_the_pages(rf, path):
    response = answer(rf, path, OperationalError("connection refused"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert (response["Cache-Control"], response["Pragma"]) == ("no-store", "no-cache")
    assert response["Content-Type"].startswith("text/html")
    assert b"Temporarily unavailable" in response.content


def test_a_page_asked_for_json_answers_json(rf):
    response = answer(rf, "/accounts/login/", OperationalError("connection refused"), HTTP_ACCEPT="application/json")
    assert response.status_code == 503 and json.loads(response.content)["error"] == "temporarily_unavailable"


@pytest.mark.parametrize("exc", [IntegrityError("duplicate key"), DatabaseError("syntax error"), ValueError("bug")])
def test_other_errors_stay_500(rf, exc):
    """A failed constraint or a bad query is a bug to fix, not a reason to retry."""
    response = answer(rf, "/api/me", exc)
    assert response.status_code == 500
    assert not response.has_header("Retry-After")
