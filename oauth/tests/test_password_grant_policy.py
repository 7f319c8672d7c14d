"""The password grant (RFC 9700 2.4: MUST NOT be used) kept for operators who need it, never
silently: off unless OAUTH_PASSWORD_GRANT_ENABLED, a system-check warning while any client has
it, and a warning wherever an operator gives it to a client."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from oauth import checks
from oauth.models import Client

pytestmark = [pytest.mark.django_db, pytest.mark.rfc("9700", "2.4")]


def test_no_warning_without_a_client_holding_the_grant(make_client):
    make_client(name="Web", grant_types=["authorization_code", "refresh_token"])
    assert checks.password_grant_check(None) == []


def test_a_warning_names_the_clients_holding_the_grant(make_client, settings):
    legacy, _ = make_client(name="Legacy", grant_types=["password", "refresh_token"])
    make_client(name="Web", grant_types=["authorization_code"])
    [warning] = checks.password_grant_check(None)
    assert warning.id == "oauth.W002"
    assert legacy.client_id in warning.msg and "refused while OAUTH_PASSWORD_GRANT_ENABLED is off" in warning.msg
    settings.OAUTH_PASSWORD_GRANT_ENABLED = True
    [warning] = checks.password_grant_check(None)
    assert "OAUTH_PASSWORD_GRANT_ENABLED is on" in warning.msg


def test_the_warning_is_part_of_manage_py_check(make_client):
    make_client(name="Legacy", grant_types=["password"])
    err = StringIO()
    call_command("check", stdout=StringIO(), stderr=err)
    assert "oauth.W002" in err.getvalue()


def test_create_client_warns_on_stderr_and_keeps_json_on_stdout():
    out, err = StringIO(), StringIO()
    call_command("create_client", "--name", "Legacy", "--grant-types", "password", "--json", stdout=out, stderr=err)
    assert json.loads(out.getvalue())["grant_types"] == ["password"]
    assert "deprecated" in err.getvalue() and "RFC 9700" in err.getvalue()


def test_the_admin_warns_that_the_grant_is_deprecated(admin_client, make_client, mfa_not_required):
    client, _ = make_client(name="Legacy", grant_types=["client_credentials"])
    url = f"/admin/oauth/client/{client.pk}/change/"
    assert b"The password grant is deprecated" in admin_client.get(url).content
    form = {
        "name": client.name,
        "client_type": "confidential",
        "grant_types": ["client_credentials", "password"],
        "redirect_uris": "",
        "post_logout_redirect_uris": "",
        "allowed_origins": "",
        "require_pkce": "on",
    }
    response = admin_client.post(url, form, follow=True)
    assert response.status_code == 200
    assert Client.objects.get(pk=client.pk).allows_grant("password")
    assert "which is deprecated (RFC 9700 2.4" in response.content.decode()
