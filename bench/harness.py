"""`make bench`: ours, then its peers — django-oauth-toolkit tuned (its best documented
configuration) and as shipped, Authlib + Flask, node-oidc-provider — one server at a time;
then the tables, the JSON and the chart (bench/README.md says what and how)."""

import json
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime

import requests

from bench import report as reporting
from bench.config import (
    CONNECTIONS,
    DURATION,
    FLOW_THREADS,
    ONLY_OURS,
    RESULTS,
    ROOT,
    SERVER,
    SKIP_SHIPPED,
    THREADS,
    WARMUP,
    WORKERS,
    WRK_THREADS,
)
from bench.systems import measure
from bench.systems.authlib_flask import AuthlibFlask
from bench.systems.node import Node
from bench.systems.ours import Ours
from bench.systems.vanilla import Vanilla, VanillaTuned
from bench.tools import check_services, ensure_wrk, loadavg, log, machine_info, openssl_speed, tool_versions

# The peers, in the order they run after ours (the names are their keys in the report).
PEERS = (("vanilla_tuned", VanillaTuned), ("vanilla", Vanilla), ("authlib", AuthlibFlask), ("node", Node))


def main():
    started = time.monotonic()
    ensure_wrk()
    check_services()
    RESULTS.mkdir(parents=True, exist_ok=True)
    timestamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report = {
        "timestamp": timestamp,
        "machine": {**machine_info(), "openssl_speed_rsa2048": openssl_speed()},
        "versions": tool_versions(),
        "parameters": {
            "duration_s": DURATION,
            "warmup_s": WARMUP,
            "connections": CONNECTIONS,
            "wrk_threads": WRK_THREADS,
            "flow_threads": FLOW_THREADS,
            "ours_server": SERVER,
            "gunicorn_workers": WORKERS,
            "ours_gunicorn_threads": THREADS,
            "vanilla_gunicorn_threads": 1,
            "ours_conn_max_age": 600,
            "vanilla_conn_max_age": 0,
            "vanilla_tuned_conn_max_age": 600,
        },
        "loadavg": {"start": loadavg()},
    }
    tmp = tempfile.mkdtemp(prefix="identity-bench-")
    try:
        report["ours"] = measure(Ours(tmp))
        report["scale"] = report["ours"].pop("scale")
        report["loadavg"]["after_ours"] = loadavg()
        for name, system in PEERS:
            if ONLY_OURS:
                report[name] = {"skipped": "BENCH_ONLY_OURS is set"}
            elif name == "vanilla" and SKIP_SHIPPED:
                report[name] = {"skipped": "BENCH_SKIP_SHIPPED is set"}
            else:
                try:
                    report[name] = measure(system(tmp))
                except (RuntimeError, subprocess.SubprocessError, requests.RequestException) as exc:
                    log(f"{name} baseline failed: {exc}")
                    report[name] = {"failed": str(exc)[:2000]}
            report["loadavg"][f"after_{name}"] = loadavg()
        report["loadavg"]["end"] = loadavg()
    except BaseException:
        log(f"failed; server logs are kept in {tmp}")
        raise
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    reporting.add_markdown(report)
    print(reporting.console(report))

    for name in (f"{timestamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    if reporting.chart(report, RESULTS / "latest.png"):
        shutil.copyfile(RESULTS / "latest.png", RESULTS / f"{timestamp}.png")
    shutil.rmtree(tmp, ignore_errors=True)
    where = RESULTS.relative_to(ROOT) if RESULTS.is_relative_to(ROOT) else RESULTS
    log(f"results: {where}/{timestamp}.json, latest.json, latest.png ({report['elapsed_s']}s in all)")
