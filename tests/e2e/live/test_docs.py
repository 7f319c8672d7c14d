"""The docs are true: the curl walkthrough (docs/walkthrough.md) runs against a real server, the
configuration page (docs/configuration.md) names every environment variable that
identity/settings.py reads, and every relative link of the README and docs/ leads to a file.

The walkthrough is the concatenation of docs/walkthrough.md's ```bash blocks preceded by
`<!-- walkthrough -->`. It runs with `bash -euo pipefail` from the repository root against
`manage.py runserver` on a free port (a subprocess, not live_server: the walkthrough also runs
`python manage.py create_client`, which must see the same database), with a fresh SQLite
database and development secrets under a temporary VAR_DIR.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
WALKTHROUGH = DOCS / "walkthrough.md"
CONFIGURATION = DOCS / "configuration.md"
SETTINGS = ROOT / "identity" / "settings.py"
MARKER = "<!-- walkthrough -->"
REGISTRATION = DOCS / "client-registration.md"
REGISTRATION_MARKER = "<!-- registration walkthrough -->"
README_MARKER = "<!-- registration example -->"

# What the walkthrough must print, as evidence that each step did what the page says.
EXPECTED_OUTPUT = [
    '{"status": "ok"}',  # health
    '"code_challenge_methods_supported": [',  # discovery
    "openid-configuration: the same document",
    '"kty": "RSA"',  # JWKS
    '"date_joined":',  # registration
    "login: 302 -> ",  # login
    "<h1>Allow Walkthrough app to use your account?</h1>",  # consent page
    "http://127.0.0.1:8765/callback?code=",  # authorization response
    '"typ": "at+jwt"',  # JWT header
    '"typ": "JWT"',  # ID token header
    '"nonce": "',  # ID token claims
    '"sid": "',
    "ID token: iss, aud, nonce and at_hash check out; sid ",
    '"type": "user"',  # /api/me
    '"email_verified": false',  # userinfo
    '"current": true',  # GET /api/sessions/
    "prompt=none, no browser session: http://127.0.0.1:8765/callback?error=login_required&",
    "prompt=none, logged in: http://127.0.0.1:8765/callback?code=",
    "api/me with the second access token: 200",
    '"active": true',  # introspection
    '"token_type": "refresh_token"',  # refresh-token introspection
    "api/me with the new access token: 200",  # refresh
    "revoke: 200",
    "HTTP/1.1 401 Unauthorized",  # /api/me after revocation
    'error="invalid_token"',
    '{"error": "invalid_grant"} 400',  # refresh-token reuse
    '"type": "client"',  # client credentials
    "api/me with the second access token, before the logout: 200",  # RP-initiated logout
    "logout: 302 -> http://127.0.0.1:8765/logged-out?state=",
    "sessions page after the logout: 302 -> ",
    "sessions: 2",  # logout everywhere
    "logout-all: 204",
    "api/me after logout-all: 401",
    '{"active": false}',
    "the other device: 302 -> ",
]


def walkthrough_blocks(text, marker=MARKER):
    """The ```bash blocks that directly follow a walkthrough marker, in order."""
    return re.findall(re.escape(marker) + r"\s*```bash\n(.*?)^```", text, flags=re.S | re.M)


def environment_variables(settings_source):
    """Every environment variable settings.py reads: env("X"), env.kind("X"), and the secrets
    read through _secret("X") (which also reads X_FILE)."""
    names = set(re.findall(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""", settings_source))
    for name in re.findall(r"""\b_secret\(\s*["']([A-Z][A-Z0-9_]*)["']""", settings_source):
        names |= {name, f"{name}_FILE"}
    return names


def test_the_walkthrough_is_marked():
    blocks = walkthrough_blocks(WALKTHROUGH.read_text())
    assert len(blocks) >= 10, "docs/walkthrough.md's walkthrough markers are missing"
    assert blocks[0].lstrip().startswith("BASE=${BASE:-http://127.0.0.1:8000}")


def test_every_environment_variable_is_documented():
    table = CONFIGURATION.read_text()
    read = environment_variables(SETTINGS.read_text())
    assert {"DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "DATABASE_URL", "REDIS_URL"} <= read  # the parser works
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", table))
    missing = sorted(read - documented)
    assert not missing, f"docs/configuration.md does not document: {', '.join(missing)}"


def _relative_links(page):
    """(target path, anchor) of each Markdown link of `page` that is not a URL."""
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        yield (page.parent / path).resolve() if path else page, anchor


def _anchors(page):
    """The GitHub anchors of a Markdown page's headings."""
    prose = re.sub(r"(?ms)^```.*?^```", "", page.read_text())
    headings = re.findall(r"(?m)^#+ (.*)$", prose)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_relative_link_leads_somewhere():
    broken = []
    for page in [README, ROOT / "bench" / "README.md", *sorted(DOCS.glob("*.md"))]:
        for path, anchor in _relative_links(page):
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)} -> {path}")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
                broken.append(f"{page.relative_to(ROOT)} -> {path.relative_to(ROOT)}#{anchor}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url, server, log, deadline):
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"runserver exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (our own server)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"runserver did not answer {url} in time:\n{log.read_text()}")


@pytest.fixture
def server(tmp_path):
    """`manage.py runserver` on a free port, on a fresh SQLite database under tmp_path."""
    yield from _serve(tmp_path)


@pytest.fixture
def registration_server(tmp_path):
    """The same, with client registration by initial access token (docs/client-registration.md)."""
    yield from _serve(tmp_path, CLIENT_REGISTRATION="token")


def _serve(tmp_path, **settings):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    python_dir = str(Path(sys.executable).parent)
    env = {
        # Only what a shell needs: nothing of the caller's configuration (DATABASE_URL,
        # REDIS_URL, ISSUER…) reaches the server, which therefore runs the embedded default.
        **{k: v for k, v in os.environ.items() if k in {"HOME", "LANG", "LC_ALL", "TMPDIR", "TERM", "USER"}},
        "PATH": os.pathsep.join([python_dir, os.environ.get("PATH", "/usr/bin:/bin")]),
        "VAR_DIR": str(tmp_path / "var"),
        "ISSUER": base,
        "PYTHONDONTWRITEBYTECODE": "1",
        **settings,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )
    log = tmp_path / "runserver.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(f"{base}/health/live", process, log, time.monotonic() + 20)
        yield {"base": base, "env": env, "log": log}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _run_blocks(blocks, server, tmp_path):
    """Run `blocks` as one bash script against `server`; (result, report)."""
    script = tmp_path / "walkthrough.sh"
    script.write_text("\n".join(blocks))
    result = subprocess.run(
        ["bash", "-euo", "pipefail", str(script)],
        cwd=ROOT,
        env={**server["env"], "BASE": server["base"]},
        capture_output=True,
        text=True,
        timeout=90,
    )
    report = (
        f"exit status {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}\n"
        f"--- server log\n{server['log'].read_text()}"
    )
    return result, report


def test_the_walkthrough_runs(server, tmp_path):
    result, report = _run_blocks(walkthrough_blocks(WALKTHROUGH.read_text()), server, tmp_path)
    assert result.returncode == 0, report
    for expected in EXPECTED_OUTPUT:
        assert expected in result.stdout, f"{expected!r} not in the output\n{report}"
    # The authorization response's iss is the issuer (RFC 9207), URL-encoded in the Location.
    assert "&iss=" + server["base"].replace(":", "%3A").replace("/", "%2F") in result.stdout, report
    # The logout came back with the client's state (that of its authorization requests).
    state = re.search(r"/callback\?code=[^&]+&state=([0-9a-f]+)&", result.stdout).group(1)
    assert f"logout: 302 -> http://127.0.0.1:8765/logged-out?state={state}\n" in result.stdout, report
    # The session's tokens were refused after the logout, and after logout-all: the 401 lines
    # that follow each logout (the first 401 is the revoked access token's).
    after_logout = result.stdout[result.stdout.index("logout: 302 -> ") :]
    assert "HTTP/1.1 401 Unauthorized" in after_logout, report
    assert '{"error": "invalid_grant"} 400' in after_logout, report


# What the registration walkthrough (docs/client-registration.md) must print.
REGISTRATION_OUTPUT = [
    "registration_endpoint: http://127.0.0.1:",
    "HTTP/1.1 401 Unauthorized",
    'WWW-Authenticate: Bearer realm="identity"',
    '{"error": "invalid_redirect_uri", "error_description": "redirect_uris: http://app.example.com/callback: ',
    '"client_secret_expires_at": 0,',
    '"registration_access_token": "',
    "second registration: 401",
    "<h1>Allow Partner app to use your account?</h1>",
    "api/me with the registered client's token: 200",
    '"client_name": "Partner app",',
    "Partner app (renamed)",
    "the old registration access token: 401",
    "delete: 204",
    "api/me after the delete: 401",
    "the registration after the delete: 401",
]


def test_the_registration_walkthrough_runs(registration_server, tmp_path):
    blocks = walkthrough_blocks(REGISTRATION.read_text(), REGISTRATION_MARKER)
    assert len(blocks) >= 8, "docs/client-registration.md's walkthrough markers are missing"
    result, report = _run_blocks(blocks, registration_server, tmp_path)
    assert result.returncode == 0, report
    for expected in REGISTRATION_OUTPUT:
        assert expected in result.stdout, f"{expected!r} not in the output\n{report}"


def test_the_readme_registration_example_is_the_tested_one():
    """The README's curl example of a registration is a block of the tested walkthrough."""
    (example,) = walkthrough_blocks(README.read_text(), README_MARKER)
    tested = walkthrough_blocks(REGISTRATION.read_text(), REGISTRATION_MARKER)
    assert example in tested, "README.md's registration example differs from docs/client-registration.md's"
