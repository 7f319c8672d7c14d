"""tests/security/figures.py, the plugin `make security` loads: its tally and its table."""

import pytest

from tests.fuzz import conftest as fuzz
from tests.security import figures


@pytest.fixture
def run(monkeypatch):
    """An empty run for the plugin to tally, and empty fuzz counts."""
    monkeypatch.setattr(figures, "_groups", {})
    monkeypatch.setattr(figures, "_results", {})
    monkeypatch.setattr(fuzz, "COUNTS", fuzz.Counter())

    def report(nodeid, when, outcome):
        figures.pytest_runtest_logreport(pytest.TestReport(nodeid, ("f", 0, "t"), {}, outcome, None, when))

    return report


def test_outcomes_are_tallied_by_attack_source_and_fault_kind(run):
    figures._groups.update(
        {
            "a1": ("attack", "RFC 9700"),
            "a2": ("attack", "RFC 9700"),
            "a3": ("attack", "SECURITY.md"),
            "f1": ("fault", "Redis stopped, emptied, rolled back, hanging"),
            "f2": ("fault", "concurrency on PostgreSQL"),
            "z1": ("fuzz", "tests"),
            "deselected": ("attack", "OIDC Core"),
        }
    )
    for nodeid in ("a1", "a2", "a3", "f1", "f2", "z1"):
        run(nodeid, "setup", "passed")
    run("a1", "call", "passed")
    run("a2", "call", "failed")
    run("a3", "call", "skipped")
    run("f1", "call", "passed")
    run("f2", "call", "passed")
    run("f2", "teardown", "failed")  # a teardown error fails the scenario
    run("z1", "call", "passed")
    fuzz.COUNTS.update({"2xx": 5, "4xx": 90, "5xx (exception)": 1, "(budget not met)": 0})

    rows, summary = figures.figures()

    by_name = {row[0]: row[1:] for row in rows}
    assert by_name["attack cases: RFC 9700"] == (2, 1, 1, 0, "")
    assert by_name["attack cases: SECURITY.md"] == (1, 0, 0, 1, "")
    assert by_name["**attack cases, all**"] == (3, 1, 1, 1, "2 sources")  # OIDC Core never ran
    assert by_name["fuzz tests (endpoint × input)"] == (1, 1, 0, 0, "")
    assert by_name["**fuzz requests** (passed: not a 5xx)"] == (96, 95, 1, 0, "2xx: 5, 4xx: 90, 5xx (exception): 1")
    assert by_name["**fault scenarios, all** (passed: survived)"] == (2, 1, 1, 0, "")
    assert summary == (
        "attack cases: 3 run, 1 passed, 1 failed; fuzz: 96 requests, 1 5xx; fault scenarios: 2 run, 1 survived"
    )
    table = figures.markdown(rows).splitlines()
    assert table[0] == "| figure | run | passed | failed | skipped | detail |"
    assert "| **fuzz requests** (passed: not a 5xx) | 96 | 95 | 1 | 0 | 2xx: 5, 4xx: 90, 5xx (exception): 1 |" in table


def test_the_folders_decide_the_suite(groups):
    assert groups == {
        "tests/security": ("attack", "RFC 7636"),
        "tests/fuzz": ("fuzz", "tests"),
        "tests/faults/test_redis.py": ("fault", "Redis stopped, emptied, rolled back, hanging"),
        "tests/e2e": None,
    }


@pytest.fixture
def groups():
    """_group() of stand-in items in each folder (only their path and markers matter)."""

    class Item:
        def __init__(self, path, attack=None):
            self.fspath = figures.ROOT / path
            self._attack = attack

        def get_closest_marker(self, name):
            return pytest.mark.attack(*self._attack).mark if name == "attack" and self._attack else None

    return {
        "tests/security": figures._group(Item("tests/security/test_pkce.py", ("RFC 7636", "4.6"))),
        "tests/fuzz": figures._group(Item("tests/fuzz/test_endpoints.py")),
        "tests/faults/test_redis.py": figures._group(Item("tests/faults/test_redis.py")),
        "tests/e2e": figures._group(Item("tests/e2e/rfc7636/test_pkce.py")),
    }
