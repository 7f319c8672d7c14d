"""accounts.mail: links on ISSUER, one-line subjects, and the email system checks."""

import pytest
from django.urls import set_script_prefix

from accounts import checks, mail
from accounts.tests.helpers import sent_mail


def test_links_are_built_on_the_issuer(settings):
    settings.ISSUER = "https://id.example.com"
    assert mail.absolute_url("accounts:password-reset") == "https://id.example.com/accounts/password/reset/"


def test_links_under_a_path_prefix_name_it_once(settings):
    settings.ISSUER = "https://example.com/id"  # mounted under /id (SCRIPT_NAME)
    set_script_prefix("/id/")
    try:
        assert mail.absolute_url("accounts:login") == "https://example.com/id/accounts/login/"
    finally:
        set_script_prefix("/")


def test_the_subject_is_one_line(settings, tmp_path):
    settings.SITE_NAME = "Example\nBcc: victim@example.com"
    subject, _ = mail.render("password_reset", {"user": None, "url": "u", "minutes": 1})
    assert "\n" not in subject and "\r" not in subject


def test_send_queues_the_mail(settings):
    settings.DEFAULT_FROM_EMAIL = "ID <id@example.com>"
    mail.send(to="a@example.com", template_prefix="verify_email", context={"user": None, "url": "u", "hours": 2})
    [message] = sent_mail()
    assert (message.from_email, message.to) == ("ID <id@example.com>", ["a@example.com"])
    assert "2 hours" in message.body


@pytest.mark.parametrize(
    ("overrides", "ids"),
    [
        ({"DEBUG": True, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, []),
        ({"DEBUG": False, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, ["accounts.W001"]),
        ({"DEBUG": False, "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}, ["accounts.W001"]),
        ({"DEBUG": False, "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}, []),
        (
            {"DEBUG": True, "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": True},
            ["accounts.E003"],
        ),
        ({"DEBUG": True, "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False}, []),
    ],
)
def test_email_checks(settings, overrides, ids):
    for name, value in overrides.items():
        setattr(settings, name, value)
    assert [problem.id for problem in checks.check_email_settings(None)] == ids


def test_the_message_id_does_not_touch_the_random_module():
    """The sender thread must not draw from `random`'s shared state (make_msgid does): the
    request thread owns it (Hypothesis seeds it per example in tests/fuzz)."""
    import random

    state = random.getstate()
    mail.send(to="a@example.com", template_prefix="verify_email", context={"user": None, "url": "u", "hours": 2})
    [message] = sent_mail()
    assert random.getstate() == state
    message_id = message.message()["Message-ID"]
    assert message_id.startswith("<") and message_id.endswith(">") and len(message_id.split("@")[0]) == 33
    assert message_id != mail.message_id()
