"""OIDF plans OIDCCRpInitiatedLogoutTestPlan ("RP-Initiated Logout OP") and
OIDCCBackchannelRpInitiatedLogoutTestPlan ("Back-Channel Logout OP"): every module, discovery
metadata, client_secret_basic, response_mode default, static clients registered with the
post_logout_redirect_uri (and backchannel_logout_uri) the modules' instructions name.

AbstractOIDCCRpInitiatedLogout: a normal authorization (state of 128 characters), then the
browser goes to end_session_endpoint with id_token_hint, post_logout_redirect_uri and state
(CreateEndSessionEndpointRequest, BuildRedirectToEndSessionEndpoint), changed per module.
"""

import queue
import time
from urllib.parse import quote, urlencode

import pytest
from rp import Suite, alg_none, end_session_state, fake_id_token, happy_flow, unverified
from test_basic_op import USER_INTERFACE_ERRORS

RP_LOGOUT = "RP-Initiated Logout OP"
BACKCHANNEL = "Back-Channel Logout OP"
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def oidf(module_class, test_name, plan=RP_LOGOUT):
    return pytest.mark.oidf(plan, module_class, test_name)


def https_url(value):
    return isinstance(value, str) and value.startswith("https://")


def _all_endpoints_https(suite):
    """CheckDiscEndpointAllEndpointsAreHttps."""
    for name, value in suite.config.items():
        if name.endswith("_endpoint"):
            assert https_url(value), f"{name} is not https"


@oidf(
    "OIDCCRpInitiatedLogoutDiscoveryEndpointVerification", "oidcc-rp-initiated-logout-discovery-endpoint-verification"
)
def test_oidcc_rp_initiated_logout_discovery_endpoint_verification(suite, module):
    """OIDCCRpInitiatedLogoutDiscoveryEndpointVerification: every endpoint https, and an https
    end_session_endpoint (CheckDiscEndSessionEndpoint; RP-Initiated Logout 1.0 2.1)."""
    _all_endpoints_https(suite)
    assert https_url(suite.config.get("end_session_endpoint")), "no https end_session_endpoint (RP-Initiated 2.1)"


# --- the modules' shared steps ----------------------------------------------------------------


class Logout:
    """One AbstractOIDCCRpInitiatedLogout run."""

    def __init__(self, suite, agent):
        self.suite, self.agent = suite, agent
        self.flow = happy_flow(suite, agent, suite.authorization_request(state_length=128))
        self.end_session_state = end_session_state()
        self.params = {
            "id_token_hint": self.flow.id_token,
            "post_logout_redirect_uri": suite.client.post_logout_redirect_uri,
            "state": self.end_session_state,
        }

    def go(self):
        """BuildRedirectToEndSessionEndpoint: the parameters, in the request's order, as a query."""
        url = self.suite.config["end_session_endpoint"]
        if self.params:
            url += "?" + urlencode(list(self.params.items()), quote_via=quote)
        self.arrival = self.agent.visit(url)
        return self.arrival

    def at_post_logout_redirect(self, arrival=None):
        arrival = arrival or self.arrival
        return arrival.redirected and arrival.url.split("?")[0].endswith("/post_logout_redirect")

    def check_post_logout_redirect(self, *, state_expected=True):
        """CheckPostLogoutState / CheckNoPostLogoutState (RP-Initiated 2, 3), CheckForUnexpected-
        ParametersInPostLogoutRedirect (WARNING)."""
        assert self.at_post_logout_redirect(), f"not sent to the post_logout_redirect_uri: {self.arrival.url}"
        assert self.arrival.url.split("?")[0] == self.suite.client.post_logout_redirect_uri
        params = self.arrival.params
        if state_expected:
            assert params.get("state") == self.end_session_state, "state not returned unchanged (RP-Initiated 2)"
        else:
            assert "state" not in params, "a state in the redirect though none was sent (RP-Initiated 2)"
        if unexpected := sorted(set(params) - {"state"}):
            self.suite.module.warn(f"unexpected parameters in the post-logout redirect: {unexpected}")

    def check_logged_out(self):
        """The second authorization, prompt=none: an error that needs a user interface
        (CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface, OIDC Core 3.1.2.6)."""
        second = self.suite.authorize(
            self.agent, self.suite.authorization_request(state_length=128, prompt="none"), allow_consent=False
        )  # fmt: skip
        error = self.suite.check_error_callback(second)
        assert error in USER_INTERFACE_ERRORS, f"prompt=none after logout answered {error!r}: not logged out"

    def check_no_redirect_back(self, *, expect):
        """The module's handleHttp fails if post_logout_redirect is called; the OP must show an
        error page or ask the user (the screenshot: `expect`). If it asks, the user confirms,
        and the OP must still not redirect to the URI it could not validate."""
        assert not self.at_post_logout_redirect(), f"the OP redirected to {self.arrival.url} ({expect})"
        assert not self.arrival.redirected, f"the OP redirected off-site to {self.arrival.url}"
        page = self.arrival.response
        confirm = 'id="logoutForm"' in page.text
        assert confirm or page.status_code >= 400, f"neither an error page nor a confirmation ({page.status_code})"
        if confirm:
            after = self.agent.submit(self.arrival, "logoutForm")
            assert not self.at_post_logout_redirect(after), f"after confirming, redirected to {after.url} ({expect})"
            self.check_logged_out()

    def check_logout_page(self):
        """ExpectSuccessfulLogoutPage: the user is logged out (after confirming, if asked), and
        post_logout_redirect is not called (it was not in the request)."""
        assert not self.arrival.redirected, f"the OP redirected to {self.arrival.url}"
        assert self.arrival.response.status_code == 200, f"logout page {self.arrival.response.status_code}"
        if 'id="logoutForm"' in self.arrival.response.text:
            after = self.agent.submit(self.arrival, "logoutForm")
            assert not after.redirected, f"after confirming, redirected to {after.url}"
        self.check_logged_out()


# --- RP-Initiated Logout OP -------------------------------------------------------------------


@oidf("OIDCCRpInitiatedLogout", "oidcc-rp-initiated-logout")
def test_oidcc_rp_initiated_logout(suite, agent, module):
    """OIDCCRpInitiatedLogout (OP-RpInitLogout): redirected to the post_logout_redirect_uri
    with the state (RP-Initiated Logout 1.0 2, 3), then prompt=none fails: logged out."""
    logout = Logout(suite, agent)
    logout.go()
    logout.check_post_logout_redirect()
    logout.check_logged_out()


@oidf("OIDCCRpInitiatedLogoutBadLogoutRedirectUri", "oidcc-rp-initiated-logout-bad-post-logout-redirect-uri")
def test_oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(suite, agent, module):
    """OIDCCRpInitiatedLogoutBadLogoutRedirectUri: post_logout_redirect_uri = base URL +
    /bad_post_logout_redirect_uri, not registered: no redirect; an error or a confirmation
    (ExpectPostLogoutRedirectUriNotRegisteredErrorPage; RP-Initiated Logout 1.0 2, 3.1)."""
    logout = Logout(suite, agent)
    logout.params["post_logout_redirect_uri"] = f"{suite.op.rp_base}-basic/bad_post_logout_redirect_uri"
    logout.go()
    logout.check_no_redirect_back(expect="post_logout_redirect_uri not registered")


@oidf("OIDCCRpInitiatedLogoutModifiedIdTokenHint", "oidcc-rp-initiated-logout-modified-id-token-hint")
def test_oidcc_rp_initiated_logout_modified_id_token_hint(suite, agent, module):
    """OIDCCRpInitiatedLogoutModifiedIdTokenHint: the id_token_hint changed to alg none
    (ChangeIdTokenToAlgNone): the OP must not redirect back (ExpectInvalidIdTokenHintErrorPage;
    RP-Initiated Logout 1.0 2: the OP MUST validate it was the issuer)."""
    logout = Logout(suite, agent)
    logout.params["id_token_hint"] = alg_none(logout.flow.id_token)
    logout.go()
    logout.check_no_redirect_back(expect="invalid id_token_hint")


@oidf("OIDCCRpInitiatedLogoutNoIdTokenHint", "oidcc-rp-initiated-logout-no-id-token-hint")
def test_oidcc_rp_initiated_logout_no_id_token_hint(suite, agent, module):
    """OIDCCRpInitiatedLogoutNoIdTokenHint: post_logout_redirect_uri and state, no
    id_token_hint: no redirect; an error or a confirmation (ExpectIdTokenHintRequiredErrorPage;
    RP-Initiated Logout 1.0 2, 3)."""
    logout = Logout(suite, agent)
    del logout.params["id_token_hint"]
    logout.go()
    logout.check_no_redirect_back(expect="id_token_hint required")


@oidf("OIDCCRpInitiatedLogoutNoParams", "oidcc-rp-initiated-logout-no-params")
def test_oidcc_rp_initiated_logout_no_params(suite, agent, module):
    """OIDCCRpInitiatedLogoutNoParams: no parameters at all: the OP logs the user out
    (ExpectSuccessfulLogoutPage; RP-Initiated Logout 1.0 2: all parameters are optional)."""
    logout = Logout(suite, agent)
    logout.params = {}
    logout.go()
    logout.check_logout_page()


@oidf("OIDCCRpInitiatedLogoutNoPostLogoutRedirectUri", "oidcc-rp-initiated-logout-no-post-logout-redirect-uri")
def test_oidcc_rp_initiated_logout_no_post_logout_redirect_uri(suite, agent, module):
    """OIDCCRpInitiatedLogoutNoPostLogoutRedirectUri: id_token_hint and state only: logged
    out, no redirect (ExpectSuccessfulLogoutPage; RP-Initiated Logout 1.0 2, 3)."""
    logout = Logout(suite, agent)
    del logout.params["post_logout_redirect_uri"]
    logout.go()
    logout.check_logout_page()


@oidf("OIDCCRpInitiatedLogoutNoState", "oidcc-rp-initiated-logout-no-state")
def test_oidcc_rp_initiated_logout_no_state(suite, agent, module):
    """OIDCCRpInitiatedLogoutNoState: no state: redirected to the post_logout_redirect_uri
    without a state (CheckNoPostLogoutState; RP-Initiated Logout 1.0 2, 3), then logged out."""
    logout = Logout(suite, agent)
    del logout.params["state"]
    logout.go()
    logout.check_post_logout_redirect(state_expected=False)
    logout.check_logged_out()


@oidf("OIDCCRpInitiatedLogoutOnlyState", "oidcc-rp-initiated-logout-only-state")
def test_oidcc_rp_initiated_logout_only_state(suite, agent, module):
    """OIDCCRpInitiatedLogoutOnlyState: only state: the OP logs the user out, no redirect
    (ExpectSuccessfulLogoutPage; RP-Initiated Logout 1.0 2, 3)."""
    logout = Logout(suite, agent)
    del logout.params["id_token_hint"], logout.params["post_logout_redirect_uri"]
    logout.go()
    logout.check_logout_page()


@oidf(
    "OIDCCRpInitiatedLogoutQueryAddedToLogoutRedirectUri",
    "oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri",
)
def test_oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri(suite, agent, module):
    """OIDCCRpInitiatedLogoutQueryAddedToLogoutRedirectUri: the registered URI + ?foo=bar is
    not registered (exact match, RP-Initiated Logout 1.0 2, 3.1): no redirect."""
    logout = Logout(suite, agent)
    logout.params["post_logout_redirect_uri"] = suite.client.post_logout_redirect_uri + "?foo=bar"
    logout.go()
    logout.check_no_redirect_back(expect="post_logout_redirect_uri not registered")


@oidf("OIDCCRpInitiatedLogoutBadIdTokenHint", "oidcc-rp-initiated-logout-bad-id-token-hint")
def test_oidcc_rp_initiated_logout_bad_id_token_hint(suite, agent, module):
    """OIDCCRpInitiatedLogoutBadIdTokenHint: an id_token_hint signed by the suite (HS256 with
    the client secret, iss = client_id; GenerateFakeIdTokenClaims, SignFakeIdToken): no
    redirect (ExpectInvalidIdTokenHintErrorPage; RP-Initiated Logout 1.0 2)."""
    logout = Logout(suite, agent)
    logout.params["id_token_hint"] = fake_id_token(suite.client, suite.config["issuer"])
    logout.go()
    logout.check_no_redirect_back(expect="invalid id_token_hint")


# --- Back-Channel Logout OP -------------------------------------------------------------------


@oidf(
    "OIDCCBackchannelLogoutDiscoveryEndpointVerification",
    "oidcc-backchannel-logout-discovery-endpoint-verification",
    BACKCHANNEL,
)
def test_oidcc_backchannel_logout_discovery_endpoint_verification(suite, module):
    """OIDCCBackchannelLogoutDiscoveryEndpointVerification: backchannel_logout_supported and
    backchannel_logout_session_supported true (Back-Channel Logout 1.0 2.1; the session is
    required for certification), an https end_session_endpoint (RP-Initiated Logout 1.0 2.1)."""
    _all_endpoints_https(suite)
    assert suite.config.get("backchannel_logout_supported") is True, "backchannel_logout_supported (BCL 2.1)"
    assert suite.config.get("backchannel_logout_session_supported") is True, "..._session_supported (BCL 2.1)"
    assert https_url(suite.config.get("end_session_endpoint")), "no https end_session_endpoint"


@oidf("OIDCCBackChannelRpInitiatedLogout", "oidcc-backchannel-rp-initiated-logout", BACKCHANNEL)
def test_oidcc_backchannel_rp_initiated_logout(op, agent, receiver, module):
    """OIDCCBackChannelRpInitiatedLogout (OP-BackChannel-RpInitLogout): after the RP-initiated
    logout, the OP POSTs a logout token to the registered backchannel_logout_uri (a receiver on
    loopback, TLS) and sends the browser to the post_logout_redirect_uri with the state. The
    logout token per Back-Channel Logout 1.0 2.4: signed with a key of the JWKS, iss, aud,
    iat (not in the future, not a day old), exp, jti, events holding exactly the back-channel
    event as an empty object, sub and/or sid equal to the ID token's, no nonce; the request per
    2.5: form-encoded, logout_token alone (else a WARNING); TLS 1.2+ / 1.3 (BCP 195, RFC 9325:
    WARNINGs)."""
    suite = Suite(op, module, op.clients["backchannel"]).configure()
    while not receiver.requests.empty():  # nothing from another module's logout
        receiver.requests.get_nowait()
    logout = Logout(suite, agent)
    logout.go()
    logout.check_post_logout_redirect()
    try:
        delivery = receiver.requests.get(timeout=15)
    except queue.Empty:
        pytest.fail("no back-channel logout request within 15 seconds (Back-Channel Logout 1.0 2.5)")
    assert delivery["path"] == "/test/a/identity/backchannel_logout" and delivery["method"] == "POST"
    content_type = delivery["headers"].get("Content-Type", "")
    assert content_type.split(";")[0] == "application/x-www-form-urlencoded", f"Content-Type {content_type} (2.5)"
    if delivery["tls_version"] not in ("TLSv1.2", "TLSv1.3"):
        module.warn(f"the back-channel request used {delivery['tls_version']} (BCP 195)")
    elif delivery["tls_version"] != "TLSv1.3":
        module.warn("the back-channel request did not use TLS 1.3 (RFC 9325 3.1.1)")
    form = delivery["form"]
    assert form.get("logout_token") and len(form["logout_token"]) == 1, "no logout_token (2.5)"
    if unexpected := sorted(set(form) - {"logout_token"}):
        module.warn(f"unexpected parameters in the back-channel logout request: {unexpected}")
    token = form["logout_token"][0]
    check_logout_token(suite, token, logout.flow.id_claims)
    logout.check_logged_out()


def check_logout_token(suite, token, id_claims):
    """ValidateLogoutTokenSignature, ValidateLogoutTokenClaims, CheckIdTokenSubMatchesLogout-
    Token, CheckIdTokenSidMatchesLogoutToken, CheckLogoutTokenNoNonce, CheckLogoutTokenHasSubOrSid
    (Back-Channel Logout 1.0 2.4)."""
    header, claims = unverified(token)
    assert header.get("alg") not in (None, "none") and suite.verify_signature(token), "signature (2.4)"
    if header.get("typ") != "logout+jwt":
        suite.module.warn(f"logout token typ {header.get('typ')!r}, not logout+jwt (2.4 RECOMMENDED)")
    now = time.time()
    assert claims.get("iss") == suite.config["issuer"], "iss is not the issuer (2.4)"
    aud = claims.get("aud")
    assert suite.client.client_id in (aud if isinstance(aud, list) else [aud]), "aud is not the client (2.4)"
    assert isinstance(claims.get("iat"), int), "no iat (2.4)"
    assert claims["iat"] <= now + 300, "iat in the future"
    assert claims["iat"] >= now - 86400, "iat more than a day old"
    assert isinstance(claims.get("exp"), int) and claims["exp"] > now - 300, "exp missing or past (2.4)"
    assert claims.get("jti"), "no jti (2.4)"
    events = claims.get("events")
    assert isinstance(events, dict), "events is not a JSON object (2.4)"
    assert list(events) == [LOGOUT_EVENT], f"events must hold exactly {LOGOUT_EVENT} (2.4): {list(events)}"
    assert events[LOGOUT_EVENT] == {}, "the back-channel logout event is not an empty object (2.4)"
    if "sub" in claims:
        assert claims["sub"] == id_claims["sub"], "sub differs from the ID token's (2.4)"
    if "sid" in claims:
        assert claims["sid"] == id_claims.get("sid"), "sid differs from the ID token's (2.4)"
    assert "nonce" not in claims, "a nonce in the logout token (2.4: MUST NOT)"
    assert "sub" in claims or "sid" in claims, "neither sub nor sid (2.4)"
    assert "sid" in claims, "no sid, though backchannel_logout_session_required (2.4, certification)"
