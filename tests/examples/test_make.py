"""The Makefile's promises to a new user: `make help` lists the examples, and `make run PORT=…`
serves on that port with a development issuer that follows it."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def make(*args, env=None, **kwargs):
    base = {name: os.environ[name] for name in INHERITED if name in os.environ}
    return subprocess.run(
        ["make", "--no-print-directory", *args],  # noqa: S607 (make from PATH, as a person runs it)
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


def test_make_help_lists_the_examples():
    result = make("help")
    assert result.returncode == 0, result.stderr
    for target in ("run", "example-rp", "example-spa", "example-api"):
        assert f"make {target} " in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), ["ISSUER=http://127.0.0.1:8000 ", "runserver 127.0.0.1:8000"]),
        (("PORT=8010",), ["ISSUER=http://127.0.0.1:8010 ", "runserver 127.0.0.1:8010"]),
        (("PORT=8010", "ISSUER=https://id.example.com"), ["ISSUER=https://id.example.com ", "127.0.0.1:8010"]),
    ],
)
def test_make_run_derives_the_issuer_from_the_port(args, expected):
    result = make("-n", "run", *args)
    assert result.returncode == 0, result.stderr
    for text in expected:
        assert text in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("example-rp", "examples/rp/run.py --issuer http://127.0.0.1:8010"),
        ("example-spa", "examples/spa/serve.py --issuer http://127.0.0.1:8010"),
        ("example-api", "ISSUER=http://127.0.0.1:8010 .venv/bin/python examples/api/run.py"),
    ],
)
def test_the_examples_follow_the_port_too(target, expected):
    result = make("-n", target, "PORT=8010")
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout, result.stdout


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_make_run_serves_on_the_port_with_its_issuer(tmp_path):
    """The real thing: a fresh SQLite under a temporary VAR_DIR, migrated, seeded, served."""
    port = free_port()
    base = {name: os.environ[name] for name in INHERITED if name in os.environ}
    log = tmp_path / "make-run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={port}"],  # noqa: S607
            cwd=ROOT,
            env={**base, "VAR_DIR": str(tmp_path / "var")},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: make, runserver and its reloader
        )
    try:
        url = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
        deadline = time.monotonic() + 100
        while True:
            assert process.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                    metadata = json.load(response)
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    assert metadata["issuer"] == f"http://127.0.0.1:{port}"
    assert metadata["token_endpoint"] == f"http://127.0.0.1:{port}/oauth/token/"
    output = log.read_text()
    assert "Demo client: demo-public-client" in output
    assert "Demo SPA:    demo-spa" in output
