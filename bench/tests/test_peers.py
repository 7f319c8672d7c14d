"""The peers' parts that run without the harness: the Authlib + Flask server (in-process,
through Flask's test client, with a real RSA key), the CPU accounting of a process tree
(real processes), DOT's two profiles (its settings, loaded in a subprocess), openssl speed's
parsing and the report's peer tables."""

import base64
import importlib.util
import json
import subprocess
import sys
import textwrap
import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from bench import report
from bench.config import BENCH
from bench.load import add_cpu
from bench.server import process_cpu_ticks, tree_cpu_seconds
from bench.systems.authlib_flask import APP_DIR, authlib_env, write_rsa_key
from bench.tools import parse_openssl_speed

CLIENT = {"client_id": "bench-cc", "client_secret": "s3cret with space"}


def b64decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def basic(client_id, secret):
    from urllib.parse import quote

    return "Basic " + base64.b64encode(f"{quote(client_id)}:{quote(secret)}".encode()).decode()


@pytest.fixture
def authlib_app(tmp_path, monkeypatch):
    key = write_rsa_key(tmp_path / "key.pem")
    for name, value in authlib_env(issuer="http://bench.test", key_file=tmp_path / "key.pem", client=CLIENT).items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("authlib_app_under_test", APP_DIR / "authlib_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, key.public_key()


def token_request(client, auth, scope="api", grant_type="client_credentials"):
    return client.post(
        "/token", data={"grant_type": grant_type, "scope": scope}, headers={"Authorization": auth} if auth else {}
    )


def test_authlib_server_issues_an_rs256_jwt_that_verifies_with_its_key(authlib_app):
    module, public_key = authlib_app
    response = token_request(module.application.test_client(), basic(CLIENT["client_id"], CLIENT["client_secret"]))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900 and body["scope"] == "api"
    header_b64, claims_b64, signature_b64 = body["access_token"].split(".")
    assert json.loads(b64decode(header_b64)) == {"alg": "RS256", "typ": "at+jwt"}
    public_key.verify(
        b64decode(signature_b64), f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    with pytest.raises(InvalidSignature):  # the signature covers the claims
        public_key.verify(
            b64decode(signature_b64), f"{header_b64}.{claims_b64}x".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    claims = json.loads(b64decode(claims_b64))
    assert claims["iss"] == "http://bench.test"
    assert claims["client_id"] == claims["sub"] == "bench-cc"
    assert claims["aud"] == "urn:identity-bench:api"
    assert claims["exp"] - claims["iat"] == 900 and abs(claims["iat"] - time.time()) < 60
    assert module.TOKENS[body["access_token"]][:2] == ("bench-cc", "api")  # kept in its store
    jwks = module.application.test_client().get("/jwks").get_json()
    assert jwks["keys"][0]["kty"] == "RSA" and "d" not in jwks["keys"][0]


def test_authlib_server_authenticates_the_client(authlib_app):
    module, _ = authlib_app
    client = module.application.test_client()
    for auth in (basic("bench-cc", "wrong"), basic("nobody", CLIENT["client_secret"]), None):
        response = token_request(client, auth)
        assert response.status_code == 401, auth
        assert response.get_json()["error"] == "invalid_client"
    assert not module.TOKENS
    wrong_grant = token_request(client, basic(CLIENT["client_id"], CLIENT["client_secret"]), grant_type="password")
    assert wrong_grant.status_code == 400 and wrong_grant.get_json()["error"] == "unsupported_grant_type"


BURN = "import time\ndef burn(s):\n    end = time.process_time() + s\n    while time.process_time() < end: pass\n"


def start_tree(script):
    process = subprocess.Popen(
        [sys.executable, "-c", BURN + textwrap.dedent(script)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "ready"
    return process


@pytest.mark.timeout(60)
def test_cpu_of_a_process_tree_counts_live_and_reaped_children():
    live = start_tree(
        """
        import os, sys
        if os.fork() == 0:
            burn(0.6); time.sleep(60); os._exit(0)
        burn(0.3)
        while True:  # until the child has burnt its share
            with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as f:
                child = int(f.read().split()[0])
            with open(f"/proc/{child}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[11]) + int(fields[12]) >= 0.55 * os.sysconf("SC_CLK_TCK"):
                break
            time.sleep(0.05)
        print("ready", flush=True); time.sleep(60)
        """
    )
    reaped = start_tree(
        """
        import os
        pid = os.fork()
        if pid == 0:
            burn(0.6); os._exit(0)
        os.waitpid(pid, 0)
        burn(0.3)
        print("ready", flush=True); time.sleep(60)
        """
    )
    try:
        for process in (live, reaped):
            own = process_cpu_ticks(process.pid)
            total = tree_cpu_seconds(process.pid)
            assert 0.8 <= total < 3, total  # 0.3 s of its own + 0.6 s of the child's
        ticks = __import__("os").sysconf("SC_CLK_TCK")
        # the live child's CPU is not in the parent's own counters; the reaped child's is (cutime)
        assert process_cpu_ticks(live.pid) / ticks < 0.6
        assert process_cpu_ticks(reaped.pid) / ticks >= 0.8
        assert own > 0
    finally:
        for process in (live, reaped):
            process.kill()  # our own children, by their process objects
            process.wait()
    assert tree_cpu_seconds(live.pid) == 0  # a process that is gone counts nothing


def test_cpu_ms_per_request_is_cpu_time_over_completed_requests():
    assert add_cpu({"requests": 2000}, 5.0) == {"requests": 2000, "cpu_s": 5.0, "cpu_ms": 2.5}
    assert add_cpu({"requests": 0}, 1.0)["cpu_ms"] is None


def vanilla_settings(profile):
    code = (
        "import django, json; django.setup(); from django.conf import settings;"
        "from django.contrib.auth.hashers import make_password, check_password, identify_hasher;"
        "from oauth2_provider.settings import oauth2_settings as o;"
        "db = settings.DATABASES['default']; h = make_password('x' * 128, hasher=o.CLIENT_SECRET_HASHER);"
        "print(json.dumps({'hasher': identify_hasher(h).algorithm, 'ok': check_password('x' * 128, h),"
        "'bad': check_password('y', h), 'password': identify_hasher(make_password('pw')).__class__.__name__,"
        "'max_age': db['CONN_MAX_AGE'], 'health': db.get('CONN_HEALTH_CHECKS', False)}))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "vanilla_site.settings",
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/identity_bench_unused",
        "VANILLA_PROFILE": profile,
    }
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=str(BENCH / "vanilla"), env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output)


def test_dot_tuned_uses_a_fast_secret_hasher_and_persistent_connections_and_shipped_does_not():
    tuned = vanilla_settings("tuned")
    assert tuned == {
        "hasher": "secret_sha256",
        "ok": True,
        "bad": False,
        "password": "Argon2idOWASPHasher",
        "max_age": 600,
        "health": True,
    }
    shipped = vanilla_settings("shipped")
    assert shipped["hasher"] == "pbkdf2_sha256" and shipped["ok"] and not shipped["bad"]
    assert shipped["max_age"] == 0 and shipped["password"] == "PBKDF2PasswordHasher"


def test_openssl_speed_output_is_parsed():
    output = (
        "version: 3.0.19\n                  sign    verify    sign/s verify/s\n"
        "rsa 2048 bits 0.000281s 0.000016s   3562.6  62517.2\n"
    )
    assert parse_openssl_speed(output) == {"sign_per_s": 3562.6, "verify_per_s": 62517.2}
    assert parse_openssl_speed("no result") is None


def cc(rate, cpu_ms):
    return {"rate": rate, "p50_ms": 5.0, "p99_ms": 9.0, "errors": 0, "cpu_ms": cpu_ms}


def peers_report():
    return {
        "machine": {
            "nproc": 2,
            "cpu_model": "Xeon",
            "openssl_speed_rsa2048": {"sign_per_s": 3500, "verify_per_s": 6e4},
        },
        "ours": {"scenarios": {"client_credentials": cc(500, 2.5), "api_me": cc(900, 1.0)}},
        "vanilla_tuned": {"scenarios": {"client_credentials": cc(600, 2.0), "api_me": cc(450, 2.0)}},
        "vanilla": {"scenarios": {"client_credentials": cc(4.0, 480)}},
        "authlib": {"scenarios": {"client_credentials": cc(1500, 0.9)}, "version": {"authlib": "1.9.10"}},
        "node": {"skipped": "node not available"},
    }


def test_the_headline_is_against_each_peers_best_configuration():
    data = peers_report()
    assert report.headline(data) == (
        "Headline, ours/peer against each peer's best configuration: client credentials: "
        "DOT tuned 0.83x (CPU/token 2.50 ms vs 2.00 ms); Authlib + Flask 0.33x (CPU/token 2.50 ms vs 0.90 ms). "
        "Against DOT tuned: API call (/api/me, JWT + revocation) 2.00x."
    )
    assert report.table(data).splitlines()[2] == (
        "| client-credentials token | 500 | 2.50 ms | 5.0 ms | 9.0 ms | 0 | - | 600 | 2.00 ms | 0.83x | 4.0 | 125.0x |"
    )
    peers = report.peers_table(data).splitlines()
    assert peers[2] == "| ours (identity) | 500 | 2.50 ms | 5.0 ms | 9.0 ms | 0 | - | - |"
    assert peers[3] == "| DOT tuned | 600 | 2.00 ms | 5.0 ms | 9.0 ms | 0 | 0.83x | 0.80x |"
    assert peers[5] == "| Authlib + Flask | 1,500 | 0.90 ms | 5.0 ms | 9.0 ms | 0 | 0.33x | 0.36x |"
    assert peers[6] == "| node-oidc-provider | node not available | | | | | | |"
    assert "3,500 sign/s" in report.machine_line(data)
