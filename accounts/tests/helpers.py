"""Helpers for driving the account pages as a browser does, CSRF included."""

import re

from django.test import Client

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_browser():
    """A test client that enforces CSRF checks, as real browsers are subject to them."""
    return Client(enforce_csrf_checks=True)


def csrf_token(response):
    """The CSRF token of the form on a rendered page."""
    match = _CSRF_INPUT.search(response.content.decode())
    assert match, "the page has no CSRF token"
    return match.group(1)


def without_csrf_tokens(body):
    """Page body with its (per-render, masked) CSRF tokens blanked out, for comparisons."""
    return _CSRF_INPUT.sub('name="csrfmiddlewaretoken" value=""', body)
