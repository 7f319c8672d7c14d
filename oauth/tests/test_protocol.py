"""oauth.protocol: the one duplicated-parameter and NUL check, HTTP Basic parsing."""

import base64

import pytest
from django.http import QueryDict
from oauthlib.common import Request

from oauth.protocol import basic_client_id, parameter_problem
from oauth.validators import Validator


@pytest.mark.parametrize(
    ("query", "kwargs", "problem"),
    [
        ("a=1&b=2", {}, None),
        ("resource=x&resource=y", {}, None),  # RFC 8707: repeatable
        ("resource=x&resource=y", {"repeatable": ()}, "Duplicated parameter: resource."),
        ("b=1&a=1&b=2&a=2", {}, "Duplicated parameter: a, b."),
        ("a=%00", {}, "Parameters must not contain NUL characters."),
        ("a%00=1", {}, None),  # names are checked only when asked
        ("a%00=1", {"names": True}, "Parameters must not contain NUL characters."),
        ("a=%00&a=1", {}, "Duplicated parameter: a."),  # duplicates are named first
    ],
)
def test_parameter_problem(query, kwargs, problem):
    assert parameter_problem(QueryDict(query), **kwargs) == problem


@pytest.mark.parametrize(
    ("header", "client_id"),
    [
        ("", None),
        ("Bearer abc", None),
        ("Basic " + base64.b64encode(b"app%3A1:s").decode(), "app:1"),
        ("basic " + base64.b64encode(b"app:").decode(), "app"),  # scheme names are case-insensitive
        ("Basic ñxyz", ""),  # b64decode raises ValueError for a non-ASCII str
        ("Basic " + base64.b64encode(b"\xff:s").decode(), ""),  # not UTF-8
        ("Basic " + base64.b64encode(b"app").decode(), ""),  # no colon
        ("Basic a", ""),  # bad padding
    ],
)
def test_basic_client_id(rf, header, client_id):
    assert basic_client_id(rf.post("/", HTTP_AUTHORIZATION=header)) == client_id


@pytest.mark.django_db
@pytest.mark.parametrize("credentials", ["ñxyz", base64.b64encode(b"\xff:s").decode(), "bm9jb2xvbg=="])
def test_validator_basic_auth_with_malformed_credentials_fails(credentials):
    # DOT's own Basic parsing, reached by any caller of authenticate_client (not only the views).
    headers = {"HTTP_AUTHORIZATION": f"Basic {credentials}"}  # DOT's views pass request.META
    request = Request("https://testserver/oauth/token/", "POST", "", headers)
    assert Validator().authenticate_client(request) is False
