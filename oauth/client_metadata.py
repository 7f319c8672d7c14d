"""Client metadata of dynamic client registration (RFC 7591 2, RFC 7592 2.2). Pure.

`parse` turns a registration request's JSON object into the Client fields it asks for, or raises
MetadataError with the RFC 7591 3.2.2 error code; `render` is the inverse, the metadata of a
registered client as the registration and configuration endpoints answer it. The URL rules are
the admin form's (Client.clean, run by oauth.flows on what `parse` returns); the type and policy
rules (which grants, which scopes, public or confidential) are here.

Fields that RFC 7591 names but this server does not use are ignored, as unknown fields are
(RFC 7591 2): `jwks_uri`, `jwks` (no private_key_jwt), `software_id`, `software_version`,
`software_statement` (no software statements are trusted; RFC 7591 3.1.1 lets a server that does
not support them ignore them), and the language-tagged `client_name#…` variants.
"""

from .models import TOKEN_ENDPOINT_AUTH_METHODS

INVALID_METADATA = "invalid_client_metadata"
INVALID_REDIRECT_URI = "invalid_redirect_uri"
# Grants a client registered over HTTP may use: never the password grant (RFC 9700 2.4), and
# no implicit grant (not supported at all). client_credentials needs a confidential client.
REGISTRABLE_GRANTS = ("authorization_code", "refresh_token", "client_credentials")
RESPONSE_TYPES = ("code",)
MAX_LIST = 20  # entries of one list (redirect URIs, contacts…)
MAX_TEXT = 2000  # characters of one string
# URI metadata, each stored in the Client field of the same name.
URI_FIELDS = ("logo_uri", "client_uri", "policy_uri", "tos_uri", "backchannel_logout_uri")
# Client field -> metadata name, to name a field in an error message as the client knows it.
METADATA_NAME = {
    "name": "client_name",
    "allowed_scopes": "scope",
    "client_type": "token_endpoint_auth_method",
    "grant_types": "grant_types",
}


class MetadataError(Exception):
    """The metadata is refused: `error` is an RFC 7591 3.2.2 code, `description` says why."""

    def __init__(self, error, description):
        super().__init__(description)
        self.error = error
        self.description = description


def _problem(error, description):
    raise MetadataError(error, description)


def _string(data, name, default=""):
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        _problem(INVALID_METADATA, f"{name} must be a string.")
    if len(value) > MAX_TEXT or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        _problem(INVALID_METADATA, f"{name} must be at most {MAX_TEXT} printable characters.")
    return value


def _strings(data, name, *, error=INVALID_METADATA, default=()):
    value = data.get(name)
    if value is None:
        return list(default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _problem(error, f"{name} must be an array of strings.")
    if len(value) > MAX_LIST:
        _problem(error, f"{name} may have at most {MAX_LIST} entries.")
    for entry in value:
        if not entry or len(entry) > MAX_TEXT or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in entry):
            _problem(error, f"Each of {name} must be a non-empty string without spaces or control characters.")
    return list(dict.fromkeys(value))  # duplicates once, in order


def _grants(data):
    grants = _strings(data, "grant_types", default=["authorization_code"])
    if not grants:
        _problem(INVALID_METADATA, "grant_types must not be empty.")
    if unsupported := [g for g in grants if g not in REGISTRABLE_GRANTS]:
        _problem(
            INVALID_METADATA,
            f"Unsupported grant_types: {' '.join(unsupported)} (supported: {' '.join(REGISTRABLE_GRANTS)}).",
        )
    if grants == ["refresh_token"]:
        _problem(INVALID_METADATA, "refresh_token needs a grant that issues refresh tokens (authorization_code).")
    return grants


def _response_types(data, grants):
    # RFC 7591 2.1: response_types and grant_types must agree; "code" goes with
    # authorization_code. Omitted: what the grants need (RFC 7591's default is "code").
    needed = ["code"] if "authorization_code" in grants else []
    response_types = _strings(data, "response_types", default=needed)
    if unsupported := [r for r in response_types if r not in RESPONSE_TYPES]:
        _problem(INVALID_METADATA, f"Unsupported response_types: {' '.join(unsupported)} (supported: code).")
    if bool(response_types) != bool(needed):
        _problem(
            INVALID_METADATA,
            "response_types and grant_types disagree: the response type code goes with the "
            "authorization_code grant, and each needs the other (RFC 7591 2.1).",
        )
    return response_types


def _auth_method(data, *, confidential_allowed):
    default = "client_secret_basic" if confidential_allowed else "none"
    method = _string(data, "token_endpoint_auth_method", default=default)
    if method not in TOKEN_ENDPOINT_AUTH_METHODS:
        _problem(
            INVALID_METADATA,
            f"Unsupported token_endpoint_auth_method (supported: {' '.join(TOKEN_ENDPOINT_AUTH_METHODS)}).",
        )
    if method != "none" and not confidential_allowed:
        _problem(
            INVALID_METADATA,
            "Open registration registers public clients only (token_endpoint_auth_method none); "
            "a confidential client needs an initial access token from the operator.",
        )
    return method


def _scopes(data, allowed_scopes):
    requested = _string(data, "scope").split()
    if not requested:
        return list(allowed_scopes)
    if refused := [s for s in dict.fromkeys(requested) if s not in allowed_scopes]:
        _problem(
            INVALID_METADATA,
            f"These scopes may not be registered: {' '.join(refused)} (allowed: {' '.join(allowed_scopes)}).",
        )
    return list(dict.fromkeys(requested))


def _boolean(data, name):
    value = data.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        _problem(INVALID_METADATA, f"{name} must be true or false.")
    return value


def parse(data, *, confidential_allowed, allowed_scopes):
    """The Client fields (model field names, strings joined) that registration metadata asks
    for. `confidential_allowed`: whether the client may get a secret; `allowed_scopes`: the
    scopes it may be allowed (CLIENT_REGISTRATION_SCOPES). Raises MetadataError."""
    if not isinstance(data, dict):
        _problem(INVALID_METADATA, "The request body must be a JSON object of client metadata.")
    grants = _grants(data)
    _response_types(data, grants)
    method = _auth_method(data, confidential_allowed=confidential_allowed)
    redirect_uris = _strings(data, "redirect_uris", error=INVALID_REDIRECT_URI)
    if "authorization_code" in grants and not redirect_uris:
        _problem(INVALID_REDIRECT_URI, "The authorization_code grant needs at least one redirect URI.")
    contacts = _strings(data, "contacts")
    if any(len(c) > 254 for c in contacts):
        _problem(INVALID_METADATA, "Each of contacts must be at most 254 characters.")
    fields = {
        "name": _string(data, "client_name") or "Unnamed client",
        "client_type": "public" if method == "none" else "confidential",
        "token_endpoint_auth_method": method,
        "grant_types": " ".join(grants),
        "redirect_uris": " ".join(redirect_uris),
        "post_logout_redirect_uris": " ".join(_strings(data, "post_logout_redirect_uris")),
        "allowed_scopes": " ".join(_scopes(data, allowed_scopes)),
        "contacts": contacts,
        "backchannel_logout_session_required": _boolean(data, "backchannel_logout_session_required"),
    }
    fields.update({name: _string(data, name) for name in URI_FIELDS})
    return fields


def error_for(field_errors):
    """The RFC 7591 3.2.2 error (code, description) for Client.clean's field errors."""
    code = INVALID_REDIRECT_URI if "redirect_uris" in field_errors else INVALID_METADATA
    parts = [f"{METADATA_NAME.get(field, field)}: {' '.join(messages)}" for field, messages in field_errors.items()]
    return code, "; ".join(parts)


def render(client):
    """The registered metadata of `client` (RFC 7591 3.2.1), without any credential."""
    grants = client.grant_type_list
    metadata = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created.timestamp()),
        "client_name": client.name,
        "redirect_uris": client.redirect_uris.split(),
        "grant_types": grants,
        "response_types": ["code"] if "authorization_code" in grants else [],
        "token_endpoint_auth_method": client.token_endpoint_auth_method
        or ("none" if client.client_type == client.CLIENT_PUBLIC else "client_secret_basic"),
        "scope": " ".join(client.scope_list),
        "contacts": list(client.contacts),
        "post_logout_redirect_uris": client.post_logout_redirect_uris.split(),
        "backchannel_logout_session_required": client.backchannel_logout_session_required,
    }
    for name in URI_FIELDS:
        if value := getattr(client, name):
            metadata[name] = value
    if client.client_type == client.CLIENT_CONFIDENTIAL:
        metadata["client_secret_expires_at"] = 0  # the secret does not expire (RFC 7591 3.2.1)
    return metadata
