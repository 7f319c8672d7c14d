"""node-oidc-provider (bench/node): one Node process, in-memory, client credentials only."""

import json
import os
import secrets
import shutil
import subprocess

from bench.config import BENCH, SKIP_NODE
from bench.scenarios import Fixture
from bench.server import Server
from bench.systems import System, Unavailable
from bench.tools import base_env, free_port, log, run

NODE_DIR = BENCH / "node"


class Node(System):
    name = "node"
    scenarios = ("client_credentials",)
    paths = {"token": "/token"}

    def prepare(self):
        """`npm install` of the pinned oidc-provider when node_modules does not hold it."""
        if SKIP_NODE:
            raise Unavailable("BENCH_SKIP_NODE is set")
        if not (shutil.which("node") and shutil.which("npm")):
            raise Unavailable("node not available")
        self.version = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["oidc-provider"]
        installed = NODE_DIR / "node_modules" / "oidc-provider" / "package.json"
        if not installed.exists() or json.loads(installed.read_text()).get("version") != self.version:
            log(f"node: npm install (oidc-provider {self.version})")
            try:
                run(
                    ["npm", "install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"],
                    cwd=str(NODE_DIR),
                    env={**os.environ},
                    timeout=300,
                )
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                raise Unavailable(f"npm install failed: {str(exc)[:300]}") from exc
        self.port = free_port()
        self.client = {"client_id": "bench-cc", "client_secret": secrets.token_urlsafe(48)}

    def create_server(self):
        return Server(
            "node",
            ["node", "server.mjs", str(self.port), self.client["client_id"], self.client["client_secret"]],
            cwd=str(NODE_DIR),
            env={**base_env(), "NODE_ENV": "production"},
            port=self.port,
            ready_path="/.well-known/openid-configuration",
            log_path=f"{self.tmp}/node.log",
        )

    def start(self):
        try:
            super().start()
        except RuntimeError as exc:
            raise Unavailable(f"node server did not start: {str(exc)[:300]}") from exc

    def fixture(self):
        log(f"node: serving on {self.server.base}")
        return Fixture(cc=self.client, cc_scope="api")

    def summary(self):
        return {"version": self.version}
