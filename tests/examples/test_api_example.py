"""examples/api: the notes API protected by oauth.authentication and oauth.permissions.HasScope,
in process (its URLs mounted on the test server) and as `run.py check` in a fresh process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client as BrowserClient

from conftest import bearer
from tests.e2e.helpers import client_credentials_token, creds, revoke
from tests.examples import urls  # noqa: F401 (puts examples/api on sys.path)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "api"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def notes_urls(settings):
    settings.ROOT_URLCONF = "tests.examples.urls"
    from notes_api import views

    views._notes.clear()
    yield
    views._notes.clear()


@pytest.fixture
def writer(make_client):
    return make_client(name="Notes script", grant_types=["client_credentials"], scopes="read write")


def get(token=None):
    headers = bearer(token) if token else {}
    return BrowserClient().get("/notes", **headers)


def post(token, body):
    return BrowserClient().post("/notes", body, content_type="application/json", **bearer(token))


def test_a_token_with_the_scopes_writes_and_reads_its_notes(writer):
    token = client_credentials_token(writer, scope="read write")["access_token"]
    created = post(token, {"text": "hello"})
    assert created.status_code == 201, created.content
    listed = get(token)
    assert listed.status_code == 200
    assert listed.json() == {"subject": writer[0].client_id, "notes": ["hello"]}


def test_no_token_is_401_with_the_bearer_challenge():
    response = get()
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="identity"'


def test_a_bad_token_is_401_invalid_token():
    response = get("not-a-token")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_each_method_needs_its_scope(writer):
    reader = client_credentials_token(writer, scope="read")["access_token"]
    assert get(reader).status_code == 200
    refused = post(reader, {"text": "no"})
    assert refused.status_code == 403
    assert refused["WWW-Authenticate"] == 'Bearer realm="identity", error="insufficient_scope", scope="write"'
    only_write = client_credentials_token(writer, scope="write")["access_token"]
    refused = get(only_write)
    assert refused.status_code == 403
    assert 'scope="read"' in refused["WWW-Authenticate"]


def test_a_revoked_token_is_refused_at_once(writer, django_capture_on_commit_callbacks):
    token = client_credentials_token(writer, scope="read write")["access_token"]
    assert get(token).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # the fast path learns at commit
        assert revoke(token, auth=creds(writer)).status_code == 200
    response = get(token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "x" * 501}, {"text": ["a"]}])
def test_a_bad_note_is_400(writer, body):
    token = client_credentials_token(writer, scope="write")["access_token"]
    response = post(token, body)
    assert response.status_code == 400
    assert "text" in response.json()


def test_notes_are_per_subject_and_bounded(writer, make_client):
    other = make_client(name="Other", grant_types=["client_credentials"], scopes="read write")
    mine = client_credentials_token(writer, scope="read write")["access_token"]
    theirs = client_credentials_token(other, scope="read write")["access_token"]
    from notes_api import views

    for n in range(views.MAX_NOTES):
        assert post(mine, {"text": f"note {n}"}).status_code == 201
    assert post(mine, {"text": "one too many"}).status_code == 409
    assert get(theirs).json()["notes"] == []


def test_run_py_runs_with_identitys_settings(tmp_path):
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    result = subprocess.run(
        [sys.executable, str(EXAMPLE / "run.py"), "check"],
        cwd=ROOT,
        env={**env, "VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
