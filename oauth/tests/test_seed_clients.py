"""seed_clients: create or update by name, secrets printed once, all or nothing, --dry-run."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from oauth.models import Client

pytestmark = pytest.mark.django_db

WEB = {
    "name": "Web app",
    "grant_types": ["authorization_code", "refresh_token"],
    "redirect_uris": ["https://web.example.com/callback"],
    "scopes": "openid profile roles",
    "public": False,
    "trusted": True,
}
SPA = {
    "name": "SPA",
    "grant_types": ["authorization_code", "refresh_token"],
    "redirect_uris": ["https://spa.example.com/cb"],
    "allowed_origins": ["https://spa.example.com"],
    "public": True,
}
SERVICE = {"name": "Batch", "grant_types": ["client_credentials"], "scopes": ["read"]}


@pytest.fixture
def write(tmp_path):
    def write(clients, raw=None):
        path = tmp_path / "clients.json"
        path.write_text(raw if raw is not None else json.dumps({"clients": clients}))
        return str(path)

    return write


def seed(path, *args):
    out = StringIO()
    call_command("seed_clients", "--file", path, *args, stdout=out)
    return out.getvalue()


def seed_json(path, *args):
    return json.loads(seed(path, "--json", *args))


def state():
    return sorted(
        Client.objects.values_list(
            "name",
            "client_id",
            "client_secret",
            "client_type",
            "grant_types",
            "redirect_uris",
            "allowed_scopes",
            "skip_authorization",
            "allowed_origins",
        )
    )


def test_creates_then_leaves_unchanged(write):
    path = write([WEB, SPA, SERVICE])
    first = seed_json(path)
    assert [c["name"] for c in first["created"]] == ["Web app", "SPA", "Batch"]
    secrets = {c["name"]: c["client_secret"] for c in first["created"]}
    assert secrets["SPA"] is None and len(secrets["Web app"]) >= 32
    web = Client.objects.get(name="Web app")
    assert web.skip_authorization and web.allowed_scopes == "openid profile roles"
    assert web.client_secret.startswith("client_secret_hmac$") and secrets["Web app"] not in web.client_secret
    assert Client.objects.get(name="Batch").allowed_scopes == "read"
    before = state()
    second = seed_json(path)
    assert second["created"] == [] and second["updated"] == []
    assert sorted(c["name"] for c in second["unchanged"]) == ["Batch", "SPA", "Web app"]
    assert state() == before
    assert secrets["Web app"] not in seed(path)  # never printed again


def test_updates_by_name_and_keeps_the_secret(write):
    seed(write([WEB]))
    client = Client.objects.get(name="Web app")
    secret_hash = client.client_secret
    changed = {**WEB, "redirect_uris": ["https://web.example.com/new"], "trusted": False}
    result = seed_json(write([changed]))
    assert result["updated"] == [
        {"name": "Web app", "client_id": client.client_id, "changed": ["redirect_uris", "trusted"]}
    ]
    client.refresh_from_db()
    assert client.redirect_uris == "https://web.example.com/new" and not client.skip_authorization
    assert client.client_secret == secret_hash


def test_token_lifetimes_and_audience(write):
    tuned = {**SERVICE, "access_token_lifetime": 300, "refresh_token_lifetime": None, "audience": ["https://a.example"]}
    seed(write([tuned]))
    client = Client.objects.get(name="Batch")
    assert (client.access_token_lifetime, client.refresh_token_lifetime) == (300, None)
    assert client.audience == "https://a.example"
    result = seed_json(write([{**tuned, "access_token_lifetime": 600}]))
    assert result["updated"][0]["changed"] == ["access_token_lifetime"]
    client.refresh_from_db()
    assert client.access_token_lifetime == 600


def test_text_output_shows_new_secrets_once(write):
    output = seed(write([WEB]))
    assert "created 'Web app': client_id" in output and "client_secret" in output
    assert "unchanged 'Web app'" in seed(write([WEB]))


@pytest.mark.parametrize(
    "entry, message",
    [
        ({**WEB, "redirect_uris": ["http://evil.example.com/cb"]}, "clients[1] (name 'Web app'): redirect_uris"),
        ({**WEB, "redirect_uris": ["https://web.example.com/cb#frag"]}, "redirect_uris"),
        ({**WEB, "grant_types": ["implicit"]}, "clients[1] (name 'Web app'): grant_types"),
        ({**SPA, "grant_types": ["client_credentials"]}, "grant_types"),
        ({**WEB, "scopes": "openid superpowers"}, "allowed_scopes: Unknown scopes: superpowers"),
        ({**WEB, "colour": "blue"}, "clients[1] (name 'Web app'): colour: unknown field"),
        ({**WEB, "public": "no"}, "public: must be true or false"),
        ({**WEB, "redirect_uris": "https://web.example.com/cb"}, "redirect_uris: must be a list of strings"),
        ({"grant_types": ["client_credentials"]}, "clients[1]: name: required"),
        ({**SERVICE}, "clients[1] (name 'Batch'): name: appears twice"),
        ("not an object", "clients[1]: must be an object"),
        ({**SERVICE, "name": "B", "access_token_lifetime": "300"}, "access_token_lifetime: must be a whole number"),
        ({**SERVICE, "name": "B", "access_token_lifetime": 5}, "access_token_lifetime:"),
        ({**SERVICE, "name": "B", "audience": ["not-a-uri"]}, "audience: not-a-uri: must be an absolute URI"),
    ],
)
def test_a_bad_entry_changes_nothing(write, entry, message):
    with pytest.raises(CommandError) as refused:
        seed(write([SERVICE, entry]))
    assert message in str(refused.value) and "nothing was changed" in str(refused.value)
    assert not Client.objects.exists()  # the good entry before it was not written either


def test_a_bad_update_changes_nothing(write):
    seed(write([WEB, SERVICE]))
    before = state()
    with pytest.raises(CommandError, match="redirect_uris"):
        seed(write([{**SERVICE, "scopes": "write"}, {**WEB, "redirect_uris": ["ftp://x"]}]))
    assert state() == before
    with pytest.raises(CommandError, match="cannot change type"):
        seed(write([{**WEB, "public": True}]))
    assert state() == before


@pytest.mark.parametrize(
    "raw, message", [("{", "not valid JSON"), ("[]", '"clients" list'), ('{"clients": {}}', '"clients" list')]
)
def test_a_malformed_file_is_refused(write, raw, message):
    with pytest.raises(CommandError, match=message):
        seed(write(None, raw=raw))


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        seed(str(tmp_path / "nope.json"))


def test_dry_run_changes_nothing(write):
    seed(write([WEB]))
    before = state()
    result = seed_json(write([{**WEB, "trusted": False}, SERVICE]), "--dry-run")
    assert result["dry_run"] is True
    assert result["created"] == [{"name": "Batch"}]
    assert result["updated"][0]["changed"] == ["trusted"]
    assert state() == before
    assert "would create 'Batch'" in seed(write([SERVICE]), "--dry-run")
    assert state() == before


def test_two_clients_of_one_name_are_ambiguous(write, make_client):
    make_client(name="Twin")
    make_client(name="Twin")
    with pytest.raises(CommandError, match="several clients have this name"):
        seed(write([{**WEB, "name": "Twin"}]))
