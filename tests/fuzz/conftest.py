"""Fuzzing fixtures: a counting test client, and the per-run request budget (>= 10,000).

Every request the fuzz tests send goes through CountingClient (Django's test Client: the full
middleware stack and the real URLs, in-process). At the end of a run that executed every test in
this folder, fewer than MIN_REQUESTS requests fail the session; the counts by status class are
printed in the terminal summary.
"""

from collections import Counter

import pytest
from django.test import Client

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
    _items["collected"] = sum(1 for item in items if _is_fuzz(item))


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
    total = sum(v for k, v in COUNTS.items() if not k.startswith("("))
    by_class = ", ".join(f"{k}: {v}" for k, v in sorted(COUNTS.items()) if not k.startswith("("))
    terminalreporter.write_sep("-", f"fuzz: {total} requests ({by_class})")
    if "(budget not met)" in COUNTS:
        terminalreporter.write_line(f"FAILED: the fuzz tests sent fewer than {MIN_REQUESTS} requests", red=True)


@pytest.fixture
def http():
    return CountingClient()
