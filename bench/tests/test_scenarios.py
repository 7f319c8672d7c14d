"""The harness's scenario table and report, without servers: what each system sends, what
sqlcount.py is asked, and the Markdown tables' rows and figures."""

import base64
from pathlib import Path

from bench import report, scenarios
from bench.scenarios import Fixture, flow_args, requests_for, sql_spec
from bench.systems.node import Node
from bench.systems.ours import Ours
from bench.systems.vanilla import Vanilla

CC = {"client_id": "cc-id", "client_secret": "cc secret"}
WEB = {"client_id": "web-id", "client_secret": "web-secret", "redirect_uri": "https://127.0.0.1/callback"}
USERS = [{"username": "bench0", "password": "p0"}, {"username": "bench1", "password": "p1"}]


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def ours_fixture():
    return Fixture(
        cc=CC,
        cc_scope="profile",
        web=WEB,
        users=USERS,
        flow_scope="profile read",
        introspect_auth="Basic rs",
        introspect_token="at-2",
        introspect_hint=True,
        api_token="at-1",
        refresh_pool=Path("/tmp/pool.txt"),
        sql_refresh=["rt-a", "rt-b"],
    )


def test_ours_requests_in_the_tables_order():
    requests = requests_for(Ours.paths, ours_fixture(), Ours.scenarios)
    assert list(requests) == ["client_credentials", "refresh", "introspect", "api_me", "jwks", "discovery"]
    assert requests["client_credentials"] == {
        "method": "POST",
        "path": "/oauth/token/",
        "auth": basic("cc-id", "cc%20secret"),  # RFC 6749 2.3.1: form-encoded before base64
        "body": "grant_type=client_credentials&scope=profile",
    }
    assert requests["refresh"] == {
        "method": "POST",
        "path": "/oauth/token/",
        "auth": basic("web-id", "web-secret"),
        "body": "grant_type=refresh_token&refresh_token={token}",
    }
    assert requests["introspect"] == {
        "method": "POST",
        "path": "/oauth/introspect/",
        "auth": "Basic rs",
        "body": "token=at-2&token_type_hint=access_token",
    }
    assert requests["api_me"] == {"method": "GET", "path": "/api/me", "auth": "Bearer at-1"}
    assert requests["jwks"] == {"method": "GET", "path": "/.well-known/jwks.json"}
    assert requests["discovery"] == {"method": "GET", "path": "/.well-known/openid-configuration"}


def test_vanilla_requests_use_dots_paths_and_a_bearer_introspection_caller():
    fixture = Fixture(
        cc=CC, cc_scope="read", web=WEB, users=USERS, flow_scope="read", introspect_auth="Bearer intro",
        introspect_token="user-at", api_token="user-at",
    )  # fmt: skip
    requests = requests_for(Vanilla.paths, fixture, Vanilla.scenarios)
    assert list(requests) == ["client_credentials", "refresh", "introspect", "api_me"]
    assert requests["client_credentials"]["path"] == "/o/token/"
    assert requests["client_credentials"]["body"] == "grant_type=client_credentials&scope=read"
    assert requests["introspect"] == {
        "method": "POST",
        "path": "/o/introspect/",
        "auth": "Bearer intro",
        "body": "token=user-at",
    }
    assert flow_args(Vanilla.paths, fixture)["paths"] == {
        "login": "/accounts/login/",
        "authorize": "/o/authorize/",
        "token": "/o/token/",
    }


def test_node_runs_client_credentials_only():
    requests = requests_for(Node.paths, Fixture(cc=CC, cc_scope="api"), Node.scenarios)
    assert requests == {
        "client_credentials": {
            "method": "POST",
            "path": "/token",
            "auth": basic("cc-id", "cc%20secret"),
            "body": "grant_type=client_credentials&scope=api",
        }
    }


def test_sqlcount_is_asked_the_fixed_requests_then_the_pool_then_the_flow():
    fixture = ours_fixture()
    requests = requests_for(Ours.paths, fixture, Ours.scenarios)
    spec = sql_spec(requests, fixture, flow_args(Ours.paths, fixture))
    assert [(s["key"], s["kind"]) for s in spec] == [
        ("client_credentials", "fixed"),
        ("introspect", "fixed"),
        ("api_me", "fixed"),
        ("jwks", "fixed"),
        ("discovery", "fixed"),
        ("refresh", "pool"),
        ("flow", "flow"),
    ]
    assert spec[5]["tokens"] == ["rt-a", "rt-b"]
    assert spec[6] == {
        "key": "flow",
        "kind": "flow",
        "user": USERS[0],
        "client": WEB,
        "scope": "profile read",
        "login": "/accounts/login/",
        "authorize": "/oauth/authorize/",
        "token": "/oauth/token/",
    }


def test_the_scale_pass_leaves_out_the_browser_flow_only():
    assert [s.key for s in scenarios.SCENARIOS if not s.at_scale] == ["flow"]


def result(rate, p50, p99, errors=0, sql=None, sql_data=None):
    return {"rate": rate, "p50_ms": p50, "p99_ms": p99, "errors": errors, "sql": sql, "sql_data": sql_data}


def test_the_table_has_a_row_per_scenario_of_ours_with_dot_tuned_and_as_shipped_and_the_ratios():
    data = {
        "ours": {
            "scenarios": {
                "client_credentials": {**result(251.4, 63.0, 78.1, sql=2, sql_data=2), "cpu_ms": 2.71},
                "flow": result(19.4, 813, 1250.0, sql=28, sql_data=20),
                "jwks": result(1626.2, 9.66, 11.94, sql=0, sql_data=0),
            }
        },
        "vanilla_tuned": {"scenarios": {"client_credentials": {**result(240.0, 60, 80), "cpu_ms": 2.6}}},
        "vanilla": {"scenarios": {"client_credentials": result(3.0, 4960, 5160), "flow": result(1.5, 9180, 11190)}},
    }
    assert report.table(data).splitlines() == [
        "| scenario | ours req/s | ours CPU/req | p50 | p99 | errors | SQL/req | DOT tuned req/s | DOT tuned CPU/req "
        "| **ours/DOT tuned** | DOT as shipped req/s | ours/DOT as shipped |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        "| client-credentials token | 251 | 2.71 ms | 63.0 ms | 78.1 ms | 0 | 2 (2) | 240 | 2.60 ms | 1.05x "
        "| 3.0 | 83.8x |",
        "| full browser flow (flows/s) | 19.4 | - | 813 ms | 1.25 s | 0 | 28 (20)/flow | n/a | n/a | - | 1.5 | 12.9x |",
        "| JWKS | 1,626 | - | 9.7 ms | 11.9 ms | 0 | 0 (0) | n/a | n/a | - | n/a | - |",
    ]


def test_a_skipped_baseline_is_said_so():
    data = {
        "ours": {"scenarios": {"client_credentials": result(100, 1, 2)}, "peak_rss_mib": {"1": 106.2, "2": 105.7}},
        "vanilla_tuned": {"skipped": "BENCH_ONLY_OURS is set"},
        "vanilla": {"skipped": "BENCH_ONLY_OURS is set"},
        "authlib": {"failed": "authlib did not start; log:\nTraceback"},
        "node": {"skipped": "BENCH_ONLY_OURS is set"},
    }
    lines = report.extra_lines(data).splitlines()
    assert "node-oidc-provider: skipped: BENCH_ONLY_OURS is set" in lines
    assert "DOT tuned: skipped: BENCH_ONLY_OURS is set" in lines
    assert "Authlib + Flask: failed: authlib did not start; log:" in lines
    assert not any("detail" in line for line in lines)
    assert "peak RSS per worker (VmHWM), ours: 106 MiB, 106 MiB" in lines
    assert not any("vanilla" in line for line in lines)
    assert report.headline(data) == "Headline: no peer measured in this run."
    assert report.scale_lines({"scale": {"skipped": "BENCH_SCALE=0"}}) == "scale pass: BENCH_SCALE=0"
