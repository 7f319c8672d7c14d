"""The scenarios, each defined once: what each one sends, built from what each system set up.

A scenario's request is built from the system's endpoint paths (`System.paths`) and what its
set-up produced (`Fixture`: clients, users, tokens, the refresh pool); each system lists the
scenarios it runs (`System.scenarios`). Kinds:

- "fixed": one request, repeated by wrk (bench/lua/fixed.lua), after a warm-up run;
- "pool": one single-use refresh token per request (bench/lua/pool.lua), no separate warm-up
  (minting or seeding the pool already exercised the token endpoint);
- "flow": the full browser flow (bench/flows.py), counted in flows/s, always run last.

bench/load.py runs them (`run_scenarios`), bench/sqlcount.py counts their SQL (`sql_spec`),
bench/report.py prints one row each (`LABELS`).
"""

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from bench import flows
from bench.config import N_USERS


@dataclass(frozen=True)
class Fixture:
    """What a system's set-up hands its scenarios. Absent parts leave their scenarios out."""

    cc: dict  # the client-credentials client: client_id, client_secret
    cc_scope: str  # the scope its token requests ask for
    web: dict | None = None  # the trusted web client: client_id, client_secret, redirect_uri
    users: list = field(default_factory=list)  # username, password
    flow_scope: str = ""  # the scope the browser flow asks for
    introspect_auth: str | None = None  # the introspection caller's Authorization header value
    introspect_token: str | None = None  # a user's access token, to introspect
    introspect_hint: bool = False  # send token_type_hint=access_token with it
    api_token: str | None = None  # a user's access token, for /api/me
    refresh_pool: Path | None = None  # one refresh token a line, for the wrk refresh run
    sql_refresh: list = field(default_factory=list)  # two more, for the SQL count


def make_users(prefix):
    """The users a system creates for its browser flow and pool (username, password)."""
    return [{"username": f"{prefix}{i}", "password": secrets.token_urlsafe(18)} for i in range(N_USERS)]


@dataclass(frozen=True)
class Scenario:
    key: str  # its key in the JSON results
    label: str  # its row in the tables
    kind: str  # "fixed", "pool" or "flow" (see the module's docstring)
    request: object = None  # (paths, fixture) -> {method, path, body, auth} for wrk and sqlcount.py
    at_scale: bool = True  # run again in the scale pass (the browser flow is left out, for time)


def _client_credentials(paths, fixture):
    return {
        "method": "POST",
        "path": paths["token"],
        "auth": flows.basic_auth(fixture.cc["client_id"], fixture.cc["client_secret"]),
        "body": f"grant_type=client_credentials&scope={fixture.cc_scope}",
    }


def _refresh(paths, fixture):
    return {
        "method": "POST",
        "path": paths["token"],
        "auth": flows.basic_auth(fixture.web["client_id"], fixture.web["client_secret"]),
        "body": "grant_type=refresh_token&refresh_token={token}",  # {token}: one of the pool per request
    }


def _introspect(paths, fixture):
    body = f"token={fixture.introspect_token}"
    if fixture.introspect_hint:
        body += "&token_type_hint=access_token"
    return {"method": "POST", "path": paths["introspect"], "auth": fixture.introspect_auth, "body": body}


def _api_me(paths, fixture):
    return {"method": "GET", "path": paths["api_me"], "auth": f"Bearer {fixture.api_token}"}


def _get(name):
    def request(paths, fixture):
        return {"method": "GET", "path": paths[name]}

    return request


SCENARIOS = (
    Scenario("client_credentials", "client-credentials token", "fixed", _client_credentials),
    Scenario("refresh", "refresh with rotation", "pool", _refresh),
    Scenario("flow", "full browser flow (flows/s)", "flow", at_scale=False),
    Scenario("introspect", "introspection", "fixed", _introspect),
    Scenario("api_me", "API call (/api/me, JWT + revocation)", "fixed", _api_me),
    Scenario("jwks", "JWKS", "fixed", _get("jwks")),
    Scenario("discovery", "discovery", "fixed", _get("discovery")),
)
BY_KEY = {scenario.key: scenario for scenario in SCENARIOS}
LABELS = [(scenario.key, scenario.label) for scenario in SCENARIOS]  # the tables' rows, in order


def requests_for(paths, fixture, keys):
    """The wrk requests (kinds "fixed" and "pool") of the scenarios `keys`, in the table's order."""
    return {s.key: s.request(paths, fixture) for s in SCENARIOS if s.key in keys and s.kind != "flow"}


def flow_args(paths, fixture):
    """flow_load's arguments (and sqlcount.py's) for the browser flow."""
    return {
        "paths": {name: paths[name] for name in ("login", "authorize", "token")},
        "client": fixture.web,
        "users": fixture.users,
        "scope": fixture.flow_scope,
    }


def sql_spec(requests, fixture, flow):
    """bench/sqlcount.py's scenarios: the fixed ones, the pool ones (two tokens of their own),
    then the flow (its first user)."""
    spec = [{"key": k, "kind": "fixed", **v} for k, v in requests.items() if BY_KEY[k].kind == "fixed"]
    spec += [
        {"key": k, "kind": "pool", "tokens": fixture.sql_refresh, **v}
        for k, v in requests.items()
        if BY_KEY[k].kind == "pool"
    ]
    if flow:
        first = {"user": flow["users"][0], "client": flow["client"], "scope": flow["scope"], **flow["paths"]}
        spec.append({"key": "flow", "kind": "flow", **first})
    return spec
