"""The imports run one way, down DESIGN.md's list: wellknown → oauth → sso → rbac → accounts → audit → core.

A lower app never imports a higher one — not by `import`, and not by a dotted string naming one
of its modules (import_string, settings-like constants) — and no app imports `identity/` (the
project's wiring). Tests are left out: a lower app's tests may drive a flow through a higher one.
"""

import ast
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# From the bottom up: an app may import those before it, never those after it.
LAYERS = ["core", "audit", "accounts", "rbac", "sso", "oauth", "wellknown"]
APPS = [app for app in LAYERS if (ROOT / app).is_dir()]
DOTTED = re.compile(r"^(" + "|".join([*LAYERS, "identity"]) + r")(\.[A-Za-z_]\w*)+$")


def sources(app):
    for path in sorted((ROOT / app).rglob("*.py")):
        if "tests" not in path.relative_to(ROOT).parts:
            yield path


def _is_module(dotted):
    """Whether `dotted` is one of our modules, or a name in one of its submodules
    ("oauth.authentication.X"; "oauth.clients", a registry key, is neither)."""
    for candidate in (dotted, dotted.rpartition(".")[0]):
        try:
            if "." in candidate and importlib.util.find_spec(candidate) is not None:
                return True
        except (ImportError, ValueError):
            continue
    return False


def imported(path):
    """(line, top-level package) of every import and dotted module string in `path`."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if DOTTED.match(node.value) and _is_module(node.value):
                yield node.lineno, node.value.split(".")[0]


@pytest.mark.parametrize("app", APPS)
def test_no_app_imports_one_above_it(app):
    above = set(LAYERS[LAYERS.index(app) + 1 :]) | {"identity"}
    arrows = [
        f"{path.relative_to(ROOT)}:{line} -> {target}"
        for path in sources(app)
        for line, target in imported(path)
        if target in above
    ]
    assert not arrows, f"{app} reaches up:\n" + "\n".join(arrows)


def test_the_check_sees_imports_and_dotted_strings(tmp_path):
    # The string form that sso/api.py once used to reach oauth is caught, as are lazy imports;
    # a docstring or a name that is not a module is not.
    path = tmp_path / "probe.py"
    path.write_text(
        '"""Mentions oauth.authentication in prose."""\n'
        'BEARER = "oauth.authentication.JWTAccessTokenAuthentication"\n'
        'REGISTRY_NAME = "oauth.clients"\n'
        "def later():\n    from wellknown import views\n"
    )
    assert sorted(target for _, target in imported(path)) == ["oauth", "wellknown"]
