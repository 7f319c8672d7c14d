"""The OpenID Provider under test, served as production serves it: gunicorn (2 sync workers,
TLS with a certificate made for this run), DEBUG off, PostgreSQL and Redis, a fresh database.

The OIDF suite registers static clients as its certification plans describe them; so does
this module (`manage.py create_client`): confidential, client_secret_basic, PKCE optional
(`--pkce-optional`: RFC 9700 2.1.1 lets a confidential OpenID Connect client rely on nonce),
with the redirect, post-logout and back-channel logout URIs the suite's instructions name.
"""

# ruff: noqa: S603, S607
# (the suite runs the server it tests, by design)

import datetime
import ipaddress
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
GUNICORN = str(Path(PY).with_name("gunicorn"))
PASSWORD = "conformance password 7f3c"  # noqa: S105 (a throwaway user on a throwaway database)
USERNAME = "buffy"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_tls(directory):
    """A throwaway CA and a certificate for 127.0.0.1 signed by it; returns (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "identity conformance CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # fmt: skip
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = Path(directory) / "ca.pem", Path(directory) / "cert.pem", Path(directory) / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.chmod(paths[2], 0o600)
    return tuple(str(p) for p in paths)


def write_signing_key(path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    Path(path).write_bytes(pem)
    os.chmod(path, 0o600)


def recreate_database(url):
    """Drop and create the database of `url`; only one whose name ends in "conformance"."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    if not name.endswith("conformance"):
        raise RuntimeError(f"refusing to recreate {name!r}: the conformance database's name must end in 'conformance'")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis(url):
    import redis

    redis.Redis.from_url(url).flushdb()


@dataclass
class RegisteredClient:
    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uri: str
    backchannel_logout_uri: str


class OP:
    """One provider for the whole run (a session fixture)."""

    def __init__(self, tmp, *, tls, database_url, redis_url, receiver_port):
        self.tmp = Path(tmp)
        self.port = free_port()
        self.issuer = f"https://127.0.0.1:{self.port}"
        self.database_url, self.redis_url = database_url, redis_url
        self.ca, self.cert, self.key = tls
        # The suite's client URLs: .../test/a/<alias>/callback and .../post_logout_redirect on the
        # suite's host. Nothing needs to listen there: the user agent stops at the redirect.
        self.rp_base = "https://127.0.0.1:8443/test/a/identity"
        self.receiver_port = receiver_port
        self.process = None

    def env(self):
        from cryptography.fernet import Fernet

        (self.tmp / "var").mkdir(exist_ok=True)
        (self.tmp / "static").mkdir(exist_ok=True)
        key_file = self.tmp / "signing_key.pem"
        if not key_file.exists():
            write_signing_key(key_file)
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")
        self._env = getattr(self, "_env", None) or {
            **{k: os.environ[k] for k in keep if k in os.environ},
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "identity.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ISSUER": self.issuer,
            "SIGNING_KEY_FILE": str(key_file),
            "KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "IDENTITY_REQUIRE_SERVICES": "1",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "VAR_DIR": str(self.tmp / "var"),
            "STATIC_ROOT": str(self.tmp / "static"),
            "LOG_LEVEL": "WARNING",
            # The back-channel logout receiver serves TLS with a certificate of this run's CA.
            "REQUESTS_CA_BUNDLE": self.ca,
        }
        return self._env

    def manage(self, *args, stdin=None):
        result = subprocess.run(
            [PY, "manage.py", *args], cwd=ROOT, env=self.env(), capture_output=True, text=True, input=stdin, timeout=300
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        return result.stdout

    def client_arguments(self, name, *, backchannel=False):
        """`manage.py create_client` arguments for one of the suite's static clients."""
        uris = {
            "redirect_uri": f"{self.rp_base}-{name}/callback",
            "post_logout_redirect_uri": f"{self.rp_base}-{name}/post_logout_redirect",
            "backchannel_logout_uri": "",
        }
        args = ["--name", f"conformance {name}", "--grant-types", "authorization_code,refresh_token"]
        args += ["--redirect-uri", uris["redirect_uri"], "--post-logout-redirect-uri", uris["post_logout_redirect_uri"]]
        args += ["--pkce-optional", "--json"]
        if backchannel:
            uris["backchannel_logout_uri"] = (
                f"https://127.0.0.1:{self.receiver_port}/test/a/identity/backchannel_logout"
            )  # fmt: skip
            args += ["--backchannel-logout-uri", uris["backchannel_logout_uri"]]
            args += ["--backchannel-logout-session-required"]
        return args, uris

    def prepare(self):
        """A fresh database; the suite's clients (`create_client`, in one process) and user."""
        recreate_database(self.database_url)
        flush_redis(self.redis_url)
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput", "-v0")
        plan = {"basic": {}, "post": {}, "second": {}, "backchannel": {"backchannel": True}}
        arguments = {name: self.client_arguments(name, **options) for name, options in plan.items()}
        script = CLIENTS_SCRIPT.format(arguments={name: args for name, (args, _) in arguments.items()})
        created = json.loads(self.manage("shell", stdin=script).strip().splitlines()[-1])
        self.clients = {
            name: RegisteredClient(created[name]["client_id"], created[name]["client_secret"], **uris)
            for name, (_, uris) in arguments.items()
        }
        self.manage("shell", stdin=USER_SCRIPT.format(username=USERNAME, password=PASSWORD))

    def start(self, timeout=60):
        self._log = open(self.tmp / "server.log", "a")  # noqa: SIM115 (closed in stop())
        cmd = [GUNICORN, "identity.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--timeout", "30"]
        cmd += ["--certfile", self.cert, "--keyfile", self.key]
        self.process = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env(), stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if requests.get(f"{self.issuer}/health/ready", timeout=2, verify=self.ca).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the server did not start:\n{(self.tmp / 'server.log').read_text()[-3000:]}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn: quick shutdown (the run is over)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # our own process group, by id
                self.process.wait(timeout=10)
        if getattr(self, "_log", None):
            self._log.close()


CLIENTS_SCRIPT = """
import io, json
from django.core.management import call_command
created = {{}}
for name, args in {arguments!r}.items():
    out = io.StringIO()
    call_command("create_client", *args, stdout=out)
    created[name] = json.loads(out.getvalue())
print(json.dumps(created))
"""

# The user the tester logs in as, with every standard claim a profile holds (OIDC Core 5.1).
USER_SCRIPT = """
import datetime
from django.contrib.auth import get_user_model
user = get_user_model().objects.create_user({username!r}, password={password!r}, email="buffy@example.com")
user.email_verified = True
user.first_name, user.last_name, user.middle_name, user.nickname = "Buffy", "Summers", "Anne", "Buff"
user.website = "https://example.com/buffy"
user.picture = "https://example.com/buffy.png"
user.gender = "female"
user.birthdate = datetime.date(1981, 1, 19)
user.zoneinfo, user.locale = "America/Los_Angeles", "en-US"
user.phone_number, user.phone_number_verified = "+1 555 0100", True
user.address_street_address, user.address_locality = "1630 Revello Drive", "Sunnydale"
user.address_region, user.address_postal_code, user.address_country = "CA", "95037", "US"
user.save()
"""
