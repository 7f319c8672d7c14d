"""The load generators: wrk with the Lua scripts of bench/lua, and the Python browser flow
(bench/flows.py), in processes of their own that share no GIL with the servers."""

# ruff: noqa: S603, S607
# (the harness runs its load generators, wrk and a Python script, by design)

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import requests

from bench import flows
from bench.config import BENCH, CONNECTIONS, DURATION, FLOW_THREADS, PY, WARMUP, WRK_THREADS
from bench.report import fmt_cpu, fmt_ms
from bench.scenarios import BY_KEY, SCENARIOS
from bench.tools import base_env, bench_json, log, run


def wrk(base, request, *, duration, pool_file=None):
    """Run wrk with one of our Lua scripts; the numbers come from the script's done() hook."""
    process = wrk_start(base, request, duration=duration, pool_file=pool_file)
    try:
        stdout, _ = process.communicate(timeout=duration + 90)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return wrk_result(stdout)


def wrk_start(base, request, *, duration, pool_file=None):
    """wrk as a running process. SIGINT stops it early; it then reports as at its deadline.

    `request`: method, path, body, auth (an Authorization header value); with `pool_file`,
    `{token}` in the body is replaced by one line of the file per request (bench/lua/pool.lua)."""
    env = {
        **os.environ,
        "BENCH_LUA_DIR": str(BENCH / "lua"),
        "BENCH_METHOD": request.get("method", "GET"),
        "BENCH_PATH": request["path"],
        "BENCH_BODY": request.get("body", ""),
        "BENCH_AUTH": request.get("auth", ""),
        "BENCH_THREADS": str(WRK_THREADS),
    }
    script = "fixed.lua"
    if pool_file:
        env["BENCH_POOL"] = str(pool_file)
        script = "pool.lua"
    cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--timeout", "30s", "--latency"]
    cmd += ["-s", str(BENCH / "lua" / script), base]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def wrk_result(stdout):
    data = bench_json(stdout)
    requests_done = data["requests"] - data["fallback"]
    errors = data["non2xx"] + data["connect_errors"] + data["read_errors"] + data["write_errors"] + data["timeouts"]
    return {
        "rate": requests_done / (data["duration_us"] / 1e6),
        "requests": requests_done,
        "duration_s": round(data["duration_us"] / 1e6, 2),
        "p50_ms": data["p50_us"] / 1000,
        "p90_ms": data["p90_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "errors": errors,
        "non2xx": data["non2xx"],
        "socket_errors": errors - data["non2xx"],
        "error_sample": data["sample"],
        "tool": "wrk",
    }


def flow_load(base, paths, *, client, users, scope, tmp, name, duration=DURATION):
    """The full browser flow, FLOW_THREADS threads for `duration` seconds (bench/flows.py)."""
    spec = {
        "base": base,
        **paths,
        "client": client,
        "users": users,
        "scope": scope,
        "threads": FLOW_THREADS,
        "duration": duration,
    }
    spec_file = Path(tmp) / f"{name}-flow.json"
    spec_file.write_text(json.dumps(spec))
    output = run([PY, str(BENCH / "flows.py"), str(spec_file)], cwd=str(BENCH), env=base_env(), timeout=duration + 180)
    data = bench_json(output)
    return {
        "rate": data["rate"],
        "requests": data["requests"],
        "duration_s": round(data["duration_us"] / 1e6, 2),
        "p50_ms": data["p50_us"] / 1000 if data["p50_us"] is not None else None,
        "p99_ms": data["p99_us"] / 1000 if data["p99_us"] is not None else None,
        "errors": data["errors"],
        "error_sample": data["sample"],
        "tool": f"bench/flows.py ({FLOW_THREADS} threads)",
    }


def drain(server, timeout=120):
    """Wait until requests queued by a finished run have been served: wrk closes its sockets
    at the deadline, but sync workers still serve what the kernel queued (seconds of PBKDF2
    for vanilla). A quick answer to a fresh request means the queue ahead of it is empty."""
    deadline = time.monotonic() + timeout
    quick = 0
    while time.monotonic() < deadline and quick < 2:
        started = time.monotonic()
        try:
            requests.get(server.base + server.ready_path, timeout=timeout)
        except requests.RequestException:
            time.sleep(0.5)
            continue
        quick = quick + 1 if time.monotonic() - started < 0.1 else 0
        time.sleep(0.2)


def mint_pool(base, paths, *, client, users, scope, target, seconds, threads=8):
    """Refresh (and access) tokens through the API: each thread logs in once, then repeats
    authorize + code exchange. Stops at `target` tokens or after `seconds`."""
    refresh_tokens, access_tokens, failures = [], [], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    spec = {"base": base, **paths, "client": client}

    def worker(index):
        user = users[index % len(users)]
        with requests.Session() as session:
            flows.login(session, spec, user["username"], user["password"])
            while time.monotonic() < deadline:
                with lock:
                    if len(refresh_tokens) >= target:
                        return
                try:
                    body = flows.authorize_and_exchange(session, spec, scope)
                except (flows.FlowError, requests.RequestException) as exc:
                    with lock:
                        failures.append(str(exc))
                        if len(failures) > 20:
                            return
                    continue
                with lock:
                    refresh_tokens.append(body["refresh_token"])
                    access_tokens.append(body["access_token"])

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if failures:
        log(f"minting: {len(failures)} failures, first: {failures[0][:200]}")
    return refresh_tokens, access_tokens


def add_cpu(result, cpu_seconds):
    """CPU ms per request (per flow for the browser flow): the server's process-tree CPU time
    (master and workers, user + system) while the load ran, over the requests it completed.
    Unlike req/s it does not depend on how much of the machine others were using."""
    result["cpu_s"] = round(cpu_seconds, 3)
    result["cpu_ms"] = round(1000 * cpu_seconds / result["requests"], 3) if result["requests"] else None
    return result


def run_scenarios(server, requests, *, pool_file, flow, tmp, name, duration=DURATION, warmup=WARMUP):
    """Every wrk scenario of `requests`, then the browser flow (`flow`: flow_args(), or None
    to leave it out) last: its logins' password hashes raise the workers' peak RSS, which is
    read before it too (`rss_before_logins`)."""
    results = {}
    order = [s.key for s in SCENARIOS if s.kind != "flow"] + [s.key for s in SCENARIOS if s.kind == "flow"]
    for key in order:
        kind = BY_KEY[key].kind
        drain(server)
        if kind == "flow" and flow:
            results["rss_before_logins"] = server.peak_rss_mib()
            log(f"{name}: full browser flow for {duration}s ({FLOW_THREADS} threads)")
            cpu = server.cpu_seconds()
            results[key] = flow_load(server.base, tmp=tmp, name=name, duration=duration, **flow)
            add_cpu(results[key], server.cpu_seconds() - cpu)
        elif kind == "pool" and key in requests:
            log(f"{name}: refresh with rotation for up to {duration}s")
            cpu = server.cpu_seconds()
            results[key] = wrk(server.base, requests[key], duration=duration, pool_file=pool_file)
            add_cpu(results[key], server.cpu_seconds() - cpu)
        elif kind == "fixed" and key in requests:
            log(f"{name}: {key}: warm-up {warmup}s, then {duration}s")
            if warmup:
                wrk(server.base, requests[key], duration=warmup)
                drain(server)
            cpu = server.cpu_seconds()
            results[key] = wrk(server.base, requests[key], duration=duration)
            add_cpu(results[key], server.cpu_seconds() - cpu)
        else:
            continue
        r = results[key]
        log(
            f"  -> {r['rate']:.1f}/s p50 {fmt_ms(r['p50_ms'])} p99 {fmt_ms(r['p99_ms'])} errors {r['errors']}"
            f" CPU {fmt_cpu(r.get('cpu_ms'))}/req"
        )
        if r["errors"] and r.get("error_sample"):
            log(f"     first error: {r['error_sample'][:200]}")
    return results
