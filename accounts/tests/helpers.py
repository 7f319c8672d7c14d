"""Helpers for driving the account pages as a browser does, CSRF included."""

import re

from django.test import Client

LOGIN = "/accounts/login/"
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_browser(**defaults):
    """A test client that enforces CSRF checks, as real browsers are subject to them.
    `defaults` are WSGI environ entries sent with every request (REMOTE_ADDR, HTTP_…)."""
    return Client(enforce_csrf_checks=True, **defaults)


def csrf_token(response):
    """The CSRF token of the form on a rendered page."""
    match = _CSRF_INPUT.search(response.content.decode())
    assert match, "the page has no CSRF token"
    return match.group(1)


def without_csrf_tokens(body):
    """Page body with its (per-render, masked) CSRF tokens blanked out, for comparisons."""
    return _CSRF_INPUT.sub('name="csrfmiddlewaretoken" value=""', body)


def login(browser, username, password, **extra):
    """Fetch the login page and post the credentials with its CSRF token, as a browser does."""
    token = csrf_token(browser.get(LOGIN))
    return browser.post(LOGIN, {"username": username, "password": password, "csrfmiddlewaretoken": token, **extra})


_LINK = re.compile(r"https?://\S+")


def sent_mail():
    """The mail sent so far (Django's locmem outbox), once the background sender is done."""
    from django.core import mail

    from accounts.mail import wait_until_sent

    wait_until_sent()
    return mail.outbox


def link_in(message):
    """The one link in a mail's body."""
    links = _LINK.findall(message.body)
    assert len(links) == 1, message.body
    return links[0]
