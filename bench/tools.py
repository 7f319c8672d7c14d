"""The machine, the services and the processes the harness runs: shared by every system."""

# ruff: noqa: S603, S607
# (the harness runs the tools it benchmarks: wrk, apt-get, by design)

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.config import PG_ADMIN, REDIS_URL


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    log("wrk not found: installing it with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=True, capture_output=True)
    if not shutil.which("wrk"):
        sys.exit("wrk could not be installed (apt-get install -y wrk)")


def check_services():
    import psycopg
    import redis

    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except psycopg.Error as exc:
        sys.exit(f"PostgreSQL is not reachable on 127.0.0.1:5432 as postgres ({exc}); see DESIGN.md to start it")
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except redis.RedisError as exc:
        sys.exit(f"Redis is not reachable on 127.0.0.1:6379 ({exc}); see DESIGN.md to start it")


def machine_info():
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def parse_openssl_speed(output):
    """`openssl speed rsa2048`'s result line: {"sign_per_s", "verify_per_s"} (OpenSSL 1.1 and 3)."""
    for line in output.splitlines():
        parts = line.split()
        if parts[:3] == ["rsa", "2048", "bits"] and len(parts) >= 7:
            return {"sign_per_s": float(parts[5]), "verify_per_s": float(parts[6])}
    return None


def openssl_speed():
    """RSA-2048 sign/verify per second on one core (`openssl speed -seconds 1 rsa2048`): the
    machine's speed at the operation every RS256 token costs, for reading figures across runs."""
    try:
        result = subprocess.run(
            ["openssl", "speed", "-seconds", "1", "rsa2048"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": str(exc)}
    parsed = parse_openssl_speed(result.stdout)
    if parsed is None:
        return {"error": (result.stderr or result.stdout)[-300:]}
    version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    return {**parsed, "openssl": version}


def loadavg():
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def tool_versions():
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    packages = ("Django", "django-oauth-toolkit", "oauthlib", "jwcrypto", "gunicorn", "psycopg", "Authlib", "Flask")
    for package in packages:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    versions["wrk"] = (wrk.stdout or wrk.stderr).splitlines()[0].split(" [")[0] if (wrk.stdout or wrk.stderr) else None
    if shutil.which("node"):
        versions["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return versions


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(name):
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis():
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def base_env():
    """A clean environment: nothing from the caller's shell leaks into the servers' settings."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run(cmd, *, cwd, env, timeout=300):
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def bench_json(output):
    """The one `BENCH_JSON {...}` line that the Lua scripts, flows.py and sqlcount.py print."""
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON ") :])
    raise RuntimeError(f"no BENCH_JSON line in output:\n{output[-2000:]}")
