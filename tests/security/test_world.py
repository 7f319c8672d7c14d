"""The world starts as production would: DEBUG off, no stack traces, the seed's clients work."""

import pytest
import requests

from tests.faults.flows import TIMEOUT


@pytest.mark.attack("SECURITY.md", "Malformed input and errors: no stack traces, SQL or hostnames; DEBUG off")
def test_the_server_under_attack_runs_without_debug(security):
    response = requests.get(f"{security.url}/no-such-page-{'x' * 20}", timeout=TIMEOUT)
    assert response.status_code == 404
    assert "Traceback" not in response.text and "DEBUG = True" not in response.text
    web = security.client("web")
    tokens = web.tokens(security.browser())
    assert {"access_token", "refresh_token", "id_token"} <= set(tokens)
