"""The discovery documents, the JWKS and the health probes in the OpenAPI description.

Plain Django views, described by hand and merged into drf-spectacular's schema by
`add_discovery_endpoints` (a postprocessing hook named in SPECTACULAR_SETTINGS). The metadata
schema is built from the fields `metadata.server_metadata` answers, so the two cannot drift.
"""

from django.urls import reverse

from . import metadata

JSON = "application/json"

_URL = {"type": "string", "format": "uri"}
_LIST = {"type": "array", "items": {"type": "string"}}
_FLAG = {"type": "boolean"}
_URLS = {
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "revocation_endpoint",
    "introspection_endpoint",
    "end_session_endpoint",
}
# Fields other branches add (registration_endpoint, …) are allowed: additionalProperties.
METADATA_REQUIRED = ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported"]


def metadata_schema():
    """The schema of the metadata document (RFC 8414 2, OpenID Connect Discovery 1.0 3)."""
    properties = {}
    for name, value in metadata.server_metadata().items():
        # registration_endpoint is there only while CLIENT_REGISTRATION is token or open.
        if name in _URLS or name.endswith(("_endpoint", "_uri")):
            properties[name] = _URL
        elif isinstance(value, bool):
            properties[name] = _FLAG
        elif isinstance(value, str):
            properties[name] = {"type": "string"}
        else:
            properties[name] = _LIST
    return {
        "type": "object",
        "description": "Authorization server metadata (RFC 8414 2); the OpenID Connect Discovery 1.0 fields too.",
        "required": METADATA_REQUIRED,
        "properties": properties,
        "additionalProperties": True,
    }


JWKS_SCHEMA = {
    "type": "object",
    "description": "The JWK Set (RFC 7517 5): the next, active and retired signing keys, public members only.",
    "required": ["keys"],
    "properties": {
        "keys": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kty", "kid"],
                "properties": {
                    "kty": {"type": "string", "enum": ["RSA"]},
                    "kid": {"type": "string", "description": "The RFC 7638 thumbprint."},
                    "use": {"type": "string", "enum": ["sig"]},
                    "alg": {"type": "string", "enum": ["RS256"]},
                    "n": {"type": "string"},
                    "e": {"type": "string"},
                },
            },
        }
    },
}

HEALTH_SCHEMA = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["ok", "unavailable"]}, "database": {"type": "string"}},
}

PUBLIC = {
    "Cache-Control": {"schema": {"type": "string"}, "description": "`public, max-age=…`"},
    "Access-Control-Allow-Origin": {"schema": {"type": "string"}, "description": "`*`"},
}


def _get(operation_id, summary, description, schema, example, tag="discovery", extra=None):
    responses = {
        "200": {
            "description": "The document.",
            "headers": PUBLIC if tag == "discovery" else {},
            "content": {JSON: {"schema": schema, "example": example}},
        },
        **(extra or {}),
    }
    return {
        "get": {
            "tags": [tag],
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "security": [],
            "responses": responses,
        }
    }


def _operations():
    document = {"$ref": "#/components/schemas/ServerMetadata"}
    example = {
        "issuer": "https://id.example.com",
        "authorization_endpoint": "https://id.example.com/oauth/authorize/",
        "token_endpoint": "https://id.example.com/oauth/token/",
        "jwks_uri": "https://id.example.com/.well-known/jwks.json",
        "response_types_supported": ["code"],
    }
    unavailable = {
        "503": {
            "description": "The database does not answer, or migrations are pending.",
            "content": {
                JSON: {
                    "schema": HEALTH_SCHEMA,
                    "example": {"status": "unavailable", "database": "migrations pending"},
                }
            },
        }
    }
    return {
        reverse("openid-configuration"): _get(
            "openid_configuration",
            "OpenID Connect Discovery 1.0",
            "Every endpoint and capability; clients configure themselves from it.",
            document,
            example,
        ),
        reverse("oauth-authorization-server"): _get(
            "oauth_authorization_server",
            "Authorization server metadata (RFC 8414)",
            "The same document as the OpenID Connect discovery one.",
            document,
            example,
        ),
        reverse("jwks"): _get(
            "jwks",
            "The signing keys (JWKS)",
            "Verify access tokens and ID tokens offline with the key named by the token's `kid`.",
            {"$ref": "#/components/schemas/JWKS"},
            {
                "keys": [
                    {
                        "kty": "RSA",
                        "kid": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
                        "use": "sig",
                        "alg": "RS256",
                        "n": "…",
                        "e": "AQAB",
                    }
                ]
            },
        ),
        reverse("health-live"): _get(
            "health_live",
            "Liveness",
            "The process is up (nothing else checked).",
            HEALTH_SCHEMA,
            {"status": "ok"},
            "health",
        ),
        reverse("health-ready"): _get(
            "health_ready",
            "Readiness",
            "The database answers and every migration is applied.",
            HEALTH_SCHEMA,
            {"status": "ok"},
            "health",
            unavailable,
        ),
    }


def add_discovery_endpoints(result, generator, request, public):
    """drf-spectacular postprocessing hook: /.well-known/ and /health/."""
    result["paths"].update(_operations())
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ServerMetadata"] = metadata_schema()
    schemas["JWKS"] = JWKS_SCHEMA
    result.setdefault("tags", []).extend(
        [
            {"name": "discovery", "description": "Discovery (RFC 8414, OpenID Connect Discovery 1.0) and the JWKS."},
            {"name": "health", "description": "Probes for load balancers and orchestrators."},
        ]
    )
    return result
