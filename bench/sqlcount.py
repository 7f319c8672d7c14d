"""SQL statements per request, counted in-process (run by bench/systems in a subprocess).

Runs inside the target project (ours, or the vanilla baseline) with the same settings as the
benchmarked server (same environment; only ALLOWED_HOSTS gains "testserver"), through
Django's test client, and counts with django.test.utils.CaptureQueriesContext. Each scenario
is done once to warm up (first-request caches: content types, keys, ...) and once counted.

    DJANGO_SETTINGS_MODULE=... python bench/sqlcount.py SPEC.json   (cwd: the project root)

Prints one line: BENCH_JSON {"<scenario>": {"queries": n, "data_queries": d, "status": s,
"statements": [...]}, ...}: `queries` counts every statement Django sent, transaction control
included (BEGIN, COMMIT, SAVEPOINT, RELEASE); `data_queries` only the others. Not seen here:
the `SELECT 1` that CONN_HEALTH_CHECKS sends at the start of each request on a reused
connection (psycopg directly, outside Django's cursor wrappers).
"""

import json
import os
import re
import sys
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, os.getcwd())

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from flows import basic_auth, pkce_pair  # noqa: E402

FORM = "application/x-www-form-urlencoded"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def send(client, method, path, body=None, auth=None):
    extra = {"HTTP_AUTHORIZATION": auth} if auth else {}
    if method == "GET":
        return client.get(path, **extra)
    return client.post(path, data=body or "", content_type=FORM, **extra)


STATEMENTS = {}  # scenario step -> the statements of its counted request (evidence for the JSON)


def counted(client, *args, step=None, **kwargs):
    with CaptureQueriesContext(connection) as ctx:
        response = send(client, *args, **kwargs)
    if step:
        STATEMENTS[step] = [" ".join(q["sql"].split())[:160] for q in ctx.captured_queries]
    return len(ctx.captured_queries), response


def fixed(scenario):
    client = Client()
    args = (scenario["method"], scenario["path"], scenario.get("body"), scenario.get("auth"))
    send(client, *args)
    queries, response = counted(client, *args, step=scenario["key"])
    return {"queries": queries, "status": response.status_code, "statements": STATEMENTS.get(scenario["key"])}


def pool(scenario):
    client = Client()
    tokens = scenario["tokens"]
    results = []
    for token in tokens[:2]:
        body = scenario["body"].replace("{token}", token)
        results.append(counted(client, "POST", scenario["path"], body, scenario.get("auth"), step=scenario["key"]))
    queries, response = results[-1]
    return {"queries": queries, "status": response.status_code, "statements": STATEMENTS.get(scenario["key"])}


def flow(scenario):
    """Login (GET form + POST password), authorize, code exchange: statements per step."""
    user, client_info = scenario["user"], scenario["client"]
    steps = {}
    for _ in range(2):  # warm, then counted
        browser = Client()
        steps = {}
        steps["login_form"], page = counted(browser, "GET", scenario["login"], step="login_form")
        csrf = CSRF_INPUT.search(page.content.decode())
        body = urlencode(
            {
                "csrfmiddlewaretoken": csrf.group(1) if csrf else "",
                "username": user["username"],
                "password": user["password"],
                "next": "/",
            }
        )
        steps["login_post"], response = counted(browser, "POST", scenario["login"], body, step="login_post")
        if response.status_code != 302:
            return {"queries": None, "status": response.status_code, "steps": steps}
        verifier, challenge = pkce_pair()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_info["client_id"],
                "redirect_uri": client_info["redirect_uri"],
                "scope": scenario["scope"],
                "state": "s",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        steps["authorize"], response = counted(browser, "GET", f"{scenario['authorize']}?{query}", step="authorize")
        code = parse_qs(urlsplit(response.get("Location", "")).query).get("code", [""])[0]
        body = urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": client_info["redirect_uri"],
                "code_verifier": verifier,
            }
        )
        auth = basic_auth(client_info["client_id"], client_info["client_secret"])
        # The web app's back-channel call: a client without the browser's cookies.
        steps["code_exchange"], response = counted(
            Client(), "POST", scenario["token"], body, auth, step="code_exchange"
        )
    statements = {step: STATEMENTS.get(step) for step in steps}
    return {"queries": sum(steps.values()), "status": response.status_code, "steps": steps, "statements": statements}


KINDS = {"fixed": fixed, "pool": pool, "flow": flow}


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def data_statements(statements):
    return sum(1 for q in statements or () if not q.upper().startswith(TRANSACTION_CONTROL))


def with_data_counts(result):
    statements = result.get("statements")
    if isinstance(statements, dict):
        result["data_queries"] = sum(data_statements(v) for v in statements.values())
    elif statements is not None:
        result["data_queries"] = data_statements(statements)
    return result


def main():
    with open(sys.argv[1]) as file:
        spec = json.load(file)
    results = {}
    for scenario in spec["scenarios"]:
        try:
            results[scenario["key"]] = with_data_counts(KINDS[scenario["kind"]](scenario))
        except Exception as exc:  # report, never abort the benchmark
            results[scenario["key"]] = {"queries": None, "status": None, "error": repr(exc)[:300]}
    print("BENCH_JSON " + json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
