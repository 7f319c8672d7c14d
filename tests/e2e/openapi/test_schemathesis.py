"""Schema-driven tests: schemathesis reads /api/schema/ from the live server and sends every
described operation generated requests (valid and invalid), with real credentials from the
token endpoint: a person's access token for their own APIs, an administrator's (the `admin`
role, the `roles` scope) for the admin APIs and the audit log, a confidential client's Basic
credentials for the token, introspection and revocation endpoints; at the registration
endpoint (CLIENT_REGISTRATION=token) an initial access token, and at the client configuration
endpoint a registered client's id and registration access token. The password grant is on
here (the tokens come from it, no browser needed), so its deprecated form is described and
fuzzed too.

Each answer must not be a 5xx, must carry a status code the schema documents for the
operation, with the documented content type, and a body matching the documented schema.

Bounded so that it stays well under CI's budget on two shared cores: a few examples per
operation, every request with a timeout, the whole test under a pytest timeout; derandomized
(the same examples on every run, no Hypothesis database), so a failure reproduces.
"""

import base64
from datetime import timedelta

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import PASSWORD
from oauth import client_metadata
from oauth import flows as oauth_flows
from rbac import flows as rbac

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 8
REQUEST_TIMEOUT = 10
ALL_SCOPES = "openid profile email roles permissions mfa read write"
USER_SCOPES = "openid profile email mfa"
ADMIN_PATHS = ("/api/admin/", "/api/audit/")
# Browser pages (HTML forms and redirects): they are described, but driving them takes a browser
# session and a CSRF token; their protocol behaviour has its own suites (tests/e2e/oidc_logout, …).
BROWSER_PAGES = {"/oauth/authorize/", "/oauth/logout/", "/oauth/logout/confirm/"}
CLIENT_AUTHENTICATED = {"/oauth/token/", "/oauth/introspect/", "/oauth/revoke/"}
REGISTRATION = "/oauth/register/"
CONFIGURATION = "/oauth/register/{client_id}/"


@pytest.fixture(autouse=True)
def _live_server_hygiene(live_server_hygiene):
    """As in tests/e2e/live: no persistent database connections in the server's threads, and
    each test waits for them to finish before the database is flushed."""


def _bearer(url, basic, user, scope):
    """An access token of `user` from the token endpoint (the password grant: no browser)."""
    answer = requests.post(
        f"{url}/oauth/token/",
        data={"grant_type": "password", "username": user.username, "password": PASSWORD, "scope": scope},
        headers={"Authorization": basic},
        timeout=REQUEST_TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _credentials(server, path):
    """The headers an operation is called with: the client's Basic credentials at the token,
    introspection and revocation endpoints, the administrator's token (with `roles`) for the
    admin APIs and the audit log, the person's token (the scopes the API needs) elsewhere.
    Fresh for each operation: an earlier one may have disabled the person or logged them out."""
    url, client, secret, admin, person, registration = server
    if path == REGISTRATION:
        return {"Authorization": f"Bearer {registration['initial_token']}"}
    if path == CONFIGURATION:
        return {"Authorization": f"Bearer {registration['token']}"}
    type(person).objects.filter(pk=person.pk).update(is_active=True)
    basic = "Basic " + base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    if path in CLIENT_AUTHENTICATED:
        return {"Authorization": basic}
    if path.startswith(ADMIN_PATHS):
        return _bearer(url, basic, admin, "profile roles")
    return _bearer(url, basic, person, USER_SCOPES)


@pytest.fixture
def server(live_server, settings, make_user, make_client, password_grant_enabled):
    """The live server as its own issuer, an administrator, a person, a confidential client,
    and registration by initial access token with a client registered over HTTP."""
    url = live_server.url.rstrip("/")
    settings.CLIENT_REGISTRATION = "token"
    settings.ISSUER = url
    settings.ACCESS_TOKEN_AUDIENCE = f"{url}/api"
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": url}
    rbac.seed_default_roles()
    admin = make_user(username="schemathesis-admin")
    rbac.assign_role(user=admin, role="admin")
    person = make_user(username="schemathesis-person")
    client, secret = make_client(
        name="schemathesis",
        grant_types=["password", "client_credentials", "refresh_token"],
        scopes=ALL_SCOPES,
        can_introspect_any=True,
    )
    _, initial_token = oauth_flows.issue_initial_access_token(expires_in=timedelta(hours=1), uses=1000)
    fields = client_metadata.parse(
        {"client_name": "registered", "redirect_uris": ["https://app.example.com/callback"]},
        confidential_allowed=True,
        allowed_scopes=settings.CLIENT_REGISTRATION_SCOPES,
    )
    registered, _, registration_token = oauth_flows.register_client(fields=fields)
    registration = {"initial_token": initial_token, "client_id": registered.client_id, "token": registration_token}
    return url, client, secret, admin, person, registration


def _run(operation, mode, headers, person, registered_id):
    """MAX_EXAMPLES generated requests of one operation; raises the first failure."""

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,  # each request has its own timeout; a loaded CI machine is slow, not wrong
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is reported
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        # Valid requests name a user and a role that exist (random ones would all be 404s).
        if mode == GenerationMode.POSITIVE and "sub" in (case.path_parameters or {}):
            case.path_parameters["sub"] = person.subject
            if "role" in case.path_parameters:
                case.path_parameters["role"] = "auditor"
        # …and the registered client (the configuration endpoint answers 401 to any other id).
        if mode == GenerationMode.POSITIVE and "client_id" in (case.path_parameters or {}):
            case.path_parameters["client_id"] = registered_id
        response = case.call(headers=headers, timeout=REQUEST_TIMEOUT)
        case.validate_response(response, checks=CHECKS)

    run()


def _documented_example(operation, headers, expected, **body):
    """The operation's documented request example, sent as is (with `body`'s fields over it),
    its answer checked as the generated ones are: generated client metadata is nearly always
    refused (400), so these are what check the success answers against their schema."""
    example = operation.definition.raw["requestBody"]["content"]["application/json"]["example"]
    path_parameters = {"client_id": body["client_id"]} if "client_id" in body else {}
    case = operation.Case(body={**example, **body}, media_type="application/json", path_parameters=path_parameters)
    response = case.call(headers=headers, timeout=REQUEST_TIMEOUT)
    case.validate_response(response, checks=CHECKS)
    assert response.status_code == expected, response.text
    return response.json()


@pytest.mark.timeout(240)
def test_api_conforms_to_its_description(server):
    url, person, registered_id = server[0], server[4], server[5]["client_id"]
    schema = schemathesis.openapi.from_url(f"{url}/api/schema/", timeout=REQUEST_TIMEOUT)
    # schemathesis.pytest.from_fixture cannot run under pytest 9 (it sets a private attribute
    # pytest removed), so the operations are walked here, one Hypothesis run each.
    failures, ran = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in BROWSER_PAGES:
            continue
        headers = _credentials(server, operation.path)
        where = f"{operation.method.upper()} {operation.path}"
        if where == f"POST {REGISTRATION}":  # before the generated ones exhaust the rate limit
            try:
                _documented_example(operation, headers, 201)
            except Exception as exc:
                failures.append(f"{where} (the documented example): {str(exc)[:3000]}")
        # Invalid requests too, where there is something to get wrong: a body, a query, or a
        # constrained path parameter (a plain string one has no invalid value to send).
        negatable = bool(operation.query or operation.body) or any(
            set(p.definition.get("schema", {})) - {"type"} for p in operation.path_parameters
        )
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)[: 2 if negatable else 1]:
            ran += 1
            try:
                _run(operation, mode, headers, person, registered_id)
            except Unsatisfiable:
                pass  # no invalid request can be made of this operation's parameters
            except (Exception, BaseExceptionGroup) as exc:  # every operation runs; all failures are reported
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {str(exc)[:3000]}")
        if where == f"PUT {CONFIGURATION}":  # after the generated ones: it rotates the token DELETE uses
            try:
                updated = _documented_example(operation, headers, 200, client_id=registered_id)
                server[5]["token"] = updated["registration_access_token"]
            except Exception as exc:
                failures.append(f"{where} (the documented example): {str(exc)[:3000]}")
    assert ran >= 30, ran
    assert not failures, "\n\n".join(failures)
