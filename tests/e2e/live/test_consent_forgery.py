"""A consent answer the consent page never offered (issue 15: a forged or stale form) is the
error page, a 400, and never a redirect: no redirect_uri is verified without its client."""

import pytest

from .support import TIMEOUT, hidden_fields, new_code_verifier

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.rfc("6749", "4.1.2.1")
@pytest.mark.parametrize(
    "tamper",
    [
        {"client_id": "no-such-client"},  # was an uncaught DoesNotExist in DOT, a 500
        {"client_id": "no-such-client", "redirect_uri": "https://attacker.example/cb"},
        {"redirect_uri": "https://attacker.example/cb"},
        {"client_id": None},  # an incomplete form
    ],
)
def test_forged_consent_answer_is_an_error_page(oauth, browser, web_app, tamper):
    client, secret = web_app
    session = oauth(client.client_id, secret)
    url, _state = session.create_authorization_url(
        session.metadata["authorization_endpoint"], code_verifier=new_code_verifier()
    )
    page = browser.consent_page(url)
    fields = {**hidden_fields(page.text, "authorizationForm"), "allow": "Authorize", **tamper}
    fields = {name: value for name, value in fields.items() if value is not None}
    response = browser.http.post(page.url, data=fields, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400, response.text[:2000]
    assert "Location" not in response.headers
    assert "Authorization error" in response.text
