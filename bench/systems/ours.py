"""Ours, served the way production serves it, on a throwaway database and Redis database."""

import json
import os
import secrets
import time
from pathlib import Path

from bench import flows, scale_pass
from bench.config import (
    DURATION,
    MINT_SECONDS,
    OURS_DB,
    POOL_TARGET,
    PY,
    REDIRECT_URI,
    REDIS_URL,
    ROOT,
    SCALE,
    SCALE_DURATION,
    SERVER,
    THREADS,
)
from bench.load import mint_pool
from bench.scenarios import Fixture, make_users
from bench.server import wsgi_server
from bench.systems import System
from bench.tools import base_env, flush_redis, free_port, log, recreate_database, run


def write_pem(path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)


class Ours(System):
    name = "ours"
    scenarios = ("client_credentials", "refresh", "flow", "introspect", "api_me", "jwks", "discovery")
    paths = {
        "login": "/accounts/login/",
        "authorize": "/oauth/authorize/",
        "token": "/oauth/token/",
        "introspect": "/oauth/introspect/",
        "api_me": "/api/me",
        "jwks": "/.well-known/jwks.json",
        "discovery": "/.well-known/openid-configuration",
    }
    counts_sql = True
    scope = "profile read"  # the web client's, and the browser flow's

    def prepare(self):
        """A fresh database and Redis database, a fresh signing key; migrate; three clients
        (`create_client --json`) and the users (the ORM, our settings)."""
        from cryptography.fernet import Fernet

        tmp = Path(self.tmp)
        self.port = free_port()
        key_file = tmp / "signing_key.pem"
        write_pem(key_file)
        (tmp / "var").mkdir()
        (tmp / "static").mkdir()
        self.cwd = str(ROOT)
        self.env = {
            **base_env(),
            "DJANGO_SETTINGS_MODULE": "identity.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ISSUER": f"http://127.0.0.1:{self.port}",
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
        self.notes = {"key_encryption_keys_setting_present": "KEY_ENCRYPTION_KEYS" in settings_text}

        log(f"ours: recreating database {OURS_DB}, flushing Redis {REDIS_URL}, migrating")
        recreate_database(OURS_DB)
        flush_redis()
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput", "-v0")
        self.cc = self.create_client(
            "--name", "bench-cc", "--grant-types", "client_credentials", "--scopes", "profile read"
        )  # fmt: skip
        self.web = self.create_client(
            "--name", "bench-web", "--grant-types", "authorization_code,refresh_token",
            "--redirect-uri", REDIRECT_URI, "--trusted", "--scopes", "profile read",
        )  # fmt: skip
        self.rs = self.create_client(
            "--name", "bench-resource-server", "--grant-types", "client_credentials", "--introspect-any"
        )  # fmt: skip
        self.web["redirect_uri"] = REDIRECT_URI
        self.users = make_users("bench")
        users_file = tmp / "ours-users.json"
        users_file.write_text(json.dumps(self.users))
        self.manage(
            "shell",
            "-c",
            "import json\nfrom django.contrib.auth import get_user_model\n"
            f"for u in json.load(open({str(users_file)!r})):\n"
            "    get_user_model().objects.create_user(u['username'], password=u['password'])\n",
        )

    def manage(self, *args):
        return run([PY, "manage.py", *args], cwd=ROOT, env=self.env)

    def create_client(self, *args):
        return json.loads(self.manage("create_client", "--json", *args))

    def create_server(self):
        return wsgi_server(
            "ours", "identity.wsgi", cwd=ROOT, env=self.env, port=self.port, tmp=self.tmp, threads=THREADS,
            server=SERVER,
        )  # fmt: skip

    def fixture(self):
        """Refresh and access tokens minted through the API (the scale pass's share on top),
        then fresh workers."""
        server = self.server
        # The scale pass gets its own share of the pool, minted on top (same time per scenario second).
        share = SCALE_DURATION / DURATION if SCALE else 0
        target, budget = round(POOL_TARGET * (1 + share)), MINT_SECONDS * (1 + share)
        log(f"ours: serving on {server.base}; minting up to {target} refresh tokens (<= {budget:.0f}s)")
        started = time.monotonic()
        refresh_tokens, access_tokens = mint_pool(
            server.base, self.paths, client=self.web, users=self.users, scope=self.scope,
            target=target + 4, seconds=budget,
        )  # fmt: skip
        self.mint_seconds = time.monotonic() - started
        log(
            f"ours: minted {len(refresh_tokens)} in {self.mint_seconds:.1f}s "
            f"({len(refresh_tokens) / self.mint_seconds:.0f}/s)"
        )
        if len(refresh_tokens) < 10:
            raise RuntimeError("ours: could not mint tokens through the API")
        sql_refresh, refresh_tokens = refresh_tokens[:2], refresh_tokens[2:]
        # The last two access tokens serve introspection and /api/me: keep their refresh tokens
        # out of the pools, or a refresh run that uses up its pool would revoke them by rotation.
        refresh_tokens = refresh_tokens[:-2]
        kept = len(refresh_tokens) - round(len(refresh_tokens) * share / (1 + share))
        self.refresh_tokens, self.scale_pool = refresh_tokens[:kept], refresh_tokens[kept:]
        pool_file = Path(self.tmp) / "ours-pool.txt"
        pool_file.write_text("\n".join(self.refresh_tokens) + "\n")
        # Fresh workers for the load: minting logged in with Argon2, whose memory would
        # otherwise hide the peak RSS of the token scenarios.
        server.restart()
        return Fixture(
            cc=self.cc,
            cc_scope="profile",
            web=self.web,
            users=self.users,
            flow_scope=self.scope,
            introspect_auth=flows.basic_auth(self.rs["client_id"], self.rs["client_secret"]),
            introspect_token=access_tokens[-2],
            introspect_hint=True,
            api_token=access_tokens[-1],
            refresh_pool=pool_file,
            sql_refresh=sql_refresh,
        )

    def summary(self):
        self.notes.update(
            pool_minted=len(self.refresh_tokens),
            scale_pool_reserved=len(self.scale_pool),
            mint_seconds=round(self.mint_seconds, 1),
        )
        return {"notes": self.notes}

    def after_load(self, requests, fixture, results):
        """The scale pass (bench/scale_pass.py) on the same server, unless BENCH_SCALE=0."""
        if not SCALE:
            return {"scale": {"skipped": "BENCH_SCALE=0"}}
        return {"scale": scale_pass.run(self, requests, fixture, results, pool=self.scale_pool + self.refresh_tokens)}
