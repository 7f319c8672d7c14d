"""Authlib + Flask (bench/systems/authlib_app.py): RS256 JWT client credentials, in-memory,
served like ours (gunicorn, sync workers)."""

import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.config import BENCH
from bench.scenarios import Fixture
from bench.server import wsgi_server
from bench.systems import System
from bench.tools import base_env, free_port, log

APP_DIR = BENCH / "systems"


def write_rsa_key(path):
    """A fresh RSA-2048 private key, PEM (PKCS#8), as the server's signing key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    Path(path).write_bytes(pem)
    return key


def authlib_env(*, issuer, key_file, client):
    return {
        **base_env(),
        "AUTHLIB_BENCH_ISSUER": issuer,
        "AUTHLIB_BENCH_KEY_FILE": str(key_file),
        "AUTHLIB_BENCH_CLIENT_ID": client["client_id"],
        "AUTHLIB_BENCH_CLIENT_SECRET": client["client_secret"],
        "AUTHLIB_BENCH_SCOPE": "api",
    }


class AuthlibFlask(System):
    name = "authlib"
    scenarios = ("client_credentials",)
    paths = {"token": "/token"}

    def prepare(self):
        self.port = free_port()
        self.client = {"client_id": "bench-cc", "client_secret": secrets.token_urlsafe(48)}
        key_file = Path(self.tmp) / "authlib-key.pem"
        write_rsa_key(key_file)
        self.env = authlib_env(issuer=f"http://127.0.0.1:{self.port}", key_file=key_file, client=self.client)

    def create_server(self):
        return wsgi_server(
            "authlib", "authlib_app:application", cwd=str(APP_DIR), env=self.env, port=self.port, tmp=self.tmp
        )

    def fixture(self):
        log(f"authlib: serving on {self.server.base}")
        return Fixture(cc=self.client, cc_scope="api")

    def summary(self):
        from importlib.metadata import version

        return {"version": {"authlib": version("authlib"), "flask": version("flask")}}
