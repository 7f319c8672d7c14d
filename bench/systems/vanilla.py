"""Vanilla django-oauth-toolkit (bench/vanilla), served like ours (sync workers), twice:
`Vanilla` as DOT ships (PBKDF2 client secrets, no persistent connections) and `VanillaTuned`
in its best documented configuration (VANILLA_PROFILE=tuned: a fast CLIENT_SECRET_HASHER,
CONN_MAX_AGE with CONN_HEALTH_CHECKS, Argon2id at ours' parameters; see
bench/vanilla/vanilla_site/settings.py). The report's ratios are against the tuned one."""

import json
import secrets
from pathlib import Path

import requests as http

from bench import flows
from bench.config import BENCH, POOL_TARGET, PY, REDIRECT_URI, VANILLA_DB, VANILLA_POOL, VANILLA_TUNED_DB
from bench.scenarios import Fixture, make_users
from bench.server import wsgi_server
from bench.systems import System
from bench.tools import base_env, free_port, log, recreate_database, run


class Vanilla(System):
    name = "vanilla"
    scenarios = ("client_credentials", "refresh", "flow", "introspect", "api_me")
    paths = {
        "login": "/accounts/login/",
        "authorize": "/o/authorize/",
        "token": "/o/token/",
        "introspect": "/o/introspect/",
        "api_me": "/api/me",
    }
    counts_sql = True
    scope = "read"
    profile = "shipped"  # VANILLA_PROFILE
    database = VANILLA_DB
    pool_size = VANILLA_POOL  # refreshes are PBKDF2-bound (a few per second)

    def prepare(self):
        """A fresh database; migrate; users, two applications and the refresh pool through
        the ORM (bench/vanilla/seed.py: minting through the API would cost two PBKDF2 hashes
        a token)."""
        self.port = free_port()
        self.cwd = str(BENCH / "vanilla")
        self.env = {
            **base_env(),
            "DJANGO_SETTINGS_MODULE": "vanilla_site.settings",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "false",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{self.database}",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "VANILLA_PROFILE": self.profile,
        }
        log(f"{self.name}: recreating database {self.database}, migrating, seeding (ORM)")
        recreate_database(self.database)
        run([PY, "manage.py", "migrate", "--noinput"], cwd=self.cwd, env=self.env)
        self.users = make_users(self.name)
        self.pool_file = Path(self.tmp) / f"{self.name}-pool.txt"
        seed_spec, seed_out = Path(self.tmp) / f"{self.name}-seed.json", Path(self.tmp) / f"{self.name}-seeded.json"
        seed_spec.write_text(
            json.dumps(
                {
                    "users": self.users,
                    "redirect_uri": REDIRECT_URI,
                    "pool_size": self.pool_size,
                    "pool_file": str(self.pool_file),
                }
            )
        )
        run([PY, "seed.py", str(seed_spec), str(seed_out)], cwd=self.cwd, env=self.env)
        seeded = json.loads(seed_out.read_text())
        self.cc, self.web = seeded["cc"], seeded["web"]
        pool = self.pool_file.read_text().split()
        self.sql_refresh = pool[:2]
        self.pool_file.write_text("\n".join(pool[2:]) + "\n")

    def create_server(self):
        return wsgi_server(self.name, "vanilla_site.wsgi", cwd=self.cwd, env=self.env, port=self.port, tmp=self.tmp)

    def fixture(self):
        """A user's access token from one real browser flow, and a client-credentials token
        with the `introspection` scope: DOT's IntrospectTokenView with a Bearer caller is its
        documented resource-server set-up (client authentication would add a PBKDF2 hash)."""
        base = self.server.base
        log(f"{self.name}: serving on {base}; one real browser flow and an introspection token via the API")
        paths = {name: self.paths[name] for name in ("login", "authorize", "token")}
        spec = {"base": base, **paths, "client": self.web, "scope": self.scope}
        user_token = flows.full_flow(spec, self.users[0])
        response = http.post(
            base + self.paths["token"],
            data={"grant_type": "client_credentials", "scope": "introspection"},
            headers={"Authorization": flows.basic_auth(self.cc["client_id"], self.cc["client_secret"])},
            timeout=60,
        )
        response.raise_for_status()
        introspection_bearer = response.json()["access_token"]
        return Fixture(
            cc=self.cc,
            cc_scope=self.scope,
            web=self.web,
            users=self.users,
            flow_scope=self.scope,
            introspect_auth=f"Bearer {introspection_bearer}",
            introspect_token=user_token["access_token"],
            api_token=user_token["access_token"],
            refresh_pool=self.pool_file,
            sql_refresh=self.sql_refresh,
        )

    def summary(self):
        return {"profile": self.profile, "notes": {"pool_seeded_orm": self.pool_size}}


class VanillaTuned(Vanilla):
    """DOT in its best documented configuration (VANILLA_PROFILE=tuned)."""

    name = "vanilla_tuned"
    profile = "tuned"
    database = VANILLA_TUNED_DB
    pool_size = min(POOL_TARGET, 6000)  # no PBKDF2: refreshes run at hundreds per second
