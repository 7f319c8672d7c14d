"""Client registration's parts: the metadata rules (pure), the initial access tokens (command,
admin, flows) and the settings' system checks. The HTTP behaviour is tests/e2e/rfc7591."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client as BrowserClient
from django.utils import timezone

from audit import events
from audit.models import SecurityEvent
from conftest import shown_once
from oauth import checks, flows
from oauth.client_metadata import MetadataError, error_for, parse
from oauth.management.commands.issue_registration_token import parse_duration
from oauth.models import InitialAccessToken, token_checksum

SCOPES = ["openid", "profile", "email"]


def parsed(confidential_allowed=True, **data):
    data.setdefault("redirect_uris", ["https://app.example.com/cb"])
    return parse(data, confidential_allowed=confidential_allowed, allowed_scopes=SCOPES)


def refused(confidential_allowed=True, **data):
    with pytest.raises(MetadataError) as caught:
        parsed(confidential_allowed, **data)
    return caught.value


# --- client_metadata.parse ------------------------------------------------------------------


def test_parse_maps_metadata_to_client_fields():
    fields = parsed(
        client_name="App",
        grant_types=["authorization_code", "refresh_token"],
        scope="openid email openid",
        contacts=["a@example.com", "a@example.com"],
        tos_uri="https://app.example.com/tos",
    )
    assert fields["name"] == "App"
    assert fields["client_type"] == "confidential"
    assert fields["token_endpoint_auth_method"] == "client_secret_basic"
    assert fields["grant_types"] == "authorization_code refresh_token"
    assert fields["allowed_scopes"] == "openid email"
    assert fields["contacts"] == ["a@example.com"]
    assert fields["tos_uri"] == "https://app.example.com/tos"
    assert fields["logo_uri"] == ""


def test_parse_never_leaves_the_scopes_empty():
    assert parsed()["allowed_scopes"] == "openid profile email"
    assert parsed(scope="")["allowed_scopes"] == "openid profile email"


def test_parse_defaults_to_public_when_confidential_clients_are_not_allowed():
    fields = parsed(confidential_allowed=False)
    assert fields["client_type"] == "public" and fields["token_endpoint_auth_method"] == "none"
    assert refused(confidential_allowed=False, token_endpoint_auth_method="client_secret_post").error == (
        "invalid_client_metadata"
    )


def test_parse_derives_response_types_from_grants():
    parsed(grant_types=["client_credentials"], redirect_uris=[])
    error = refused(grant_types=["client_credentials"], response_types=["code"])
    assert "disagree" in error.description


def test_parse_null_means_the_default():
    fields = parsed(client_name=None, grant_types=None, scope=None, contacts=None, logo_uri=None)
    assert fields["grant_types"] == "authorization_code" and fields["name"] == "Unnamed client"


def test_error_for_names_metadata_fields_and_picks_the_code():
    code, description = error_for({"redirect_uris": ["bad"], "allowed_scopes": ["unknown"]})
    assert code == "invalid_redirect_uri" and "scope: unknown" in description
    assert error_for({"logo_uri": ["http only on loopback"]})[0] == "invalid_client_metadata"


# --- initial access tokens -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("90", timedelta(seconds=90)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0", "-1d", "1w", "d", "1.5h"])
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.django_db
def test_the_command_prints_the_token_once_and_stores_its_hash():
    out = StringIO()
    call_command(
        "issue_registration_token", "--expires", "2h", "--uses", "3", "--label", "partner", "--json", stdout=out
    )
    result = json.loads(out.getvalue())
    row = InitialAccessToken.objects.get()
    assert row.checksum == token_checksum(result["initial_access_token"])
    assert row.uses_left == 3 and row.label == "partner"
    assert timedelta(minutes=119) < row.expires_at - timezone.now() <= timedelta(hours=2)
    assert result["initial_access_token"] not in str(InitialAccessToken.objects.values())
    assert SecurityEvent.objects.get(event=events.REGISTRATION_TOKEN_ISSUED).detail["uses"] == 3


@pytest.mark.django_db
def test_the_command_in_plain_text(settings):
    settings.CLIENT_REGISTRATION = "closed"
    out, err = StringIO(), StringIO()
    call_command("issue_registration_token", stdout=out, stderr=err)
    assert "initial access token: " in out.getvalue() and "shown only now" in out.getvalue()
    assert "CLIENT_REGISTRATION is closed" in err.getvalue()
    assert InitialAccessToken.objects.get().uses_left == 1


@pytest.mark.django_db
@pytest.mark.parametrize("args", [["--expires", "soon"], ["--uses", "0"]])
def test_the_command_refuses_bad_arguments(args):
    with pytest.raises(CommandError):
        call_command("issue_registration_token", *args, stdout=StringIO())
    assert not InitialAccessToken.objects.exists()


@pytest.mark.django_db
def test_spending_stops_at_zero_and_at_expiry():
    row, token = flows.issue_initial_access_token(expires_in=timedelta(hours=1), uses=2)
    assert flows.spend_initial_access_token(token) and flows.spend_initial_access_token(token)
    assert not flows.spend_initial_access_token(token)
    row2, token2 = flows.issue_initial_access_token(expires_in=timedelta(hours=1), uses=2)
    InitialAccessToken.objects.filter(pk=row2.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not flows.spend_initial_access_token(token2)
    assert flows.initial_access_token(token2) is None
    assert not flows.spend_initial_access_token("never-issued")


@pytest.mark.django_db
def test_the_admin_issues_a_token_shown_once(make_user, mfa_not_required):
    """Shown on the page that answers the POST, never cached, and kept nowhere: not in a
    Django message (the session holds those until a page shows them), not on a later page."""
    admin = make_user(is_staff=True, is_superuser=True)
    browser = BrowserClient()
    browser.force_login(admin)
    expires = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = browser.post(
        "/admin/oauth/initialaccesstoken/add/",
        {"label": "Partner A", "expires_at": expires, "uses_left": 2},
    )
    assert response.status_code == 200, response.content  # the page itself, no redirect
    assert "no-store" in response["Cache-Control"]
    token = shown_once(response, "initial-access-token")
    assert f'<code id="initial-access-token">{token}</code>' in response.content.decode()
    row = InitialAccessToken.objects.get()
    assert row.checksum == token_checksum(token) and row.created_by == admin and row.uses_left == 2
    assert "Partner A" in response.content.decode() and "registers up to 2 clients" in response.content.decode()
    assert not list(response.context["messages"])  # nothing queued for the next page
    # The next pages never show it again.
    for url in ("/admin/oauth/initialaccesstoken/", f"/admin/oauth/initialaccesstoken/{row.pk}/change/"):
        page = browser.get(url)
        assert page.status_code == 200 and token not in page.content.decode()
        assert row.checksum not in page.content.decode()


@pytest.mark.django_db
def test_the_admin_refuses_a_token_that_has_already_expired(make_user, mfa_not_required):
    admin = make_user(is_staff=True, is_superuser=True)
    browser = BrowserClient()
    browser.force_login(admin)
    response = browser.post(
        "/admin/oauth/initialaccesstoken/add/",
        {"label": "Late", "expires_at": "2000-01-01T00:00", "uses_left": 1},
    )
    assert response.status_code == 200 and b"Choose a time in the future" in response.content
    assert not InitialAccessToken.objects.exists()


# --- settings checks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "scopes", "ids"),
    [
        ("sometimes", ["openid"], {"oauth.E030"}),
        ("token", ["openid", "nope"], {"oauth.E031"}),
        ("open", ["openid", "permissions"], {"oauth.E032"}),
        ("open", ["mfa"], {"oauth.E032"}),
        ("token", [], {"oauth.E033"}),
        ("closed", ["openid", "profile", "email"], set()),
    ],
)
def test_the_registration_settings_are_checked(settings, mode, scopes, ids):
    settings.CLIENT_REGISTRATION = mode
    settings.CLIENT_REGISTRATION_SCOPES = scopes
    assert {e.id for e in checks.client_registration_check(None)} == ids


@pytest.mark.django_db
def test_the_client_admin_shows_the_registration_metadata(make_user, make_client, mfa_not_required):
    admin = make_user(is_staff=True, is_superuser=True)
    client, _ = make_client(name="Made here")
    client.contacts, client.token_endpoint_auth_method = ["dev@example.com"], "client_secret_post"
    client.save()
    browser = BrowserClient()
    browser.force_login(admin)
    page = browser.get(f"/admin/oauth/client/{client.pk}/change/").content.decode()
    assert "dev@example.com" in page and "client_secret_post" in page
    # Contacts are read-only; the auth method is the operator's to set (oauth/tests/test_auth_method.py).
    assert 'name="contacts"' not in page and '<option value="client_secret_post" selected>' in page
    assert "registered over http" in page.lower()


@pytest.mark.django_db
def test_purge_expired_deletes_expired_and_spent_initial_access_tokens():
    live, _ = flows.issue_initial_access_token(expires_in=timedelta(hours=1), uses=2)
    spent, spent_token = flows.issue_initial_access_token(expires_in=timedelta(hours=1), uses=1)
    assert flows.spend_initial_access_token(spent_token)
    expired, _ = flows.issue_initial_access_token(expires_in=timedelta(hours=1), uses=1)
    InitialAccessToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("purge_expired", "--only", "oauth.initial_access_tokens", stdout=StringIO())
    assert list(InitialAccessToken.objects.values_list("pk", flat=True)) == [live.pk]
