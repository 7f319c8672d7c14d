"""docs/examples.md is true: its curl block for the API example runs against identity and
`examples/api/run.py`, each a real server on a free port, on a fresh SQLite database."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.live.test_docs import _free_port, server  # noqa: F401 (the identity server fixture)

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "examples.md"
MARKER = "<!-- example-api -->"


@pytest.fixture
def api(server, tmp_path):  # noqa: F811 (the fixture imported above)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "api.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "examples/api/run.py"],
            cwd=ROOT,
            env={**server["env"], "API_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                urllib.request.urlopen(f"{url}/notes", timeout=1)  # noqa: S310 (our own server)
            except urllib.error.HTTPError as exc:
                assert exc.code == 401
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def test_the_api_walkthrough_runs(server, api, tmp_path):  # noqa: F811
    (block,) = re.findall(re.escape(MARKER) + r"\s*```bash\n(.*?)^```", PAGE.read_text(), flags=re.S | re.M)
    script = tmp_path / "api.sh"
    script.write_text(block)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", str(script)],
        cwd=ROOT,
        env={**server["env"], "BASE": server["base"], "API": api},
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = f"exit status {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, report
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines[0] == 'WWW-Authenticate: Bearer realm="identity"', report
    assert lines[1] == '{"text":"hello"}', report
    assert re.fullmatch(r'\{"subject":"\w+","notes":\["hello"\]\}', lines[2]), report
    assert lines[3] == 'WWW-Authenticate: Bearer realm="identity", error="insufficient_scope", scope="write"', report
    assert lines[4].startswith('WWW-Authenticate: Bearer realm="identity", error="invalid_token"'), report
