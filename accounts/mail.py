"""The mail accounts sends (password reset, email verification), rendered here and sent off the
request thread.

Sending in the background keeps a page's answer time independent of whether a mail was sent
at all: the password reset page answers an unknown address and a known one in the same time,
however slow the SMTP server is (no user enumeration by timing). The price: a mail still queued
when its process is killed is lost (a normal exit waits for it), which a person notices and asks
for again (every mail here can be asked for again). Sending failures are logged (without the message: it holds a link).

Every link in a mail is built on ISSUER, never on the request's Host header.
"""

import logging
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor, wait

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse

log = logging.getLogger(__name__)

# One sender thread per process is plenty for mail people ask for one at a time (throttled).
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="accounts-mail")
_pending = set()
_lock = threading.Lock()


def absolute_url(view_name, **kwargs):
    """The public URL of one of our views: ISSUER (which includes any path prefix the server is
    mounted under) plus its path. Never the Host header, which a client chooses."""
    path = reverse(view_name, kwargs=kwargs or None)
    return settings.ISSUER + path.removeprefix(get_script_prefix().rstrip("/"))


def render(template_prefix, context):
    """(subject, body) from templates/accounts/email/<prefix>_subject.txt and _message.txt."""
    context = {"service_name": settings.SITE_NAME, **context}
    subject = render_to_string(f"accounts/email/{template_prefix}_subject.txt", context)
    # One line: a newline in a subject would be a header injection (Django refuses it anyway).
    subject = " ".join(subject.split())
    body = render_to_string(f"accounts/email/{template_prefix}_message.txt", context)
    return subject, body


def send(*, to, template_prefix, context):
    """Render the mail now and queue its sending; returns at once."""
    subject, body = render(template_prefix, context)
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": message_id()},
    )
    future = _executor.submit(_deliver, message, template_prefix)
    with _lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def message_id():
    """A Message-ID from the CSPRNG. Django would make one with email.utils.make_msgid, which
    draws from the `random` module's shared state — in the sender thread, while the request
    thread may be using it (a seeded test run, Hypothesis's fuzzing, loses its determinism)."""
    return f"<{secrets.token_hex(16)}@{DNS_NAME}>"


def _deliver(message, kind):
    try:
        message.send(fail_silently=False)
    except Exception:
        # Anything an email backend raises (SMTP, socket, TLS errors) ends here: the page was
        # answered long ago. Logged without the body, whose link is a credential.
        log.exception("Sending the %s mail failed.", kind)


def _forget(future):
    with _lock:
        _pending.discard(future)


def wait_until_sent(timeout=10):
    """Block until every queued mail has been handed to the email backend (tests, shutdown)."""
    with _lock:
        futures = set(_pending)
    wait(futures, timeout=timeout)
