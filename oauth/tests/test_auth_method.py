"""token_endpoint_auth_method set by operators (admin, create_client, seed_clients) and
checked against the client type; enforcement is in tests/e2e/rfc7591/test_auth_method.py."""

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client as BrowserClient

from oauth import flows
from oauth.models import Client, client_auth_method_allowed

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "used", "allowed"),
    [
        ("", "client_secret_basic", True),
        ("", "client_secret_post", True),
        ("client_secret_basic", "client_secret_basic", True),
        ("client_secret_basic", "client_secret_post", False),
        ("client_secret_post", "client_secret_post", True),
        ("client_secret_post", "client_secret_basic", False),
        ("none", "client_secret_basic", False),
        ("none", "client_secret_post", False),
    ],
)
def test_which_method_a_client_may_use(method, used, allowed):
    assert client_auth_method_allowed(Client(token_endpoint_auth_method=method), used) is allowed


@pytest.mark.parametrize(
    ("public", "method", "error"),
    [
        (False, "none", "A confidential client authenticates with its secret"),
        (True, "client_secret_basic", "A public client has no secret"),
        (True, "client_secret_post", "A public client has no secret"),
        (False, "private_key_jwt", "is not a valid choice"),
    ],
)
def test_the_method_must_fit_the_client_type(public, method, error):
    with pytest.raises(flows.ClientError) as refused:
        flows.create_client(
            name="App",
            grant_types=["authorization_code"],
            redirect_uris=["https://app.example.com/cb"],
            public=public,
            token_endpoint_auth_method=method,
        )
    assert error in " ".join(refused.value.errors["token_endpoint_auth_method"])


@pytest.mark.parametrize(("public", "method"), [(True, "none"), (True, ""), (False, ""), (False, "client_secret_post")])
def test_methods_that_fit(public, method):
    client = Client(
        name="App",
        client_type=Client.CLIENT_PUBLIC if public else Client.CLIENT_CONFIDENTIAL,
        grant_types="authorization_code",
        redirect_uris="https://app.example.com/cb",
        token_endpoint_auth_method=method,
    )
    try:
        client.clean()
    except ValidationError as exc:
        assert "token_endpoint_auth_method" not in exc.message_dict


def test_create_client_sets_the_method():
    out = StringIO()
    call_command(
        "create_client",
        "--name=Batch",
        "--grant-types=client_credentials",
        "--token-endpoint-auth-method=client_secret_post",
        "--json",
        stdout=out,
    )
    result = json.loads(out.getvalue())
    assert result["token_endpoint_auth_method"] == "client_secret_post"
    assert Client.objects.get(client_id=result["client_id"]).token_endpoint_auth_method == "client_secret_post"
    out = StringIO()
    call_command("create_client", "--name=Either", "--grant-types=client_credentials", "--json", stdout=out)
    assert json.loads(out.getvalue())["token_endpoint_auth_method"] is None
    assert Client.objects.get(name="Either").token_endpoint_auth_method == ""


def test_create_client_refuses_an_unknown_method():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("create_client", "--name=X", "--grant-types=client_credentials", "--token-endpoint-auth-method=x")


def test_seed_clients_sets_and_changes_the_method(tmp_path):
    path = tmp_path / "clients.json"

    def seed(**entry):
        path.write_text(json.dumps({"clients": [{"name": "Batch", "grant_types": ["client_credentials"], **entry}]}))
        call_command("seed_clients", "--file", str(path), stdout=StringIO())
        return Client.objects.get(name="Batch").token_endpoint_auth_method

    assert seed(token_endpoint_auth_method="client_secret_basic") == "client_secret_basic"
    assert seed() == "client_secret_basic"  # a key left out leaves the field as it is
    assert seed(token_endpoint_auth_method="") == ""
    with pytest.raises(CommandError, match="token_endpoint_auth_method"):
        seed(token_endpoint_auth_method="none")  # a confidential client


@pytest.fixture
def admin_browser(make_user, mfa_not_required):
    browser = BrowserClient()
    browser.force_login(make_user(is_staff=True, is_superuser=True))
    return browser


def form(**overrides):
    return {
        "name": "Console app",
        "client_type": "confidential",
        "grant_types": ["client_credentials"],
        "require_pkce": "on",
        **overrides,
    }


def test_the_admin_form_offers_either_and_each_method(admin_browser):
    page = admin_browser.get("/admin/oauth/client/add/").content.decode()
    assert '<select name="token_endpoint_auth_method"' in page
    assert '<option value="" selected>Either: HTTP Basic or in the body</option>' in page
    for method in ("client_secret_basic", "client_secret_post", "none"):
        assert f'<option value="{method}">' in page


def test_the_admin_sets_changes_and_clears_the_method(admin_browser):
    response = admin_browser.post("/admin/oauth/client/add/", form(token_endpoint_auth_method="client_secret_post"))
    assert response.status_code == 200, response.content.decode()[:2000]
    client = Client.objects.get(name="Console app")
    assert client.token_endpoint_auth_method == "client_secret_post"
    change = f"/admin/oauth/client/{client.pk}/change/"
    assert '<option value="client_secret_post" selected>' in admin_browser.get(change).content.decode()
    assert admin_browser.post(change, form(token_endpoint_auth_method="client_secret_basic")).status_code == 302
    client.refresh_from_db()
    assert client.token_endpoint_auth_method == "client_secret_basic"
    assert admin_browser.post(change, form(token_endpoint_auth_method="")).status_code == 302
    client.refresh_from_db()
    assert client.token_endpoint_auth_method == ""


def test_the_admin_refuses_a_method_that_does_not_fit(admin_browser):
    response = admin_browser.post("/admin/oauth/client/add/", form(token_endpoint_auth_method="none"))
    assert response.status_code == 200
    assert "A confidential client authenticates with its secret" in response.content.decode()
    assert not Client.objects.exists()
