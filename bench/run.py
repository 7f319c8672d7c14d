"""`make bench`: benchmark our server against vanilla django-oauth-toolkit and node-oidc-provider.

What it does, in order (see bench/README.md):
1. installs wrk if missing (apt-get), checks PostgreSQL and Redis on 127.0.0.1;
2. ours: a throwaway database (identity_bench, dropped and recreated), Redis db 9 (flushed),
   a fresh RSA signing key and Fernet key in a temp dir; migrate, seed clients with
   `create_client --json` and users with the ORM; serve with gunicorn (2 sync workers,
   DEBUG=false, CONN_MAX_AGE=600) on a free port on 127.0.0.1; mint a pool of refresh tokens
   and access tokens through the API; count SQL statements per request in-process; warm up;
   drive each scenario with wrk (Lua scripts in bench/lua) and the browser flow with
   bench/flows.py; read the workers' peak RSS (VmHWM);
   then the scale pass (BENCH_SCALE=0 skips it): seed a million access-token rows, 100,000
   users and 10,000 clients into the same database with SQL (bench/scale.py), run the wrk
   scenarios again on fresh workers, and drive client credentials while `manage.py
   purge_expired` deletes the expired rows;
3. vanilla DOT 3.4.1 (bench/vanilla, database identity_bench_vanilla): the same, for each
   scenario it supports (2 sync workers, as a default gunicorn deployment has it);
4. node-oidc-provider (bench/node), client credentials only, if Node and npm are there;
5. prints the table, writes bench/results/<timestamp>.json, latest.json and latest.png.

Knobs (environment): BENCH_DURATION (s per scenario, default 10), BENCH_WARMUP (default 2),
BENCH_CONNECTIONS (16), BENCH_WRK_THREADS (2), BENCH_FLOW_THREADS (16), BENCH_POOL (refresh
tokens to pre-mint for ours, default 8000), BENCH_MINT_SECONDS (cap on minting, default 3 x duration),
BENCH_SKIP_NODE=1, BENCH_GUNICORN_THREADS (ours with gthread workers of that many threads;
default 1 = sync workers, as production runs it; with granian: its blocking threads), BENCH_WORKERS
(2), BENCH_SERVER (gunicorn; granian for exploring), BENCH_ONLY_OURS=1, BENCH_SCALE (0: skip the
scale pass), BENCH_SCALE_TOKENS (1000000), BENCH_SCALE_USERS (100000), BENCH_SCALE_CLIENTS
(10000), BENCH_SCALE_DURATION (s per scenario, default half of BENCH_DURATION, at least 3),
BENCH_SCALE_BATCH (purge_expired --batch-size, 5000), BENCH_DB_SUFFIX and BENCH_REDIS_DB (9)
(a second run on the same machine).
"""

# ruff: noqa: S603, S607
# (this script runs the tools it benchmarks: wrk, gunicorn, node, apt-get, by design)

import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import flows  # noqa: E402

PY = sys.executable
GUNICORN = str(Path(PY).parent / "gunicorn")
GRANIAN = str(Path(PY).parent / "granian")
RESULTS = BENCH / "results"

DURATION = int(os.environ.get("BENCH_DURATION", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WRK_THREADS = int(os.environ.get("BENCH_WRK_THREADS", "2"))
FLOW_THREADS = int(os.environ.get("BENCH_FLOW_THREADS", "16"))
POOL_TARGET = int(os.environ.get("BENCH_POOL", "8000"))
# Minting for 3x the scenario's duration yields enough tokens for the refresh run whatever
# the server's speed (a refresh costs about what an authorize + exchange pair costs).
MINT_SECONDS = int(os.environ.get("BENCH_MINT_SECONDS", str(3 * DURATION)))
VANILLA_POOL = 400  # vanilla refreshes are PBKDF2-bound (a few per second)
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
# Ours runs as production does (docker/Dockerfile, `make serve`): sync workers. For exploring,
# BENCH_GUNICORN_THREADS=N serves ours with gthread workers of N threads (vanilla stays sync).
THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "1"))
# BENCH_SERVER=granian serves ours with granian's WSGI interface instead of gunicorn (exploring
# only: production runs gunicorn; granian parses HTTP in Rust and keeps connections alive).
SERVER = os.environ.get("BENCH_SERVER", "gunicorn")
if SERVER not in ("gunicorn", "granian"):
    raise SystemExit(f"BENCH_SERVER must be gunicorn or granian, not {SERVER!r}")
# BENCH_ONLY_OURS=1: skip the vanilla and node baselines (for exploring; no ratios then).
ONLY_OURS = bool(os.environ.get("BENCH_ONLY_OURS"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
# BENCH_DB_SUFFIX and BENCH_REDIS_DB: for two runs on one machine (each drops its databases
# and flushes its Redis database at the start).
DB_SUFFIX = os.environ.get("BENCH_DB_SUFFIX", "")
OURS_DB, VANILLA_DB = f"identity_bench{DB_SUFFIX}", f"identity_bench_vanilla{DB_SUFFIX}"
REDIS_URL = f"redis://127.0.0.1:6379/{int(os.environ.get('BENCH_REDIS_DB', '9'))}"
# The scale pass (issue 5, "Scale"; bench/scale.py): after ours' scenarios, seed this many
# rows into ours' database with SQL, run the scenarios again for BENCH_SCALE_DURATION seconds
# each, then drive client credentials while `purge_expired` deletes the expired rows.
SCALE = os.environ.get("BENCH_SCALE", "1") != "0"
SCALE_TOKENS = int(os.environ.get("BENCH_SCALE_TOKENS", "1000000"))
SCALE_USERS = int(os.environ.get("BENCH_SCALE_USERS", "100000"))
SCALE_CLIENTS = int(os.environ.get("BENCH_SCALE_CLIENTS", "10000"))
SCALE_DURATION = int(os.environ.get("BENCH_SCALE_DURATION", str(max(3, DURATION // 2))))
SCALE_WARMUP = min(WARMUP, 1)  # the workers are warm: one second re-fills the connections
SCALE_BATCH = int(os.environ.get("BENCH_SCALE_BATCH", "5000"))  # purge_expired --batch-size
REDIRECT_URI = "https://127.0.0.1/callback"  # never followed: the code is read from Location
N_USERS = 8

SCENARIOS = [
    # key, label
    ("client_credentials", "client-credentials token"),
    ("refresh", "refresh with rotation"),
    ("flow", "full browser flow (flows/s)"),
    ("introspect", "introspection"),
    ("api_me", "API call (/api/me, JWT + revocation)"),
    ("jwks", "JWKS"),
    ("discovery", "discovery"),
]


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- machine and tools --------------------------------------------------------------------


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


def loadavg():
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def tool_versions():
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("Django", "django-oauth-toolkit", "oauthlib", "jwcrypto", "gunicorn", "psycopg"):
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
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON ") :])
    raise RuntimeError(f"no BENCH_JSON line in output:\n{output[-2000:]}")


# --- servers -----------------------------------------------------------------------------


class Server:
    """A server process we start (own session, so it and its workers stop together)."""

    def __init__(self, name, cmd, *, cwd, env, port, ready_path, log_path):
        self.name, self.cmd, self.cwd, self.env = name, cmd, cwd, env
        self.port, self.ready_path, self.log_path = port, ready_path, log_path
        self.base = f"http://127.0.0.1:{port}"
        self.process = None

    def start(self, timeout=60):
        self._log = open(self.log_path, "a")  # closed in stop()
        self.process = subprocess.Popen(
            self.cmd, cwd=self.cwd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(self.base + self.ready_path, timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} did not start; log:\n{Path(self.log_path).read_text()[-3000:]}")

    def worker_pids(self):
        """gunicorn's workers (the master's children), or the process itself (node)."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        return [int(c) for c in children] or [pid]

    def peak_rss_mib(self):
        peaks = {}
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = round(int(line.split()[1]) / 1024, 1)
            except OSError:
                pass
        return peaks

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            self._close_log()
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # our own process group, by id
            self.process.wait(timeout=10)
        self._close_log()

    def _close_log(self):
        log_file = getattr(self, "_log", None)
        if log_file and not log_file.closed:
            log_file.close()


def gunicorn(name, module, *, cwd, env, port, tmp, threads=1, server="gunicorn"):
    """gunicorn as production runs it; `server="granian"` for exploring (BENCH_SERVER)."""
    if server == "granian":
        cmd = [GRANIAN, "--interface", "wsgi", f"{module}:application", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--workers", str(WORKERS), "--blocking-threads", str(threads), "--log-level", "warning"]
        return Server(name, cmd, cwd=cwd, env=env, port=port, ready_path="/health/live", log_path=f"{tmp}/{name}.log")
    cmd = [GUNICORN, module, "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--timeout", "30"]
    if threads > 1:
        cmd += ["--worker-class", "gthread", "--threads", str(threads)]
    return Server(name, cmd, cwd=cwd, env=env, port=port, ready_path="/health/live", log_path=f"{tmp}/{name}.log")


# --- load ----------------------------------------------------------------------------------


def wrk(base, scenario, *, duration, pool_file=None):
    """Run wrk with one of our Lua scripts; the numbers come from the script's done() hook."""
    process = wrk_start(base, scenario, duration=duration, pool_file=pool_file)
    try:
        stdout, _ = process.communicate(timeout=duration + 90)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return wrk_result(stdout)


def wrk_start(base, scenario, *, duration, pool_file=None):
    """wrk as a running process. SIGINT stops it early; it then reports as at its deadline."""
    env = {
        **os.environ,
        "BENCH_LUA_DIR": str(BENCH / "lua"),
        "BENCH_METHOD": scenario.get("method", "GET"),
        "BENCH_PATH": scenario["path"],
        "BENCH_BODY": scenario.get("body", ""),
        "BENCH_AUTH": scenario.get("auth", ""),
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


def run_scenarios(server, scenarios, *, pool_file, flow_args, tmp, name, duration=DURATION, warmup=WARMUP):
    """Every wrk scenario, then the browser flow last: its password hashes (Argon2 with
    Django's 100 MiB default, for ours) raise the workers' peak RSS, which is read before it
    too (`rss_before_logins`)."""
    results = {}
    order = [key for key, _ in SCENARIOS if key != "flow"] + ["flow"]
    for key in order:
        drain(server)
        if key == "flow" and flow_args:
            results["rss_before_logins"] = server.peak_rss_mib()
            log(f"{name}: full browser flow for {duration}s ({FLOW_THREADS} threads)")
            results[key] = flow_load(server.base, tmp=tmp, name=name, duration=duration, **flow_args)
        elif key == "refresh" and key in scenarios:
            # No separate warm-up: minting the pool already exercised the token endpoint.
            log(f"{name}: refresh with rotation for up to {duration}s")
            results[key] = wrk(server.base, scenarios[key], duration=duration, pool_file=pool_file)
        elif key in scenarios:
            log(f"{name}: {key}: warm-up {warmup}s, then {duration}s")
            if warmup:
                wrk(server.base, scenarios[key], duration=warmup)
                drain(server)
            results[key] = wrk(server.base, scenarios[key], duration=duration)
        else:
            continue
        r = results[key]
        log(f"  -> {r['rate']:.1f}/s p50 {fmt_ms(r['p50_ms'])} p99 {fmt_ms(r['p99_ms'])} errors {r['errors']}")
        if r["errors"] and r.get("error_sample"):
            log(f"     first error: {r['error_sample'][:200]}")
    return results


def sql_counts(*, cwd, env, scenarios, tmp, name):
    spec_file = Path(tmp) / f"{name}-sql.json"
    spec_file.write_text(json.dumps({"scenarios": scenarios}))
    env = {**env, "ALLOWED_HOSTS": env.get("ALLOWED_HOSTS", "") + ",testserver"}
    try:
        output = run([PY, str(BENCH / "sqlcount.py"), str(spec_file)], cwd=cwd, env=env, timeout=300)
        return bench_json(output)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        log(f"{name}: SQL counting failed: {exc}")
        return {}


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


# --- the three systems ----------------------------------------------------------------------

OURS_PATHS = {"login": "/accounts/login/", "authorize": "/oauth/authorize/", "token": "/oauth/token/"}
VANILLA_PATHS = {"login": "/accounts/login/", "authorize": "/o/authorize/", "token": "/o/token/"}


def make_users(prefix):
    return [{"username": f"{prefix}{i}", "password": secrets.token_urlsafe(18)} for i in range(N_USERS)]


def write_pem(path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)


def measure(server, scenarios, *, name, cwd, env, tmp, pool_file, sql_refresh, users, client, scope, paths):
    """Count SQL statements per request (in-process), then load the running server.

    Returns (results per scenario, peak RSS per worker, peak RSS before the browser-flow logins).
    """
    log(f"{name}: counting SQL statements per request (in-process, Django test client)")
    sql = sql_counts(
        cwd=cwd, env=env, tmp=tmp, name=name,
        scenarios=[
            *({"key": k, "kind": "fixed", **v} for k, v in scenarios.items() if k != "refresh"),
            {"key": "refresh", "kind": "pool", "tokens": sql_refresh, **scenarios["refresh"]},
            {"key": "flow", "kind": "flow", "user": users[0], "client": client, "scope": scope, **paths},
        ],
    )  # fmt: skip
    results = run_scenarios(
        server, scenarios, pool_file=pool_file, tmp=tmp, name=name,
        flow_args={"paths": paths, "client": client, "users": users, "scope": scope},
    )  # fmt: skip
    for key, counts in sql.items():
        if key in results:
            results[key]["sql"] = counts.get("queries")
            results[key]["sql_data"] = counts.get("data_queries")
            results[key]["sql_detail"] = counts
    rss = server.peak_rss_mib()
    return results, rss, results.pop("rss_before_logins", None)


def bench_ours(tmp):
    from cryptography.fernet import Fernet

    port = free_port()
    key_file = Path(tmp) / "signing_key.pem"
    write_pem(key_file)
    (Path(tmp) / "var").mkdir()
    (Path(tmp) / "static").mkdir()
    env = {
        **base_env(),
        "DJANGO_SETTINGS_MODULE": "identity.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ISSUER": f"http://127.0.0.1:{port}",
        "SIGNING_KEY_FILE": str(key_file),
        # For the database key store (another change); harmless where settings ignore it.
        "KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{OURS_DB}",
        "REDIS_URL": REDIS_URL,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CONN_MAX_AGE": "600",
        # Plain http on loopback (no TLS proxy here): let the browser flow's cookies travel.
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "VAR_DIR": f"{tmp}/var",
        "STATIC_ROOT": f"{tmp}/static",
        "LOG_LEVEL": "WARNING",
    }
    settings_text = (ROOT / "identity" / "settings.py").read_text()
    notes = {"key_encryption_keys_setting_present": "KEY_ENCRYPTION_KEYS" in settings_text}

    log(f"ours: recreating database {OURS_DB}, flushing Redis {REDIS_URL}, migrating")
    recreate_database(OURS_DB)
    flush_redis()
    manage = [PY, "manage.py"]
    run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env)
    run([*manage, "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env)

    def create_client(*args):
        return json.loads(run([*manage, "create_client", "--json", *args], cwd=ROOT, env=env))

    cc = create_client("--name", "bench-cc", "--grant-types", "client_credentials", "--scopes", "profile read")
    web = create_client(
        "--name", "bench-web", "--grant-types", "authorization_code,refresh_token",
        "--redirect-uri", REDIRECT_URI, "--trusted", "--scopes", "profile read",
    )  # fmt: skip
    rs = create_client(
        "--name", "bench-resource-server", "--grant-types", "client_credentials", "--introspect-any"
    )  # fmt: skip
    web["redirect_uri"] = REDIRECT_URI
    users = make_users("bench")
    users_file = Path(tmp) / "ours-users.json"
    users_file.write_text(json.dumps(users))
    run(
        [
            *manage,
            "shell",
            "-c",
            "import json\nfrom django.contrib.auth import get_user_model\n"
            f"for u in json.load(open({str(users_file)!r})):\n"
            "    get_user_model().objects.create_user(u['username'], password=u['password'])\n",
        ],
        cwd=ROOT,
        env=env,
    )

    server = gunicorn(
        "ours", "identity.wsgi", cwd=ROOT, env=env, port=port, tmp=tmp, threads=THREADS, server=SERVER
    ).start()
    try:
        # The scale pass gets its own share of the pool, minted on top (same time per scenario second).
        share = SCALE_DURATION / DURATION if SCALE else 0
        target, budget = round(POOL_TARGET * (1 + share)), MINT_SECONDS * (1 + share)
        log(f"ours: serving on {server.base}; minting up to {target} refresh tokens (<= {budget:.0f}s)")
        started = time.monotonic()
        refresh_tokens, access_tokens = mint_pool(
            server.base, OURS_PATHS, client=web, users=users, scope="profile read",
            target=target + 4, seconds=budget,
        )  # fmt: skip
        mint_seconds = time.monotonic() - started
        log(f"ours: minted {len(refresh_tokens)} in {mint_seconds:.1f}s ({len(refresh_tokens) / mint_seconds:.0f}/s)")
        if len(refresh_tokens) < 10:
            raise RuntimeError("ours: could not mint tokens through the API")
        sql_refresh, refresh_tokens = refresh_tokens[:2], refresh_tokens[2:]
        kept = len(refresh_tokens) - round(len(refresh_tokens) * share / (1 + share))
        refresh_tokens, scale_pool = refresh_tokens[:kept], refresh_tokens[kept:]
        me_token, introspect_token = access_tokens[-1], access_tokens[-2]
        pool_file = Path(tmp) / "ours-pool.txt"
        pool_file.write_text("\n".join(refresh_tokens) + "\n")
        # Fresh workers for the load: minting logged in with Argon2 (Django's default costs
        # 100 MiB), which would otherwise hide the peak RSS of the token scenarios.
        server.stop()
        server.start()

        cc_auth = flows.basic_auth(cc["client_id"], cc["client_secret"])
        web_auth = flows.basic_auth(web["client_id"], web["client_secret"])
        rs_auth = flows.basic_auth(rs["client_id"], rs["client_secret"])
        scenarios = {
            "client_credentials": {
                "method": "POST", "path": OURS_PATHS["token"], "auth": cc_auth,
                "body": "grant_type=client_credentials&scope=profile",
            },
            "refresh": {
                "method": "POST", "path": OURS_PATHS["token"], "auth": web_auth,
                "body": "grant_type=refresh_token&refresh_token={token}",
            },
            "introspect": {
                "method": "POST", "path": "/oauth/introspect/", "auth": rs_auth,
                "body": f"token={introspect_token}&token_type_hint=access_token",
            },
            "api_me": {"method": "GET", "path": "/api/me", "auth": f"Bearer {me_token}"},
            "jwks": {"method": "GET", "path": "/.well-known/jwks.json"},
            "discovery": {"method": "GET", "path": "/.well-known/openid-configuration"},
        }  # fmt: skip

        results, rss, rss_before_logins = measure(
            server, scenarios, name="ours", cwd=str(ROOT), env=env, tmp=tmp, pool_file=pool_file,
            sql_refresh=sql_refresh, users=users, client=web, scope="profile read", paths=OURS_PATHS,
        )  # fmt: skip
        scale_report = {"skipped": "BENCH_SCALE=0"}
        if SCALE:
            try:
                scale_report = bench_scale(server, scenarios, env=env, tmp=tmp, pool=scale_pool + refresh_tokens)
            except (RuntimeError, OSError, ValueError, subprocess.SubprocessError, requests.RequestException) as exc:
                log(f"scale pass failed: {exc}")
                scale_report = {"failed": str(exc)[:2000]}
            if "scenarios" in scale_report:
                scale_report["ratio_scale_to_empty"] = {
                    key: round(r["rate"] / results[key]["rate"], 3)
                    for key, r in scale_report["scenarios"].items()
                    if results.get(key, {}).get("rate")
                }
    finally:
        server.stop()
    notes.update(
        pool_minted=len(refresh_tokens), scale_pool_reserved=len(scale_pool), mint_seconds=round(mint_seconds, 1)
    )
    return {
        "scenarios": results,
        "peak_rss_mib": rss,
        "peak_rss_mib_before_logins": rss_before_logins,
        "notes": notes,
        "scale": scale_report,
    }


# --- scale (issue 5: a million token rows, and the purge under load) -----------------------


def bench_scale(server, scenarios, *, env, tmp, pool):
    """Seed the scale data into ours' database (bench/scale.py), run the scenarios again on
    fresh workers, then drive client credentials while `purge_expired` runs."""
    import psycopg
    import scale

    started = time.monotonic()
    dsn = f"postgresql://postgres@127.0.0.1:5432/{OURS_DB}"
    shares = scale.split(SCALE_TOKENS)
    log(
        f"scale: seeding {SCALE_TOKENS:,} access tokens ({shares['expired']:,} expired, {shares['anchored']:,} "
        f"expired but anchoring a live refresh token, {shares['live']:,} live), {SCALE_USERS:,} users, "
        f"{SCALE_CLIENTS:,} clients with SQL"
    )
    try:
        seeded = scale.seed(dsn, users=SCALE_USERS, clients=SCALE_CLIENTS, **shares)
    except psycopg.Error as exc:
        raise RuntimeError(f"seeding failed: {exc}") from exc
    log(f"scale: seeded in {seeded['seconds']['total']}s ({seeded['seconds']})")
    # The refresh run used part of the pool: what it left is still live (checked by checksum).
    left = unused_refresh_tokens(dsn, pool)
    server.stop()
    server.start()  # fresh workers, as for the run on the empty database
    web_auth = scenarios["refresh"]["auth"]
    fresh = [refresh_once(server.base, web_auth, token)["access_token"] for token in left[:2]]
    if len(fresh) < 2:
        raise RuntimeError("scale: no unused refresh tokens left (raise BENCH_POOL or BENCH_MINT_SECONDS)")
    at_scale = {
        **scenarios,
        "introspect": {**scenarios["introspect"], "body": f"token={fresh[0]}&token_type_hint=access_token"},
        "api_me": {**scenarios["api_me"], "auth": f"Bearer {fresh[1]}"},
    }
    pool_file = Path(tmp) / "ours-scale-pool.txt"
    pool_file.write_text("\n".join(left[2:]) + "\n")
    log(f"scale: {len(left) - 2} unused refresh tokens for the refresh run")
    results = run_scenarios(
        server, at_scale, pool_file=pool_file, flow_args=None, tmp=tmp, name="ours at scale",
        duration=SCALE_DURATION, warmup=SCALE_WARMUP,
    )  # fmt: skip
    drain(server)
    under_load = purge_under_load(server, scenarios["client_credentials"], env=env, dsn=dsn)
    under_load["without_purge"] = {k: results["client_credentials"][k] for k in ("rate", "p50_ms", "p99_ms", "errors")}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CHECKPOINT")  # the purge's writes are flushed now, not during the next system's run
    return {
        "parameters": {
            "tokens": SCALE_TOKENS,
            "users": SCALE_USERS,
            "clients": SCALE_CLIENTS,
            "duration_s": SCALE_DURATION,
            "warmup_s": SCALE_WARMUP,
            "purge_batch_size": SCALE_BATCH,
        },
        "seed": seeded,
        "refresh_pool_left": len(left) - 2,
        "scenarios": results,
        "purge_under_load": under_load,
        "elapsed_s": round(time.monotonic() - started, 1),
    }


def unused_refresh_tokens(dsn, tokens):
    """The tokens of `tokens` still live (not rotated by the refresh run), in their order."""
    import hashlib

    import psycopg

    checksums = {hashlib.sha256(token.encode()).hexdigest(): token for token in tokens}
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT token_checksum FROM oauth_refreshtoken WHERE revoked IS NULL AND token_checksum = ANY(%s)",
            [list(checksums)],
        ).fetchall()
    live = {row[0] for row in rows}
    return [token for checksum, token in checksums.items() if checksum in live]


def refresh_once(base, auth, refresh_token):
    response = requests.post(
        base + OURS_PATHS["token"],
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers={"Authorization": auth},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


PURGE_LINE = re.compile(r"^(?P<name>\S+): (?P<rows>\d+) deleted in (?P<seconds>[\d.]+) s, (?P<transactions>\d+) "
                        r"transactions, longest (?P<longest_ms>\d+) ms$", re.M)  # fmt: skip


def purge_under_load(server, scenario, *, env, dsn):
    """wrk on `scenario` from just before `manage.py purge_expired -v 2` starts until it ends."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        expired_rows = conn.execute("SELECT count(*) FROM oauth_accesstoken WHERE expires < now()").fetchone()[0]
    log(f"scale: purge_expired --batch-size {SCALE_BATCH} with {expired_rows:,} expired access tokens, under wrk")
    load = wrk_start(server.base, scenario, duration=3600)  # stopped by SIGINT when the purge ends
    try:
        time.sleep(0.5)
        started = time.monotonic()
        purge = subprocess.run(
            [PY, "manage.py", "purge_expired", "-v", "2", "--batch-size", str(SCALE_BATCH)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        seconds = time.monotonic() - started
    finally:
        load.send_signal(signal.SIGINT)
        stdout, _ = load.communicate(timeout=60)
    if purge.returncode != 0:
        raise RuntimeError(f"purge_expired failed ({purge.returncode}):\n{purge.stderr[-3000:]}")
    during = wrk_result(stdout)
    purgers = {m["name"]: m.groupdict() for m in PURGE_LINE.finditer(purge.stdout)}
    tokens = purgers.get("oauth.tokens", {})
    rows = sum(int(p["rows"]) for p in purgers.values())
    result = {
        "expired_access_tokens_before": expired_rows,
        "purge_seconds": round(seconds, 1),
        "rows_deleted": rows,
        "rows_per_s": round(rows / seconds) if seconds else None,
        "transactions": sum(int(p["transactions"]) for p in purgers.values()),
        "longest_transaction_ms": max((int(p["longest_ms"]) for p in purgers.values()), default=None),
        "tokens_purger": tokens,
        "purge_output": purge.stdout.strip().splitlines(),
        "during_purge": during,
    }
    log(
        f"  -> deleted {rows:,} rows in {seconds:.1f}s ({result['rows_per_s']:,}/s, longest transaction "
        f"{result['longest_transaction_ms']} ms); token endpoint meanwhile {during['rate']:.1f}/s, "
        f"p99 {fmt_ms(during['p99_ms'])}, errors {during['errors']}"
    )
    return result


def bench_vanilla(tmp):
    port = free_port()
    cwd = str(BENCH / "vanilla")
    env = {
        **base_env(),
        "DJANGO_SETTINGS_MODULE": "vanilla_site.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{VANILLA_DB}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    log(f"vanilla: recreating database {VANILLA_DB}, migrating, seeding (ORM; PBKDF2 hashes take a while)")
    recreate_database(VANILLA_DB)
    run([PY, "manage.py", "migrate", "--noinput"], cwd=cwd, env=env)
    users = make_users("vanilla")
    pool_file = Path(tmp) / "vanilla-pool.txt"
    seed_spec, seed_out = Path(tmp) / "vanilla-seed.json", Path(tmp) / "vanilla-seeded.json"
    seed_spec.write_text(
        json.dumps(
            {"users": users, "redirect_uri": REDIRECT_URI, "pool_size": VANILLA_POOL, "pool_file": str(pool_file)}
        )
    )
    run([PY, "seed.py", str(seed_spec), str(seed_out)], cwd=cwd, env=env)
    seeded = json.loads(seed_out.read_text())
    cc, web = seeded["cc"], seeded["web"]
    pool = pool_file.read_text().split()
    sql_refresh = pool[:2]
    pool_file.write_text("\n".join(pool[2:]) + "\n")

    server = gunicorn("vanilla", "vanilla_site.wsgi", cwd=cwd, env=env, port=port, tmp=tmp).start()
    try:
        log(f"vanilla: serving on {server.base}; one real browser flow and an introspection token via the API")
        user_token = flows.full_flow({"base": server.base, **VANILLA_PATHS, "client": web, "scope": "read"}, users[0])
        cc_auth = flows.basic_auth(cc["client_id"], cc["client_secret"])
        response = requests.post(
            server.base + VANILLA_PATHS["token"],
            data={"grant_type": "client_credentials", "scope": "introspection"},
            headers={"Authorization": cc_auth},
            timeout=60,
        )
        response.raise_for_status()
        introspection_bearer = response.json()["access_token"]
        web_auth = flows.basic_auth(web["client_id"], web["client_secret"])
        scenarios = {
            "client_credentials": {
                "method": "POST", "path": VANILLA_PATHS["token"], "auth": cc_auth,
                "body": "grant_type=client_credentials&scope=read",
            },
            "refresh": {
                "method": "POST", "path": VANILLA_PATHS["token"], "auth": web_auth,
                "body": "grant_type=refresh_token&refresh_token={token}",
            },
            # DOT's IntrospectTokenView with a Bearer token that has the `introspection` scope
            # (its documented resource-server set-up; client auth would add a PBKDF2 hash).
            "introspect": {
                "method": "POST", "path": "/o/introspect/", "auth": f"Bearer {introspection_bearer}",
                "body": f"token={user_token['access_token']}",
            },
            "api_me": {"method": "GET", "path": "/api/me", "auth": f"Bearer {user_token['access_token']}"},
        }  # fmt: skip
        results, rss, rss_before_logins = measure(
            server, scenarios, name="vanilla", cwd=cwd, env=env, tmp=tmp, pool_file=pool_file,
            sql_refresh=sql_refresh, users=users, client=web, scope="read", paths=VANILLA_PATHS,
        )  # fmt: skip
    finally:
        server.stop()
    return {
        "scenarios": results,
        "peak_rss_mib": rss,
        "peak_rss_mib_before_logins": rss_before_logins,
        "notes": {"pool_seeded_orm": VANILLA_POOL},
    }


def bench_node(tmp):
    node_dir = BENCH / "node"
    if os.environ.get("BENCH_SKIP_NODE"):
        return {"skipped": "BENCH_SKIP_NODE is set"}
    if not (shutil.which("node") and shutil.which("npm")):
        return {"skipped": "node not available"}
    version = json.loads((node_dir / "package.json").read_text())["dependencies"]["oidc-provider"]
    installed = node_dir / "node_modules" / "oidc-provider" / "package.json"
    if not installed.exists() or json.loads(installed.read_text()).get("version") != version:
        log(f"node: npm install (oidc-provider {version})")
        try:
            run(
                ["npm", "install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"],
                cwd=str(node_dir),
                env={**os.environ},
                timeout=300,
            )
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            return {"skipped": f"npm install failed: {str(exc)[:300]}"}
    port = free_port()
    client_id, client_secret = "bench-cc", secrets.token_urlsafe(48)
    env = {**base_env(), "NODE_ENV": "production"}
    server = Server(
        "node",
        ["node", "server.mjs", str(port), client_id, client_secret],
        cwd=str(node_dir),
        env=env,
        port=port,
        ready_path="/.well-known/openid-configuration",
        log_path=f"{tmp}/node.log",
    )
    try:
        server.start()
    except RuntimeError as exc:
        return {"skipped": f"node server did not start: {str(exc)[:300]}"}
    try:
        scenarios = {
            "client_credentials": {
                "method": "POST",
                "path": "/token",
                "auth": flows.basic_auth(client_id, client_secret),
                "body": "grant_type=client_credentials&scope=api",
            }
        }
        log(f"node: serving on {server.base}")
        results = run_scenarios(server, scenarios, pool_file=None, flow_args=None, tmp=tmp, name="node")
        rss = server.peak_rss_mib()
    finally:
        server.stop()
    return {"scenarios": results, "peak_rss_mib": rss, "version": version}


# --- report --------------------------------------------------------------------------------


def fmt_ms(value):
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def fmt_rate(value):
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def fmt_sql(result, key):
    """All statements (data statements: SELECT/INSERT/UPDATE/DELETE), per request or flow."""
    if result.get("sql") is None:
        return "-"
    text = f"{result['sql']} ({result.get('sql_data', '?')})"
    return f"{text}/flow" if key == "flow" else text


SQL_LEGEND = (
    "SQL/req: every statement Django sent for one request, counted in-process, transaction control "
    "(BEGIN, COMMIT, SAVEPOINT, RELEASE) included; in parentheses the data statements alone. The flow "
    "counts its four requests together. Not counted: CONN_HEALTH_CHECKS' SELECT 1 per request."
)


def table(report):
    ours = report["ours"]["scenarios"]
    vanilla = report["vanilla"].get("scenarios", {})
    lines = [
        "| scenario | ours req/s | p50 | p99 | errors | SQL/req | vanilla req/s | ratio ours/vanilla |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, label in SCENARIOS:
        o, v = ours.get(key), vanilla.get(key)
        if o is None:
            continue
        ratio = f"{o['rate'] / v['rate']:,.1f}x" if v and v["rate"] else "-"
        sql_text = fmt_sql(o, key)
        lines.append(
            f"| {label} | {fmt_rate(o['rate'])} | {fmt_ms(o['p50_ms'])} | {fmt_ms(o['p99_ms'])} | {o['errors']} "
            f"| {sql_text} | {fmt_rate(v['rate']) if v else 'n/a'} | {ratio} |"
        )
    return "\n".join(lines)


def extra_lines(report):
    lines = []
    vanilla = report["vanilla"].get("scenarios", {})
    if vanilla:
        lines.append("")
        lines.append("vanilla django-oauth-toolkit detail:")
        lines.append("| scenario | req/s | p50 | p99 | errors | SQL/req |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
        for key, label in SCENARIOS:
            v = vanilla.get(key)
            if v:
                sql = fmt_sql(v, key)
                lines.append(
                    f"| {label} | {fmt_rate(v['rate'])} | {fmt_ms(v['p50_ms'])} | {fmt_ms(v['p99_ms'])} "
                    f"| {v['errors']} | {sql} |"
                )
    lines.append("")
    lines.append(SQL_LEGEND)
    node = report["node"]
    lines.append("")
    if "skipped" in node:
        lines.append(f"node-oidc-provider: skipped: {node['skipped']}")
    else:
        n = node["scenarios"]["client_credentials"]
        o = report["ours"]["scenarios"]["client_credentials"]
        lines.append(
            f"node-oidc-provider {node['version']} (1 process, in-memory, RS256 JWT) client credentials: "
            f"{fmt_rate(n['rate'])} req/s, p50 {fmt_ms(n['p50_ms'])}, p99 {fmt_ms(n['p99_ms'])}, "
            f"errors {n['errors']}; ratio ours/node {o['rate'] / n['rate']:.2f}x"
        )
    lines.append("")
    for name in ("ours", "vanilla", "node"):
        rss = report[name].get("peak_rss_mib")
        if rss:
            kind = "process" if name == "node" else "worker"
            values = ", ".join(f"{v:.0f} MiB" for v in rss.values())
            before = report[name].get("peak_rss_mib_before_logins")
            if before:
                values += " (before the browser-flow logins: " + ", ".join(f"{v:.0f}" for v in before.values()) + ")"
            lines.append(f"peak RSS per {kind} (VmHWM), {name}: {values}")
    return "\n".join(lines)


def scale_lines(report):
    """The scale pass: the same scenarios on a database of a million token rows, and the purge."""
    scale = report.get("scale") or {}
    if "scenarios" not in scale:
        return f"scale pass: {scale.get('skipped') or scale.get('failed') or 'not run'}"
    seed, params, empty = scale["seed"], scale["parameters"], report["ours"]["scenarios"]
    lines = [
        f"Scale: {seed['access_tokens']:,} access-token rows ({seed['access_tokens_expired']:,} expired, "
        f"{seed['access_tokens_expired_anchoring_a_live_refresh_token']:,} expired but anchoring a live refresh "
        f"token, {seed['access_tokens_live']:,} live), {seed['users']:,} users, {seed['clients']:,} clients, seeded "
        f"with SQL in {seed['seconds']['total']} s; {params['duration_s']} s per scenario, same server and clients",
        "",
        "| scenario | empty req/s | scale req/s | ratio scale/empty | scale p50 | scale p99 | scale errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, label in SCENARIOS:
        r, e = scale["scenarios"].get(key), empty.get(key)
        if r is None:
            continue
        ratio = scale.get("ratio_scale_to_empty", {}).get(key)
        lines.append(
            f"| {label} | {fmt_rate(e['rate']) if e else '-'} | {fmt_rate(r['rate'])} "
            f"| {f'{ratio:.2f}x' if ratio else '-'} | {fmt_ms(r['p50_ms'])} | {fmt_ms(r['p99_ms'])} | {r['errors']} |"
        )
    purge = scale["purge_under_load"]
    during, without = purge["during_purge"], purge["without_purge"]
    lines += [
        "",
        f"Purge under load: `purge_expired --batch-size {params['purge_batch_size']}` with "
        f"{purge['expired_access_tokens_before']:,} expired access tokens present deleted {purge['rows_deleted']:,} "
        f"rows in {purge['purge_seconds']} s ({purge['rows_per_s']:,} rows/s; {purge['transactions']} transactions, "
        f"longest {purge['longest_transaction_ms']} ms) while wrk drove client credentials:",
        "",
        "| client-credentials token | req/s | p50 | p99 | errors |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, r in (("without the purge (scale pass)", without), ("during the purge", during)):
        lines.append(
            f"| {label} | {fmt_rate(r['rate'])} | {fmt_ms(r['p50_ms'])} | {fmt_ms(r['p99_ms'])} | {r['errors']} |"
        )
    return "\n".join(lines)


def chart(report, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: no chart (pip install -r requirements/bench.txt)")
        return False
    systems = [("ours", "ours (identity)", "#1f6feb"), ("vanilla", "vanilla DOT 3.4.1", "#999999")]
    if "scenarios" in report["node"]:
        systems.append(("node", "node-oidc-provider (in-memory)", "#2da44e"))
    labels = [label for key, label in SCENARIOS if key in report["ours"]["scenarios"]]
    keys = [key for key, _ in SCENARIOS if key in report["ours"]["scenarios"]]
    fig, ax = plt.subplots(figsize=(11, 5.5))
    width = 0.8 / len(systems)
    for i, (name, legend, color) in enumerate(systems):
        values = [report[name].get("scenarios", {}).get(k, {}).get("rate") for k in keys]
        xs = [j + (i - (len(systems) - 1) / 2) * width for j in range(len(keys))]
        bars = ax.bar(
            [x for x, v in zip(xs, values, strict=True) if v],
            [v for v in values if v],
            width,
            label=legend,
            color=color,
        )
        for bar in bars:
            height = bar.get_height()
            text = f"{height:,.0f}" if height >= 10 else f"{height:.1f}"
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, height), ha="center", va="bottom", fontsize=7)
    targets = {"client_credentials": 1000, "refresh": 400, "flow": 40, "introspect": 1500, "api_me": 2000}
    for j, key in enumerate(keys):
        if key in targets:
            ax.hlines(targets[key], j - 0.45, j + 0.45, colors="#cf222e", linestyles="dashed", linewidth=1.2)
    ax.plot([], [], color="#cf222e", linestyle="dashed", label="target (issue 5)")
    ax.set_yscale("log")
    highest = max(
        (r["rate"] for name, _, _ in systems for r in report[name].get("scenarios", {}).values() if r.get("rate")),
        default=10,
    )
    ax.set_ylim(bottom=1, top=max(highest, 2000) * 10)  # room for the legend above the bars
    ax.set_ylabel("requests/s (flows/s for the browser flow), log scale")
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels([label.replace(" (", "\n(") for label in labels], fontsize=8)
    machine = report["machine"]
    ax.set_title(
        f"identity benchmark {report['timestamp']} — {machine['nproc']} cores, {machine['cpu_model']}, "
        f"{CONNECTIONS} connections, {serving()}",
        fontsize=9,
    )
    ax.legend(fontsize=8, loc="upper center", ncol=4)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def serving():
    if SERVER == "granian":
        ours = f"granian {WORKERS} WSGI workers x {THREADS} blocking threads"
    else:
        ours = f"{WORKERS} gthread workers x {THREADS} threads" if THREADS > 1 else f"{WORKERS} sync workers"
    return f"ours {ours}, vanilla {WORKERS} sync workers"


def main():
    started = time.monotonic()
    ensure_wrk()
    check_services()
    RESULTS.mkdir(exist_ok=True)
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
        report["ours"] = bench_ours(tmp)
        report["scale"] = report["ours"].pop("scale")
        report["loadavg"]["after_ours"] = loadavg()
        if ONLY_OURS:
            report["vanilla"] = {"failed": "skipped: BENCH_ONLY_OURS is set"}
            report["node"] = {"skipped": "BENCH_ONLY_OURS is set"}
        else:
            try:
                report["vanilla"] = bench_vanilla(tmp)
            except (RuntimeError, subprocess.SubprocessError, requests.RequestException) as exc:
                log(f"vanilla baseline failed: {exc}")
                report["vanilla"] = {"failed": str(exc)[:2000]}
            report["loadavg"]["after_vanilla"] = loadavg()
            report["node"] = bench_node(tmp)
        report["loadavg"]["end"] = loadavg()
    except BaseException:
        log(f"failed; server logs are kept in {tmp}")
        raise
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    report["table_markdown"] = table(report)
    report["extra"] = extra_lines(report)
    report["scale_markdown"] = scale_lines(report)

    print()
    print(f"identity benchmark {timestamp} — {report['machine']['nproc']} cores ({report['machine']['cpu_model']}); ")
    print(
        f"wrk {CONNECTIONS} connections x {DURATION}s per scenario; {serving()}; "
        f"load average at start {report['loadavg']['start']} (other jobs on this machine depress the figures)"
    )
    print()
    print(report["table_markdown"])
    print(report["extra"])
    print()
    print(report["scale_markdown"])
    print()

    for name in (f"{timestamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    if chart(report, RESULTS / "latest.png"):
        shutil.copyfile(RESULTS / "latest.png", RESULTS / f"{timestamp}.png")
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"results: bench/results/{timestamp}.json, latest.json, latest.png ({report['elapsed_s']}s in all)")


if __name__ == "__main__":
    main()
