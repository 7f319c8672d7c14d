"""oauth.protocol.parameter_problem: the one duplicated-parameter and NUL check."""

import pytest
from django.http import QueryDict

from oauth.protocol import parameter_problem


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
