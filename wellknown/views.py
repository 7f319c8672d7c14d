from django.db import Error, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from oauth import keys

from .metadata import server_metadata

METADATA_MAX_AGE = 3600
# Shorter than the key pre-publication period (oauth.checks), so clients see a new key before it signs.
JWKS_MAX_AGE = keys.JWKS_MAX_AGE


def _public(response, max_age):
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def openid_configuration(request):
    return _public(JsonResponse(server_metadata()), METADATA_MAX_AGE)


@require_GET
def authorization_server_metadata(request):
    return _public(JsonResponse(server_metadata()), METADATA_MAX_AGE)


@require_GET
def jwks(request):
    return _public(JsonResponse(keys.public_jwks()), JWKS_MAX_AGE)


# Health answers describe this instant: a cache between us and the prober must not keep them.
@never_cache
@require_GET
def live(request):
    """The process is up (no dependencies checked)."""
    return JsonResponse({"status": "ok"})


_state = {"migrated": False}


def _migrations_pending():
    # Loading the migration graph is slow; once everything is applied, stop looking.
    if _state["migrated"]:
        return False
    executor = MigrationExecutor(connection)
    pending = bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    _state["migrated"] = not pending
    return pending


@never_cache
@require_GET
def ready(request):
    """The database answers and every migration is applied; else 503."""
    # django.db.Error, not DatabaseError: InterfaceError ("connection already closed") is a
    # sibling of DatabaseError, and it too means "not ready", never a 500.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        pending = _migrations_pending()
    except Error:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    if pending:
        return JsonResponse({"status": "unavailable", "database": "migrations pending"}, status=503)
    return JsonResponse({"status": "ok"})
