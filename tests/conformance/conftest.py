"""The OIDF OP certification plans, reproduced: fixtures and the results table.

Run with `make conformance` (its own pytest.ini: this suite is not part of `make test`). Each
test is one module of the OIDF conformance suite, marked with `@pytest.mark.oidf(plan, class,
test name)`. A module's FAILURE conditions are assertions; its WARNING conditions are recorded
with `module.warn(...)`; a module that does not apply records why with `module.not_applicable(
reason)` and passes (the table says n/a). At the end the table (module, plan, result, reason)
is printed and written to CONFORMANCE_TABLE (default var/conformance.md).
"""

import os
import queue
import ssl
import tempfile
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from op import OP, ROOT, free_port, write_tls
from rp import Suite, UserAgent

RESULTS = []


def pytest_configure(config):
    config.addinivalue_line("markers", "oidf(plan, module_class, test_name): the OIDF module a test reproduces")


class Module:
    """What one module run recorded besides its assertions."""

    def __init__(self):
        self.warnings, self.na = [], None

    def warn(self, message):
        self.warnings.append(message)

    def not_applicable(self, reason):
        self.na = reason


@pytest.fixture
def module(request):
    record = Module()
    request.node.stash[MODULE_KEY] = record
    return record


MODULE_KEY = pytest.StashKey[Module]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    marker = item.get_closest_marker("oidf")
    if marker is None or (report.when == "setup" and report.passed) or report.when == "teardown" and report.passed:
        return report
    plan, module_class, test_name = marker.args
    record = item.stash.get(MODULE_KEY, Module())
    if report.failed:
        message = str(call.excinfo.value).strip().splitlines()[0] if call.excinfo else "failed"
        result, reason = "fail", f"{call.excinfo.typename}: {message}"[:300] if call.excinfo else "failed"
    elif report.skipped:
        result, reason = "fail", "skipped (a module is run, or marked not applicable with its reason)"
    elif record.na:
        result, reason = "n/a", record.na
    elif record.warnings:
        result, reason = "warning", "; ".join(record.warnings)
    else:
        result, reason = "pass", ""
    RESULTS.append({"module": test_name, "class": module_class, "plan": plan, "result": result, "reason": reason})
    return report


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """A module the table calls a failure (a skipped one included) fails the run."""
    if any(r["result"] == "fail" for r in RESULTS) and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def table():
    lines = ["| module | plan | result | reason |", "| --- | --- | --- | --- |"]
    for r in RESULTS:
        reason = r["reason"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{r['module']}` ({r['class']}) | {r['plan']} | {r['result']} | {reason} |")
    modules = [r for r in RESULTS if not r["plan"].startswith("relying party")]
    counts = {k: sum(1 for r in modules if r["result"] == k) for k in ("pass", "warning", "fail", "n/a")}
    summary = f"{len(modules)} OIDF modules: " + ", ".join(f"{v} {k}" for k, v in counts.items())
    summary += "".join(f"; {r['module']}: {r['result']}" for r in RESULTS if r not in modules)
    return "\n".join(lines), summary


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    text, summary = table()
    terminalreporter.write_sep("=", "OpenID certification plans (OIDF conformance suite modules)")
    terminalreporter.write_line(text)
    terminalreporter.write_line(summary)
    target = Path(os.environ.get("CONFORMANCE_TABLE") or ROOT / "var" / "conformance.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    target.write_text(f"{summary} ({stamp}).\n\n{text}\n")
    terminalreporter.write_line(f"table written to {target}")


# --- the back-channel logout receiver (the suite's /backchannel_logout) -----------------------


class Receiver:
    """Records every POST to /test/a/identity/backchannel_logout and answers 200 no-store,
    as OIDCCBackChannelRpInitiatedLogout.handleBackchannelLogout does."""

    def __init__(self, tls):
        self.port = free_port()
        self.requests = queue.Queue()
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                received.put(
                    {
                        "path": self.path,
                        "method": self.command,
                        "headers": dict(self.headers),
                        "body": body,
                        "form": parse_qs(body, keep_blank_values=True),
                        "tls_version": self.connection.version(),
                    }
                )
                self.send_response(200)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls[1], tls[2])
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def run_dir():
    with tempfile.TemporaryDirectory(prefix="conformance-") as tmp:
        yield tmp


@pytest.fixture(scope="session")
def tls(run_dir):
    """(ca, cert, key): a throwaway CA and a certificate for 127.0.0.1, for the OP and the receiver."""
    return write_tls(run_dir)


@pytest.fixture(scope="session")
def receiver(tls):
    r = Receiver(tls)
    yield r
    r.stop()


@pytest.fixture(scope="session")
def op(run_dir, tls, receiver):
    database_url = os.environ.get(
        "CONFORMANCE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/identity_conformance"
    )  # fmt: skip
    redis_url = os.environ.get("CONFORMANCE_REDIS_URL", "redis://127.0.0.1:6379/14")
    server = OP(run_dir, tls=tls, database_url=database_url, redis_url=redis_url, receiver_port=receiver.port)
    server.prepare()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        log = Path(run_dir) / "server.log"
        if log.exists() and "Traceback" in log.read_text():
            print(f"\nserver log:\n{log.read_text()[-4000:]}")


@pytest.fixture
def agent(op):
    ua = UserAgent(op)
    yield ua
    ua.close()


@pytest.fixture
def suite(op, module):
    """The suite, configured with the certification profile's client (client_secret_basic)."""
    return Suite(op, module, op.clients["basic"]).configure()
