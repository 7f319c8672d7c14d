"""The systems the harness benchmarks, behind one interface, and the one way each is measured.

A `System` knows how to set itself up (database, clients, users), serve, hand its scenarios
what they need (`Fixture`: credentials, tokens, the refresh pool) and, for a Django project,
where its SQL is counted. `measure(system)` does the rest, the same for every system: SQL
statements per request (in-process, bench/sqlcount.py), the scenarios it runs under load
(bench/load.py), the peak RSS of its workers, then whatever the system does on the same
server afterwards (ours: the scale pass).

Implementations: `ours.Ours`, `vanilla.Vanilla` (django-oauth-toolkit), `node.Node`
(node-oidc-provider).
"""

import json
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path

from bench import scenarios
from bench.config import BENCH, PY
from bench.load import run_scenarios
from bench.tools import bench_json, log, run


class Unavailable(Exception):
    """The system cannot run on this machine: reported as skipped, not as a failure."""


class System(ABC):
    name = ""  # its key in the report: ours, vanilla, node
    scenarios = ()  # the keys of scenarios.SCENARIOS it runs
    paths = {}  # its endpoints: token, login, authorize, introspect, api_me, jwks, discovery
    counts_sql = False  # a Django project: `cwd` and `env` run bench/sqlcount.py in its settings

    def __init__(self, tmp):
        self.tmp = tmp
        self.server = None
        self.cwd, self.env = None, None

    def prepare(self):
        """Before the server starts: database, migrations, clients, users. Raise Unavailable to skip.
        Nothing by default."""
        return None

    @abstractmethod
    def create_server(self):
        """The bench.server.Server to run (not started)."""

    def start(self):
        self.server = self.create_server().start()

    @abstractmethod
    def fixture(self):
        """With the server up: whatever the scenarios need (scenarios.Fixture), the refresh pool included."""

    def summary(self):
        """The system's own fields of its report (notes, version)."""
        return {}

    def after_load(self, requests, fixture, results):
        """More passes on the same server after the scenarios; returns more report fields."""
        return {}

    def stop(self):
        if self.server is not None:
            self.server.stop()


def measure(system):
    """The system's report: {"scenarios", "peak_rss_mib", ...} or {"skipped": why}."""
    try:
        system.prepare()
        system.start()
    except Unavailable as exc:
        return {"skipped": str(exc)}
    try:
        fixture = system.fixture()
        requests = scenarios.requests_for(system.paths, fixture, system.scenarios)
        flow = scenarios.flow_args(system.paths, fixture) if "flow" in system.scenarios else None
        sql = {}
        if system.counts_sql:
            log(f"{system.name}: counting SQL statements per request (in-process, Django test client)")
            sql = count_sql(
                scenarios.sql_spec(requests, fixture, flow), cwd=system.cwd, env=system.env, tmp=system.tmp,
                name=system.name,
            )  # fmt: skip
        results = run_scenarios(
            system.server, requests, pool_file=fixture.refresh_pool, flow=flow, tmp=system.tmp, name=system.name
        )
        add_sql(results, sql)
        report = {"scenarios": results, "peak_rss_mib": system.server.peak_rss_mib()}
        if flow:
            report["peak_rss_mib_before_logins"] = results.pop("rss_before_logins", None)
        report.update(system.summary())
        report.update(system.after_load(requests, fixture, results))
    finally:
        system.stop()
    return report


def count_sql(spec, *, cwd, env, tmp, name):
    """SQL statements per request (bench/sqlcount.py, in the server's settings); {} if it fails."""
    spec_file = Path(tmp) / f"{name}-sql.json"
    spec_file.write_text(json.dumps({"scenarios": spec}))
    env = {**env, "ALLOWED_HOSTS": env.get("ALLOWED_HOSTS", "") + ",testserver"}
    try:
        output = run([PY, str(BENCH / "sqlcount.py"), str(spec_file)], cwd=cwd, env=env, timeout=300)
        return bench_json(output)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        log(f"{name}: SQL counting failed: {exc}")
        return {}


def add_sql(results, sql):
    for key, counts in sql.items():
        if key in results:
            results[key]["sql"] = counts.get("queries")
            results[key]["sql_data"] = counts.get("data_queries")
            results[key]["sql_detail"] = counts
