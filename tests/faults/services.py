"""Private services for fault injection: a PostgreSQL cluster, a Redis and a gunicorn server,
each on a free loopback port, started and stopped by the tests (never the machine's shared
PostgreSQL on 5432 or Redis on 6379).

PostgreSQL refuses to run as root, so when the tests run as root its commands run as the
`postgres` user (runuser); its data directory is then made theirs.
"""

# ruff: noqa: S603, S607
# (the tests start the servers they break, by design)

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from base64 import urlsafe_b64encode
from pathlib import Path

import psycopg
import redis
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _postgres_bin():
    """IDENTITY_FAULTS_PG_BIN, else Debian's newest /usr/lib/postgresql/<version>/bin (15 here)."""
    if os.environ.get("IDENTITY_FAULTS_PG_BIN"):
        return Path(os.environ["IDENTITY_FAULTS_PG_BIN"])
    found = [path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    found.sort(key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)
    return found[-1] if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _postgres_bin()
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, timeout, interval=0.1, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def missing_binaries():
    """What this machine lacks to run the fault scenarios (an empty list: nothing)."""
    needed = [PG_BIN / "initdb", PG_BIN / "pg_ctl", Path(REDIS_SERVER)]
    return [str(path) for path in needed if not path.exists()]


class PrivatePostgres:
    """A throw-away cluster: initdb into a temporary directory, trust auth on 127.0.0.1 only."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="identity-faults-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")

    def url(self, database="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args):
        command = [str(arg) for arg in args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += " -c full_page_writes=off -c synchronous_commit=off -c max_connections=60"
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "30", "start")

    def stop(self, mode="fast"):
        """`fast` disconnects every client and shuts down cleanly; `immediate` is a crash."""
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")

    def connect(self, database="identity", *, autocommit=True):
        return psycopg.connect(self.url(database), autocommit=autocommit)

    def destroy(self):
        """Stop as a crash would (SIGQUIT to our postmaster, by its pid), then delete it all."""
        pid_file = self.data / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGQUIT)
            wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout=10, interval=0.05, what="postgres")
        except (OSError, ValueError, IndexError):
            pass  # not running
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A Redis of our own. `snapshot()` saves dump.rdb and keeps a copy; `restart(from_=...)`
    starts it again empty, from its last dump, or from a kept snapshot."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="identity-faults-redis-"))
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self):
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.dir), "--dbfilename", "dump.rdb", "--daemonize", "no", "--loglevel", "warning"]
        self._log = open(self.dir / "redis.log", "a")  # closed in stop()
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        wait_until(self._answers, timeout=10, what="the private Redis")

    def _answers(self):
        try:
            return self.client().ping()
        except redis.RedisError:
            return False

    def snapshot(self, name):
        """Write dump.rdb now (SAVE) and keep a copy as `name`: an older snapshot for later."""
        self.client().save()
        shutil.copy(self.dir / "dump.rdb", self.dir / name)

    def freeze(self):
        """SIGSTOP: Redis keeps its connections open and answers nothing (a hung server)."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # with --save "": no dump on the way out
            self.process.wait(timeout=10)
        self.process = None
        if getattr(self, "_log", None):
            self._log.close()

    def restart(self, *, from_snapshot=None):
        """Stop, then start empty (the default) or loaded from the kept snapshot `from_snapshot`."""
        self.stop()
        dump = self.dir / "dump.rdb"
        dump.unlink(missing_ok=True)
        if from_snapshot:
            shutil.copy(self.dir / from_snapshot, dump)
        self.start()

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def server_environment(database_url, redis_url, **overrides):
    """The environment of a production-like server (DEBUG=false, fresh keys) on the private
    services; `overrides` are further settings (environment variables)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")
    return {
        **{name: os.environ[name] for name in keep if name in os.environ},
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "identity.settings",
        "DEBUG": "false",
        "SECRET_KEY": urlsafe_b64encode(os.urandom(40)).decode(),
        "KEY_ENCRYPTION_KEYS": urlsafe_b64encode(os.urandom(32)).decode(),
        "SIGNING_KEY": pem.decode(),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # Plain HTTP on the loopback: the cookies cannot be Secure here.
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "VAR_DIR": str(Path(tempfile.gettempdir()) / f"identity-faults-var-{os.getpid()}"),
        "LOG_LEVEL": "WARNING",
        **overrides,
    }


def seeded_server(pg, redis, seed_module, *seed_args, **settings):
    """Start the private `pg` (with a database "identity") and `redis`, and seed them by running
    `python -m seed_module *seed_args` in the server's environment (DEBUG=false, `settings` on
    top). Returns the Gunicorn, not yet started, and the JSON the seed printed on its last line."""
    pg.start()
    with pg.connect("postgres") as conn:
        conn.execute("CREATE DATABASE identity")
    redis.start()
    server = Gunicorn(server_environment(pg.url("identity"), redis.url, **settings))
    seeded = subprocess.run(
        [sys.executable, "-m", seed_module, *seed_args],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    return server, json.loads(seeded.stdout.strip().splitlines()[-1])


class Gunicorn:
    """The server under test as production runs it (gunicorn, DEBUG=false), on the private
    services. gthread workers, so that 20 requests really run at once (the concurrency cases)."""

    def __init__(self, env, *, workers=2, threads=10):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "ISSUER": self.url}
        self.dir = Path(tempfile.mkdtemp(prefix="identity-faults-gunicorn-"))
        self.log = self.dir / "gunicorn.log"
        self.command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "identity.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
        ]
        self.process = None

    def start(self):
        self._log = open(self.log, "a")  # closed in stop()
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_until(self._ready, timeout=60, interval=0.2, what="gunicorn")
        except AssertionError:
            self.stop()
            raise AssertionError(f"gunicorn did not start; log:\n{self.log_text()[-3000:]}") from None

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited; log:\n{self.log_text()[-3000:]}")
        try:
            return requests.get(f"{self.url}/health/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # its own process group, by id
                self.process.wait(timeout=10)
        if getattr(self, "_log", None):
            self._log.close()

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
