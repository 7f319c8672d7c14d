"""`make bench`: ours, then vanilla django-oauth-toolkit, then node-oidc-provider, one server
at a time; then the tables, the JSON and the chart (bench/README.md says what and how)."""

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
    THREADS,
    WARMUP,
    WORKERS,
    WRK_THREADS,
)
from bench.systems import measure
from bench.systems.node import Node
from bench.systems.ours import Ours
from bench.systems.vanilla import Vanilla
from bench.tools import check_services, ensure_wrk, loadavg, log, machine_info, tool_versions


def main():
    started = time.monotonic()
    ensure_wrk()
    check_services()
    RESULTS.mkdir(parents=True, exist_ok=True)
    timestamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report = {
        "timestamp": timestamp,
        "machine": machine_info(),
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
        },
        "loadavg": {"start": loadavg()},
    }
    tmp = tempfile.mkdtemp(prefix="identity-bench-")
    try:
        report["ours"] = measure(Ours(tmp))
        report["scale"] = report["ours"].pop("scale")
        report["loadavg"]["after_ours"] = loadavg()
        if ONLY_OURS:
            report["vanilla"] = {"failed": "skipped: BENCH_ONLY_OURS is set"}
            report["node"] = {"skipped": "BENCH_ONLY_OURS is set"}
        else:
            try:
                report["vanilla"] = measure(Vanilla(tmp))
            except (RuntimeError, subprocess.SubprocessError, requests.RequestException) as exc:
                log(f"vanilla baseline failed: {exc}")
                report["vanilla"] = {"failed": str(exc)[:2000]}
            report["loadavg"]["after_vanilla"] = loadavg()
            report["node"] = measure(Node(tmp))
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
