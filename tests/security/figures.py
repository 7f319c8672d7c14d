"""The figures `make security` prints: a pytest plugin (`-p tests.security.figures`).

At the end of the run it prints, and writes as a markdown table to SECURITY_TABLE (default
var/security.md), what the run proved:
- attack cases (tests/security) run, passed, failed and skipped, by the source their
  `@pytest.mark.attack(source, case)` cites;
- the fuzzing (tests/fuzz): its tests, and the requests it sent by status class (a request
  passes when it is not a 5xx), as tests/fuzz/conftest.py counted them;
- fault scenarios (tests/faults, one test each) run and survived, by kind of fault.

It only observes: outcomes and the exit status are pytest's. Loaded by `make security` alone;
`make test` runs the same tests without it.
"""

import os
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"

# tests/faults modules by the fault they inject (the figures' words for them).
FAULT_KINDS = {
    "test_redis": "Redis stopped, emptied, rolled back, hanging",
    "test_postgres": "PostgreSQL stopped and too slow",
    "test_backchannel": "a back-channel logout receiver that hangs",
    "test_concurrency": "concurrency on PostgreSQL",
}

OUTCOMES = ("passed", "failed", "skipped")

_started = []  # the session's start (time.monotonic())
_groups = {}  # nodeid -> (suite, group)
_results = {}  # nodeid -> "passed" | "failed" | "skipped"


def _group(item):
    """("attack" | "fuzz" | "fault", group) for an item of the three folders, else None."""
    try:
        folder = Path(item.fspath).resolve().relative_to(TESTS).parts[0]
    except ValueError:
        return None
    if folder == "security":
        marker = item.get_closest_marker("attack")
        return "attack", marker.args[0] if marker and marker.args else "(no source)"
    if folder == "fuzz":
        return "fuzz", "tests"
    if folder == "faults":
        stem = Path(item.fspath).stem
        return "fault", FAULT_KINDS.get(stem, stem.removeprefix("test_"))
    return None


def pytest_sessionstart(session):
    _started[:] = [time.monotonic()]


def _services():
    """What the fuzzing ran on (the attack and fault suites always run on their own)."""
    database = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    cache = "Redis" if os.environ.get("REDIS_URL") else "the in-process cache"
    return f"fuzzing on {database} + {cache}"


def _duration():
    if not _started:
        return ""
    minutes, seconds = divmod(round(time.monotonic() - _started[0]), 60)
    return f"{minutes} min {seconds} s"


@pytest.hookimpl(trylast=True)  # after the folders' conftests have marked their tests
def pytest_collection_modifyitems(items):
    _groups.clear()
    for item in items:
        group = _group(item)
        if group is not None:
            _groups[item.nodeid] = group


def pytest_runtest_logreport(report):
    if report.nodeid not in _groups:
        return
    if report.failed:
        _results[report.nodeid] = "failed"
    elif report.skipped and _results.get(report.nodeid) != "failed":
        _results[report.nodeid] = "skipped"
    elif report.when == "call" and report.passed:
        _results.setdefault(report.nodeid, "passed")


def _tally(suite):
    """{group: {"run": n, "passed": n, "failed": n, "skipped": n}} of one suite's tests."""
    table = defaultdict(lambda: dict.fromkeys(("run", *OUTCOMES), 0))
    for nodeid, (kind, group) in _groups.items():
        outcome = _results.get(nodeid)
        if kind != suite or outcome is None:
            continue  # deselected, or not run (an interrupted session)
        table[group]["run"] += 1
        table[group][outcome] += 1
    return dict(sorted(table.items()))


def fuzz_requests():
    """{status class: requests} the fuzz tests sent in this process ({} if none ran)."""
    counting = sys.modules.get("tests.fuzz.conftest")
    return counting.request_counts() if counting else {}


def _total(rows):
    return {key: sum(row[key] for row in rows.values()) for key in ("run", *OUTCOMES)}


def figures():
    """(rows, summary): the table's rows as (figure, run, passed, failed, skipped, detail)."""
    rows = []
    attacks, fuzz, faults = _tally("attack"), _tally("fuzz"), _tally("fault")
    for source, row in attacks.items():
        rows.append((f"attack cases: {source}", row["run"], row["passed"], row["failed"], row["skipped"], ""))
    attack_total = _total(attacks)
    sources = f"{len(attacks)} source{'' if len(attacks) == 1 else 's'}"
    rows.append(("**attack cases, all**", *attack_total.values(), sources))
    fuzz_tests = _total(fuzz)
    rows.append(("fuzz tests (endpoint × input)", *fuzz_tests.values(), ""))
    requests = fuzz_requests()
    sent = sum(requests.values())
    errors = sum(n for status, n in requests.items() if status.startswith("5"))
    detail = ", ".join(f"{status}: {n:,}" for status, n in requests.items())
    rows.append(("**fuzz requests** (passed: not a 5xx)", sent, sent - errors, errors, 0, detail))
    for kind, row in faults.items():
        rows.append((f"fault scenarios: {kind}", row["run"], row["passed"], row["failed"], row["skipped"], ""))
    fault_total = _total(faults)
    rows.append(("**fault scenarios, all** (passed: survived)", *fault_total.values(), ""))
    summary = (
        f"attack cases: {attack_total['run']} run, {attack_total['passed']} passed, {attack_total['failed']} failed; "
        f"fuzz: {sent} requests, {errors} 5xx; "
        f"fault scenarios: {fault_total['run']} run, {fault_total['passed']} survived"
    )
    return rows, summary


def markdown(rows):
    lines = ["| figure | run | passed | failed | skipped | detail |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for figure, *numbers, detail in rows:
        lines.append(f"| {figure} | " + " | ".join(f"{n:,}" for n in numbers) + f" | {detail} |")
    return "\n".join(lines)


def _git(*args):
    try:
        done = subprocess.run(  # noqa: S603, S607 (git, read-only)
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _commit():
    """The commit the figures come from, saying so when the tracked files differ from it."""
    commit = _git("rev-parse", "--short", "HEAD")
    if not commit:
        return ""
    changed = _git("status", "--porcelain", "--untracked-files=no")
    return f"{commit} with uncommitted changes" if changed else commit


def pytest_terminal_summary(terminalreporter):
    if not _results:
        return
    rows, summary = figures()
    table = markdown(rows)
    terminalreporter.write_sep("=", "security figures (make security)")
    terminalreporter.write_line(table)
    terminalreporter.write_line(summary)
    target = Path(os.environ.get("SECURITY_TABLE") or ROOT / "var" / "security.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    commit = _commit()
    origin = f"`make security`, {stamp}" + (f", commit {commit}" if commit else "")
    origin += f"; {_services()}" + (f"; {_duration()} in all" if _started else "")
    target.write_text(f"{summary} ({origin}).\n\n{table}\n")
    terminalreporter.write_line(f"figures written to {target}")
