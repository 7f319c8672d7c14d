import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from conftest import basic, form_post
from oauth.management.commands import seed_demo
from oauth.models import Client


def create_client(*args):
    out = StringIO()
    call_command("create_client", *args, stdout=out)
    return out.getvalue()


def create_client_json(*args):
    return json.loads(create_client(*args, "--json"))


SERVICE = ["--name", "Service", "--grant-types", "client_credentials", "--scopes", "read"]
WEB_APP = ["--name", "Web", "--grant-types", "authorization_code,refresh_token"]


@pytest.mark.django_db
def test_json_output_has_client_id_and_secret():
    result = create_client_json(*SERVICE)
    client = Client.objects.get(client_id=result["client_id"])
    assert len(result["client_secret"]) >= 32
    assert result["client_type"] == Client.CLIENT_CONFIDENTIAL
    assert result["grant_types"] == ["client_credentials"]
    assert result["scopes"] == ["read"]
    assert client.name == "Service"


@pytest.mark.django_db
def test_secret_is_stored_only_as_a_keyed_hash():
    result = create_client_json(*SERVICE)
    stored = Client.objects.get(client_id=result["client_id"]).client_secret
    assert stored.startswith("client_secret_hmac$")
    assert result["client_secret"] not in stored


@pytest.mark.django_db
def test_text_output_shows_the_secret_once():
    output = create_client(*SERVICE)
    client = Client.objects.get()
    assert output.count(client.client_id) == 1
    secret = output.split("client_secret:", 1)[1].split()[0]
    assert output.count(secret) == 1
    assert "only now" in output


@pytest.mark.django_db
def test_the_printed_secret_authenticates_at_the_token_endpoint(client):
    result = create_client_json(*SERVICE)
    response = form_post(
        client,
        "/oauth/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(result["client_id"], result["client_secret"]),
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read"
    secret = result["client_secret"]
    # Change the last character to one it is not (a fixed "x" was the same secret one time in 64).
    other = "y" if secret.endswith("x") else "x"
    wrong = form_post(
        client,
        "/oauth/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(result["client_id"], secret[:-1] + other),
    )
    assert wrong.status_code == 401


@pytest.mark.django_db
def test_public_client_has_no_secret():
    result = create_client_json(*WEB_APP, "--public", "--redirect-uri", "http://127.0.0.1:8765/cb")
    assert result["client_secret"] is None
    assert result["client_type"] == Client.CLIENT_PUBLIC
    assert "client_secret" not in create_client(*WEB_APP, "--public", "--redirect-uri", "https://a.example/cb")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example.com/cb",
        "http://127.0.0.1.nip.io/cb",
        "http://localhost.example.com/cb",
        "https://app.example.com/cb#fragment",
        "https://app.example.com/cb#",
        "https://*.example.com/cb",
        "https://app.example.com/*",
        "javascript:alert(1)",
        "data:text/html,hi",
        "//app.example.com/cb",
        "/relative/cb",
        "https://user:pass@app.example.com/cb",
        "https:///cb",
        "https://app.example.com/c b",
        "https://[::1/cb",
        "https://app.example.com:port/cb",
        "https://app.example.com:99999/cb",
    ],
)
def test_bad_redirect_uris_refused(uri):
    with pytest.raises(CommandError, match="redirect_uris"):
        create_client(*WEB_APP, "--redirect-uri", uri)
    assert not Client.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("uri", ["https://app.example.com/cb", "http://127.0.0.1:8765/cb", "http://[::1]/cb"])
def test_good_redirect_uris_accepted(uri):
    assert create_client_json(*WEB_APP, "--redirect-uri", uri)["redirect_uris"] == [uri]


@pytest.mark.django_db
def test_authorization_code_needs_a_redirect_uri():
    with pytest.raises(CommandError, match="redirect_uris"):
        create_client(*WEB_APP)


@pytest.mark.django_db
@pytest.mark.parametrize("grants", ["implicit", "client_credentials,device_code", "", "refresh_token"])
def test_unknown_or_unusable_grant_types_refused(grants):
    with pytest.raises(CommandError, match="grant_types"):
        create_client("--name", "X", "--grant-types", grants)
    assert not Client.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("grants", ["client_credentials", "password", "authorization_code,client_credentials"])
def test_public_clients_cannot_use_grants_that_need_a_secret(grants):
    with pytest.raises(CommandError, match="grant_types"):
        create_client("--name", "X", "--grant-types", grants, "--public", "--redirect-uri", "https://a.example/cb")
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_unknown_scope_refused():
    with pytest.raises(CommandError, match="allowed_scopes"):
        create_client(*SERVICE[:-1], "read admin")


@pytest.mark.django_db
def test_name_is_required():
    with pytest.raises(CommandError):
        create_client("--grant-types", "client_credentials")


# --- seed_demo ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
    for _ in range(2):
        call_command("seed_demo", stdout=StringIO())
    User = get_user_model()
    assert User.objects.count() == 1
    assert Client.objects.count() == 2
    demo = User.objects.get()
    assert demo.username == seed_demo.DEMO_USERNAME
    assert demo.check_password(seed_demo.DEMO_PASSWORD)
    client = Client.objects.get(client_id=seed_demo.DEMO_CLIENT_ID)
    assert client.client_type == Client.CLIENT_PUBLIC
    assert client.redirect_uris == seed_demo.DEMO_REDIRECT_URI
    assert client.post_logout_redirect_uris == seed_demo.DEMO_POST_LOGOUT_REDIRECT_URI
    assert client.allowed_origins == ""
    spa = Client.objects.get(client_id=seed_demo.DEMO_SPA_CLIENT_ID)
    assert spa.client_type == Client.CLIENT_PUBLIC
    assert spa.redirect_uris == "http://127.0.0.1:8766/callback"
    assert spa.post_logout_redirect_uris == "http://127.0.0.1:8766/"
    assert spa.origin_allowed("http://127.0.0.1:8766")


@pytest.mark.django_db
def test_seed_demo_completes_an_older_demo_client_and_keeps_what_an_operator_added(settings):
    # A database seeded before the examples existed: no post-logout URI; an extra redirect URI.
    settings.DEBUG = True
    Client.objects.create(
        client_id=seed_demo.DEMO_CLIENT_ID,
        name="Renamed",
        client_type=Client.CLIENT_PUBLIC,
        redirect_uris=f"https://mine.example/cb {seed_demo.DEMO_REDIRECT_URI}",
        client_secret="",
    )
    call_command("seed_demo", stdout=StringIO())
    client = Client.objects.get(client_id=seed_demo.DEMO_CLIENT_ID)
    assert client.name == "Renamed"
    assert client.redirect_uris == f"https://mine.example/cb {seed_demo.DEMO_REDIRECT_URI}"
    assert client.post_logout_redirect_uris == seed_demo.DEMO_POST_LOGOUT_REDIRECT_URI
    updated = client.updated
    call_command("seed_demo", stdout=StringIO())
    client.refresh_from_db()
    assert client.updated == updated  # nothing left to change: no write


@pytest.mark.django_db
def test_seed_demo_client_passes_validation(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    for client in Client.objects.all():
        client.full_clean(exclude=["client_secret", "user", "authorization_grant_type"])


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())
    assert not get_user_model().objects.exists()
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_token_lifetimes_and_audience(client):
    result = create_client_json(
        *SERVICE, "--access-token-lifetime", "120", "--audience", "https://a.example", "--audience", "https://b.example"
    )
    row = Client.objects.get(client_id=result["client_id"])
    assert (row.access_token_lifetime, row.refresh_token_lifetime, row.id_token_lifetime) == (120, None, None)
    assert row.audience == "https://a.example https://b.example"
    token = form_post(
        client,
        "/oauth/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(result["client_id"], result["client_secret"]),
    )
    assert token.json()["expires_in"] == 120


@pytest.mark.django_db
def test_a_bad_lifetime_is_refused():
    with pytest.raises(CommandError, match="access_token_lifetime"):
        create_client(*SERVICE, "--access-token-lifetime", "1")
