from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.db.migrations.executor import MigrationExecutor

from wellknown import views


@pytest.fixture(autouse=True)
def _forget_migration_state():
    views._state["migrated"] = False
    yield
    views._state["migrated"] = False


def test_live_needs_no_database(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("down")):
        response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_when_migrated(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_ready_is_503_when_the_database_is_unreachable(client):
    # Fault injection: every new cursor fails as it would with PostgreSQL down.
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "connection refused" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("error", [OperationalError("timeout"), InterfaceError("connection already closed")])
def test_ready_is_503_whatever_the_database_error(client, error):
    with mock.patch.object(connection, "cursor", side_effect=error):
        assert client.get("/health/ready").status_code == 503


@pytest.mark.django_db
def test_ready_is_503_when_the_migration_check_fails(client):
    with mock.patch.object(MigrationExecutor, "migration_plan", side_effect=OperationalError("lost")):
        assert client.get("/health/ready").status_code == 503


@pytest.mark.django_db
def test_ready_is_503_after_the_database_goes_away(client):
    assert client.get("/health/ready").status_code == 200
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("server closed the connection")):
        assert client.get("/health/ready").status_code == 503
    assert client.get("/health/ready").status_code == 200


@pytest.mark.django_db
def test_ready_is_503_when_migrations_are_pending(client):
    with mock.patch.object(MigrationExecutor, "migration_plan", return_value=[("pending", False)]):
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["database"] == "migrations pending"


@pytest.mark.django_db
def test_health_answers_are_not_cached(client):
    for url in ("/health/live", "/health/ready"):
        assert "no-store" in client.get(url).get("Cache-Control", "")
