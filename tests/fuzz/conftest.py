"""Fuzzing fixtures: a counting test client, and the per-run request budget (>= 10,000).

Every request the fuzz tests send goes through CountingClient (Django's test Client: the full
middleware stack and the real URLs, in-process). At the end of a run that executed every test in
this folder, fewer than MIN_REQUESTS requests fail the session; the counts by status class are
printed in the terminal summary, and `request_counts()` hands them to `make security`'s figures
(tests/security/figures.py). Every test here is marked `security`.
"""

from collections import Counter

import pytest
from django.test import Client
from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants

MIN_REQUESTS = 10_000
COUNTS = Counter()
_items = {"collected": 0, "finished": 0}


class CountingClient(Client):
    """Django's test Client, counting answers by status class ("2xx" .. "5xx").

    raise_request_exception stays True: an unhandled exception re-raises with its traceback.
    """

    def request(self, **request):
        try:
            response = super().request(**request)
        except Exception:
            COUNTS["5xx (exception)"] += 1
            raise
        COUNTS[f"{response.status_code // 100}xx"] += 1
        return response


def _is_fuzz(item):
    return "/tests/fuzz/" in str(item.path).replace("\\", "/")


def pytest_collection_modifyitems(items):
    fuzz = [item for item in items if _is_fuzz(item)]
    for item in fuzz:
        item.add_marker(pytest.mark.security)
    _items["collected"] = len(fuzz)


def request_counts():
    """{status class: requests} of this run so far ("2xx" .. "5xx", "5xx (exception)")."""
    return {k: v for k, v in sorted(COUNTS.items()) if not k.startswith("(")}


@pytest.fixture(autouse=True)
def _same_requests_in_every_process(monkeypatch):
    """Hypothesis mixes into its draws constants it reads from the project's modules that happen
    to be imported (hypothesis.internal.conjecture.providers._get_local_constants): which ones
    depends on what ran before in the process (make test's other tests, a -k selection, the
    tests PostgreSQL runs and SQLite skips), so one seed sent different requests — and a
    different count — from run to run. Drawing from no local constants makes the requests a
    function of the seed and the strategies alone (the strategies carry their own plausible
    values). If Hypothesis renames the hook, setattr fails here loudly."""
    monkeypatch.setattr(providers, "_get_local_constants", Constants)


def pytest_runtest_logreport(report):
    if report.when == "call" and report.nodeid.startswith("tests/fuzz/"):
        if report.passed or hasattr(report, "wasxfail"):
            _items["finished"] += 1


def pytest_sessionfinish(session):
    total = sum(COUNTS.values())
    if _items["collected"] and _items["finished"] == _items["collected"] and total < MIN_REQUESTS:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        COUNTS["(budget not met)"] = 0


def pytest_terminal_summary(terminalreporter):
    if not COUNTS:
        return
    counts = request_counts()
    total = sum(counts.values())
    by_class = ", ".join(f"{k}: {v}" for k, v in counts.items())
    terminalreporter.write_sep("-", f"fuzz: {total} requests ({by_class})")
    if "(budget not met)" in COUNTS:
        terminalreporter.write_line(f"FAILED: the fuzz tests sent fewer than {MIN_REQUESTS} requests", red=True)


@pytest.fixture
def http():
    return CountingClient()
