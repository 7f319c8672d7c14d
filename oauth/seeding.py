"""Clients from a file (`manage.py seed_clients`): check every entry, then create or update
clients by name, all or nothing.

The file: `{"clients": [{"name": …, "grant_types": [...], "redirect_uris": [...], "scopes": "…",
"public": false, "trusted": false, …}]}` (FIELDS lists every key). An entry's keys set those
fields exactly; a key left out leaves the client's field as it is (an operator's edit in the
admin stays). New clients get a generated secret, returned once; an existing client's secret
is never shown again nor changed. The checks are the admin's and create_client's
(Client.full_clean: redirect URIs, grant types, origins, scopes).
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.generators import generate_client_secret

from . import flows
from .models import Client

# key -> (Client attribute, kind)
FIELDS = {
    "name": ("name", str),
    "grant_types": ("grant_types", list),
    "redirect_uris": ("redirect_uris", list),
    "post_logout_redirect_uris": ("post_logout_redirect_uris", list),
    "allowed_origins": ("allowed_origins", list),
    "scopes": ("allowed_scopes", str),
    "public": ("client_type", bool),
    "trusted": ("skip_authorization", bool),
    "can_introspect_any": ("can_introspect_any", bool),
    "backchannel_logout_uri": ("backchannel_logout_uri", str),
    "backchannel_logout_session_required": ("backchannel_logout_session_required", bool),
    "logo_uri": ("logo_uri", str),
    "client_uri": ("client_uri", str),
    "policy_uri": ("policy_uri", str),
    "tos_uri": ("tos_uri", str),
    "access_token_lifetime": ("access_token_lifetime", int),
    "refresh_token_lifetime": ("refresh_token_lifetime", int),
    "id_token_lifetime": ("id_token_lifetime", int),
    "audience": ("audience", list),
    "token_endpoint_auth_method": ("token_endpoint_auth_method", str),
}
KEY_OF = {attribute: key for key, (attribute, _) in FIELDS.items()}
REQUIRED = ("name", "grant_types")
# What create_client's full_clean leaves out: generated, or derived on save.
UNCHECKED = ["client_id", "client_secret", "user", "authorization_grant_type"]


class SeedError(Exception):
    """The file is refused; `problems` are "clients[2] (name 'x'): field: message" lines."""

    def __init__(self, problems):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Plan:
    created: list = field(default_factory=list)  # entries' values, for clients to create
    updated: list = field(default_factory=list)  # (client, {attribute: value}) changed fields
    unchanged: list = field(default_factory=list)  # clients


def _values(entry):
    """{Client attribute: value} for an entry's keys, or raise ValueError(key, message)."""
    values = {}
    for key, raw in entry.items():
        if key not in FIELDS:
            raise ValueError(key, f"unknown field (known: {', '.join(FIELDS)})")
        attribute, kind = FIELDS[key]
        if kind is list and key != "scopes":
            if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
                raise ValueError(key, "must be a list of strings")
            value = " ".join(raw)
        elif kind is int:  # seconds; null: the server's setting
            if raw is not None and (not isinstance(raw, int) or isinstance(raw, bool)):
                raise ValueError(key, "must be a whole number of seconds, or null")
            value = raw
        elif kind is bool:
            if not isinstance(raw, bool):
                raise ValueError(key, "must be true or false")
            value = raw if key != "public" else (Client.CLIENT_PUBLIC if raw else Client.CLIENT_CONFIDENTIAL)
        else:
            if key == "scopes" and isinstance(raw, list) and all(isinstance(item, str) for item in raw):
                raw = " ".join(raw)
            if not isinstance(raw, str):
                raise ValueError(key, "must be a string")
            value = raw
        values[attribute] = value
    return values


def plan(data):
    """Check the whole file against the database; a Plan, or SeedError with every problem."""
    if not isinstance(data, dict) or not isinstance(data.get("clients"), list):
        raise SeedError(['the file must be a JSON object with a "clients" list'])
    problems, result, seen = [], Plan(), set()
    for index, entry in enumerate(data["clients"]):
        where = f"clients[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be an object")
            continue
        name = entry.get("name")
        if isinstance(name, str) and name:
            where = f"{where} (name {name!r})"
        missing = [key for key in REQUIRED if not entry.get(key)]
        if missing:
            problems.extend(f"{where}: {key}: required" for key in missing)
            continue
        try:
            values = _values(entry)
        except ValueError as exc:
            problems.append(f"{where}: {exc.args[0]}: {exc.args[1]}")
            continue
        if name in seen:
            problems.append(f"{where}: name: appears twice in the file")
            continue
        seen.add(name)
        problems.extend(f"{where}: {problem}" for problem in _plan_entry(name, values, result))
    if problems:
        raise SeedError(problems)
    return result


def _plan_entry(name, values, result):
    existing = list(Client.objects.filter(name=name)[:2])
    if len(existing) > 1:
        return ["name: several clients have this name; rename them in the admin first"]
    if existing:
        client = existing[0]
        if "client_type" in values and values["client_type"] != client.client_type:
            return ["public: an existing client cannot change type; register a new one"]
        changed = {attr: value for attr, value in values.items() if getattr(client, attr) != value}
        for attr, value in changed.items():
            setattr(client, attr, value)
        if problems := _check(client):
            return problems
        if changed:
            result.updated.append((client, changed))
        else:
            result.unchanged.append(client)
        return []
    candidate = Client(**{"client_type": Client.CLIENT_CONFIDENTIAL, **values})
    if candidate.client_type == Client.CLIENT_CONFIDENTIAL:
        candidate.client_secret = generate_client_secret()  # checked as the real one will be
    if problems := _check(candidate):
        return problems
    result.created.append(values)
    return []


def _check(client):
    try:
        client.full_clean(exclude=UNCHECKED)
    except ValidationError as exc:
        return [f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()]
    return []


def apply(result):
    """Write a Plan in one transaction. Returns [(client, secret)] of the created clients (the
    secret None for a public client): the only time their secrets exist in plaintext."""
    created = []
    with transaction.atomic():
        for values in result.created:
            created.append(flows.create_client(**_create_arguments(values)))
        for client, changed in result.updated:
            client.save(update_fields=[*changed, "updated"])
    return created


def _create_arguments(values):
    arguments = {
        "name": values["name"],
        "grant_types": values["grant_types"].split(),
        "public": values.get("client_type") == Client.CLIENT_PUBLIC,
        "trusted": values.get("skip_authorization", False),
        "scopes": values.get("allowed_scopes", ""),
    }
    for attribute in ("redirect_uris", "post_logout_redirect_uris", "allowed_origins", "audience"):
        arguments[attribute] = values.get(attribute, "").split()
    for attribute in ("access_token_lifetime", "refresh_token_lifetime", "id_token_lifetime"):
        arguments[attribute] = values.get(attribute)
    for attribute in ("can_introspect_any", "backchannel_logout_session_required"):
        arguments[attribute] = values.get(attribute, False)
    for attribute in (
        "backchannel_logout_uri",
        "logo_uri",
        "client_uri",
        "policy_uri",
        "tos_uri",
        "token_endpoint_auth_method",
    ):
        arguments[attribute] = values.get(attribute, "")
    return arguments
