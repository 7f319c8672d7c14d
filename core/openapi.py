"""The pieces every API view describes itself with in OpenAPI (drf-spectacular's extend_schema),
so that each endpoint documents its security and its error answers the same way.

Security schemes, by name (their definitions: oauth.openapi registers `oauth2` for the access
token authentication class; drf-spectacular registers `cookieAuth` for DRF's
SessionAuthentication):
- `oauth2`: `Authorization: Bearer <access token>`, an RS256 JWT of this server, carrying the
  scopes listed in the operation's security requirement;
- `cookieAuth`: the browser's session cookie (unsafe methods need the CSRF token).
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

BEARER = "oauth2"
SESSION = "cookieAuth"


class ErrorSerializer(serializers.Serializer):
    """DRF's `{"detail": …}` or the RFC 6750 `{"error", "error_description"}` of a refused token."""

    detail = serializers.CharField(required=False, help_text="What went wrong (DRF's errors).")
    error = serializers.CharField(
        required=False, help_text="An error code: `invalid_token`, `insufficient_scope`, or the endpoint's own."
    )
    error_description = serializers.CharField(required=False, help_text="The error, for a developer to read.")

    class Meta:
        ref_name = "Error"


class FieldErrorsSerializer(serializers.Serializer):
    """400: each invalid field named with its messages (or `detail` for an unreadable body)."""

    detail = serializers.CharField(required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        ref_name = "FieldErrors"


_EXAMPLES = {
    400: [OpenApiExample("Invalid field", value={"email": ["Enter a valid email address."]}, status_codes=["400"])],
    401: [
        OpenApiExample(
            "No token",
            value={"detail": "Authentication credentials were not provided."},
            status_codes=["401"],
        ),
        OpenApiExample(
            "Bad token",
            value={"error": "invalid_token", "error_description": "The access token expired."},
            status_codes=["401"],
        ),
    ],
    403: [
        OpenApiExample(
            "Scope missing",
            value={"error": "insufficient_scope", "error_description": "This call needs the scope: profile."},
            status_codes=["403"],
        )
    ],
    404: [OpenApiExample("Unknown", value={"detail": "Not found."}, status_codes=["404"])],
    429: [
        OpenApiExample(
            "Throttled",
            value={"detail": "Request was throttled. Expected available in 60 seconds."},
            status_codes=["429"],
        )
    ],
}

_MEANINGS = {
    400: "The body or a parameter is invalid (each field named with its messages).",
    401: "No credentials, or a bad, expired or revoked access token (`WWW-Authenticate: Bearer …`).",
    403: "The token lacks a scope, or the caller a role or permission (`insufficient_scope`); "
    "or a session request without its CSRF token.",
    404: "No such resource.",
    409: "The request conflicts with the resource's state.",
    415: "The body is not JSON.",
    429: "Too many requests: retry after `Retry-After` seconds.",
}


def errors(*codes, **meanings):
    """`{status: OpenApiResponse}` for the error answers `codes`; `meanings` overrides a
    description (`e409="Already enabled."`)."""
    answers = {}
    for code in codes:
        serializer = FieldErrorsSerializer if code == 400 else ErrorSerializer
        description = meanings.get(f"e{code}", _MEANINGS.get(code, ""))
        answers[code] = OpenApiResponse(serializer, description=description, examples=_EXAMPLES.get(code, []))
    return answers


# The error answers of every authenticated endpoint.
AUTHENTICATED = (401, 403)


def token(*scopes):
    """The security requirement: an access token carrying `scopes` (no session)."""
    return [{BEARER: list(scopes)}]


def token_or_session(*scopes):
    """An access token carrying `scopes`, or the browser's session cookie."""
    return [{BEARER: list(scopes)}, {SESSION: []}]
