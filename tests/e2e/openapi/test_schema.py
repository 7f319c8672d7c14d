"""The OpenAPI description (/api/schema/): it loads, it is valid OpenAPI 3, and it describes
every URL pattern of the JSON surface (/api/, /oauth/, /.well-known/)."""

import re

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.validation import validate_schema

DESCRIBED_PREFIXES = ("api/", "oauth/", ".well-known/")
# URL patterns under those prefixes that are not in the description, each with its reason.
NOT_DESCRIBED = {
    "/api/schema/": "the description itself",
    "/api/docs/": "the browsable page of the description (HTML, and its ?script)",
}


def _routes(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route


def _as_openapi_path(route):
    """`sessions/<uuid:public_id>` → `/sessions/{public_id}` (every pattern here is a path())."""
    assert not route.startswith("^"), f"a regex pattern, which this test cannot read: {route}"
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


@pytest.fixture(scope="module")
def schema():
    from django.test import Client

    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


pytestmark = pytest.mark.django_db


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # drf-spectacular's OpenAPI 3.0 JSON schema; raises when invalid


def test_schema_generates_without_a_warning(tmp_path):
    # A view drf-spectacular cannot read (no serializer, an untyped field) is a warning here.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_every_url_pattern_of_the_json_surface_is_described(schema):
    routes = {_as_openapi_path(r) for r in _routes(get_resolver()) if r.startswith(DESCRIBED_PREFIXES)}
    assert "/oauth/token/" in routes and "/api/me" in routes  # the walk found the URL conf
    undescribed = routes - set(schema["paths"]) - set(NOT_DESCRIBED)
    assert not undescribed, f"add these to the OpenAPI description (oauth/openapi.py, extend_schema): {undescribed}"
    assert set(NOT_DESCRIBED) <= routes, "NOT_DESCRIBED names a path that is gone"


def test_every_described_path_exists(schema):
    routes = {_as_openapi_path(r) for r in _routes(get_resolver())}
    assert set(schema["paths"]) <= routes


def _refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_and_security_scheme_resolves(schema):
    for ref in _refs(schema):
        kind, name = ref.removeprefix("#/components/").split("/")
        assert name in schema["components"][kind], ref
    schemes = schema["components"]["securitySchemes"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for requirement in operation.get("security", []):
                assert set(requirement) <= set(schemes), (method, path, requirement)


def _json_success(operation):
    for code, response in operation["responses"].items():
        if code.startswith("2") and "application/json" in response.get("content", {}):
            yield response["content"]["application/json"]


def test_each_operation_documents_its_errors_and_an_example(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            if any(requirement for requirement in operation.get("security", [])):
                assert "401" in operation["responses"] or "403" in operation["responses"], where
            if not path.startswith(("/.well-known/", "/health/live")):
                assert any(code[0] in "45" for code in operation["responses"]), f"{where} documents no error"
            for body in _json_success(operation):
                assert "example" in body or "examples" in body, f"{where} has no example"


@pytest.mark.parametrize(
    ("path", "method", "scopes"),
    [
        ("/api/me", "get", ["profile"]),
        ("/api/sessions/", "get", ["profile"]),
        ("/api/me/totp/", "post", ["mfa"]),
        ("/api/admin/users/", "get", ["roles"]),
        ("/api/audit/", "get", ["roles"]),
        ("/oauth/userinfo/", "get", ["openid"]),
    ],
)
def test_bearer_operations_name_their_scopes(schema, path, method, scopes):
    assert {"oauth2": scopes} in schema["paths"][path][method]["security"]


def test_token_endpoint_describes_each_grant_and_the_rfc_errors(schema):
    token = schema["paths"]["/oauth/token/"]["post"]
    grants = token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["oneOf"]
    names = {
        schema["components"]["schemas"][g["$ref"].rsplit("/", 1)[1]]["properties"]["grant_type"]["enum"][0]
        for g in grants
    }
    metadata = schema["components"]["schemas"]["ServerMetadata"]
    assert "grant_types_supported" in metadata["properties"]
    from wellknown.metadata import server_metadata

    assert names == set(server_metadata()["grant_types_supported"])
    errors = schema["components"]["schemas"]["OAuthError"]["properties"]["error"]["enum"]
    assert {"invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type", "invalid_scope"} <= set(
        errors
    )


def _grant_names(schema):
    token = schema["paths"]["/oauth/token/"]["post"]
    grants = token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["oneOf"]
    return {g["$ref"].rsplit("/", 1)[1] for g in grants}


def test_the_password_grant_is_described_only_while_it_is_on_and_then_deprecated(schema, settings):
    from django.test import Client

    from wellknown.metadata import server_metadata

    assert "PasswordGrant" not in _grant_names(schema) and "PasswordGrant" not in schema["components"]["schemas"]
    settings.OAUTH_PASSWORD_GRANT_ENABLED = True
    on = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    validate_schema(on)
    assert "PasswordGrant" in _grant_names(on)
    password = on["components"]["schemas"]["PasswordGrant"]
    assert password["deprecated"] is True and password["properties"]["grant_type"]["enum"] == ["password"]
    names = {on["components"]["schemas"][name]["properties"]["grant_type"]["enum"][0] for name in _grant_names(on)}
    assert names == set(server_metadata()["grant_types_supported"])


@pytest.mark.parametrize(
    ("mode", "security"),
    [
        ("closed", [{"initialAccessToken": []}]),
        ("token", [{"initialAccessToken": []}]),
        ("open", [{"initialAccessToken": []}, {}]),
    ],
)
def test_the_registration_endpoint_follows_client_registration(settings, mode, security):
    from django.test import Client

    settings.CLIENT_REGISTRATION = mode
    described = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    register = described["paths"]["/oauth/register/"]["post"]
    assert register["security"] == security and f"This server: `{mode}`" in register["description"]
    assert {"201", "400", "401", "403", "429"} <= set(register["responses"])
    configuration = described["paths"]["/oauth/register/{client_id}/"]
    assert set(configuration) == {"get", "put", "delete"}
    assert all(op["security"] == [{"registrationAccessToken": []}] for op in configuration.values())
    assert set(configuration["delete"]["responses"]) >= {"204", "401"}
    errors = described["components"]["schemas"]["RegistrationError"]["properties"]["error"]["enum"]
    assert {"invalid_redirect_uri", "invalid_client_metadata", "invalid_token", "access_denied"} <= set(errors)
    # Discovery lists the endpoint while registration is not closed: a URL, as in the document.
    metadata = described["components"]["schemas"]["ServerMetadata"]["properties"]
    assert ("registration_endpoint" in metadata) == (mode != "closed")
    if mode != "closed":
        assert metadata["registration_endpoint"] == {"type": "string", "format": "uri"}


def test_a_closed_registration_endpoint_answers_its_documented_403(schema, settings):
    import jsonschema
    from django.test import Client

    settings.CLIENT_REGISTRATION = "closed"
    answer = Client().post("/oauth/register/", {"redirect_uris": []}, content_type="application/json")
    documented = schema["paths"]["/oauth/register/"]["post"]["responses"][str(answer.status_code)]
    assert answer.status_code == 403 and answer.json()["error"] == "access_denied"
    assert documented["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RegistrationError"}
    jsonschema.validate(answer.json(), schema["components"]["schemas"]["RegistrationError"])
