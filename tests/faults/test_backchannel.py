"""A back-channel logout receiver that accepts the connection and never answers (OpenID
Connect Back-Channel Logout 1.0): the logout completes at once, the other relying parties are
notified without waiting for it, and the hung delivery is cut by
BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS and scheduled for a retry."""

import base64
import json
import time
from urllib.parse import parse_qs

import pytest

from .conftest import BACKCHANNEL_TIMEOUT_SECONDS
from .flows import accepted
from .services import wait_until

pytestmark = [pytest.mark.timeout(300), pytest.mark.rfc("OIDC-BackChannel", "2.8")]


def audience(body):
    token = parse_qs(body)["logout_token"][0]
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["aud"]


def test_a_hanging_receiver_delays_neither_the_logout_nor_the_other_relying_parties(faults):
    hanging, good = faults.client("hanging"), faults.client("good")
    browser = faults.browser()
    # The hanging client first: its outbox row is the first one to be delivered.
    tokens = [hanging.tokens(browser), good.tokens(browser)]
    already = len(faults.hanging.accepted)

    started = time.monotonic()
    response = browser.post("/accounts/logout/")
    took = time.monotonic() - started
    assert response.status_code == 302 and took < 2, (response.status_code, took)

    def good_notified():
        return [at for at, body in faults.receiver.received if audience(body) == good.client_id and at >= started]

    wait_until(good_notified, timeout=BACKCHANNEL_TIMEOUT_SECONDS + 5, what="the good receiver's logout token")
    assert good_notified()[0] - started < BACKCHANNEL_TIMEOUT_SECONDS / 2, "it waited for the hanging receiver"
    wait_until(lambda: len(faults.hanging.accepted) > already, timeout=5, what="the attempt at the hanging receiver")
    assert all(not accepted(faults.url, t["access_token"]) for t in tokens)

    def outcome(client):
        return faults.sql(
            "SELECT b.attempts, b.delivered_at IS NOT NULL, b.next_attempt_at IS NOT NULL, b.last_error "
            "FROM oauth_backchannellogout b JOIN oauth_client c ON c.id = b.client_id "
            "WHERE c.client_id = %s ORDER BY b.id DESC LIMIT 1",
            (client.client_id,),
        )[0]

    # The hung attempt is cut by the timeout, recorded as failed and scheduled again.
    wait_until(lambda: outcome(hanging)[3], timeout=BACKCHANNEL_TIMEOUT_SECONDS + 5, what="the timeout")
    attempts, delivered, retrying, error = outcome(hanging)
    assert (attempts, delivered, retrying) == (1, False, True) and "Timeout" in error, outcome(hanging)
    assert outcome(good)[:3] == (1, True, False)
