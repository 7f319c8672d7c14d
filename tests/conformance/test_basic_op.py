"""OIDF plan OIDCCBasicTestPlan ("Basic OP"), response_type=code, client_secret_basic,
response_mode default, static client: every module of the plan, in the plan's order.

Module sources: openid-certification/conformance-suite, src/main/java/net/openid/conformance/
openid/. Each test names its class; the spec sections are the ones the module's conditions cite.
"""

import json
import os
import secrets
import subprocess
import threading
import time
from pathlib import Path

import pytest
from rp import Suite, UserAgent, b64url_json_segment, happy_flow, name_in_id_token, random_alnum, unverified

from conftest import Module

BASIC = "Basic OP"
STATIC_CLIENT_NA = (
    "@VariantNotApplicable(ClientRegistration=static_client) in the suite: the module registers its own "
    "client through OIDC Dynamic Client Registration 1.0, which this provider does not offer (optional for "
    "the Basic OP profile; no registration_endpoint in discovery). Clients are registered statically."
)


def oidf(module_class, test_name, plan=BASIC):
    return pytest.mark.oidf(plan, module_class, test_name)


# --- AbstractOIDCCServerTest's happy flow and its variations ----------------------------------


@oidf("OIDCCServerTest", "oidcc-server")
def test_oidcc_server(suite, agent, module):
    """OIDCCServerTest: the happy flow. ID token per OIDC Core 3.1.3.7 (PerformStandard-
    IdTokenChecks), c_hash/at_hash if present correct (3.3.2.11), code length and entropy
    (RFC 6749 10.10, RFC 6819 5.1.4.2.2), expires_in (RFC 6749 5.1, WARNING), no name and no
    non-requested claims in the ID token (OIDC Core 5.5, WARNING)."""
    flow = suite.authorize(agent, suite.authorization_request())
    suite.check_callback(flow)
    suite.check_code(flow)
    suite.redeem(flow)
    if "expires_in" not in flow.tokens:
        module.warn("no expires_in in the token response (RFC 6749 5.1 RECOMMENDED)")
    if "at_hash" in flow.id_claims:
        assert flow.id_claims["at_hash"] == suite.hash_half(flow.tokens["access_token"]), "at_hash wrong"
    if "c_hash" in flow.id_claims:
        assert flow.id_claims["c_hash"] == suite.hash_half(flow.callback["code"]), "c_hash wrong"
    name_in_id_token(suite, flow)
    assert suite.userinfo(flow.tokens["access_token"]).status_code == 200, "protected resource (UserInfo)"
    if extra := suite.non_requested_claims(flow):
        module.warn(f"the ID token contains non-requested claims {extra}")


@oidf("OIDCCResponseTypeMissing", "oidcc-response-type-missing")
def test_oidcc_response_type_missing(suite, agent, module):
    """OIDCCResponseTypeMissing: no response_type. Either an error redirect with
    invalid_request or unsupported_response_type (RFC 6749 3.1.1, 4.1.2.1), or an error page
    (the suite asks for its screenshot)."""
    request = suite.authorization_request()
    del request["response_type"]
    flow = suite.authorize(agent, request)
    if flow.arrival.redirected:
        error = suite.check_error_callback(flow)
        assert error in ("invalid_request", "unsupported_response_type"), f"error {error!r} (RFC 6749 3.1.1)"
    else:
        assert flow.arrival.response.status_code >= 400, "neither an error redirect nor an error page"


@oidf("OIDCCIdTokenSignature", "oidcc-idtoken-signature")
def test_oidcc_idtoken_signature(suite, module):
    """OIDCCIdTokenSignature (OP-IDToken-Signature, OP-IDToken-kid; OIDC Core 10.1, 3.1.3.7):
    not applicable to a static client. (The kid and RS256 it checks are checked here anyway,
    on the discovery and the JWKS.)"""
    assert suite.config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert all(k.get("kid") for k in suite.jwks["keys"]), "a JWK without kid (OIDC Core 10.1)"
    module.not_applicable(STATIC_CLIENT_NA)


@oidf("OIDCCIdTokenUnsigned", "oidcc-idtoken-unsigned")
def test_oidcc_idtoken_unsigned(suite, module):
    """OIDCCIdTokenUnsigned (OP-IDToken-none): not applicable to a static client; and the
    suite skips it when id_token_signing_alg_values_supported lacks "none" (OIDC Core 3.1.3.7:
    `none` is not required), as here."""
    assert "none" not in suite.config["id_token_signing_alg_values_supported"]
    module.not_applicable(STATIC_CLIENT_NA + " Also: 'none' is not in id_token_signing_alg_values_supported.")


def _userinfo_module(suite, agent, how):
    """The happy flow (its protected-resource call included), then the module's UserInfo call."""
    flow = happy_flow(suite, agent, suite.authorization_request())
    response = suite.userinfo(flow.tokens["access_token"], how=how)
    return flow, response


@oidf("OIDCCUserInfoGet", "oidcc-userinfo-get")
def test_oidcc_userinfo_get(suite, agent, module):
    """OIDCCUserInfoGet (OP-UserInfo-Endpoint): GET with a Bearer header; 200, JSON
    (OIDC Core 5.3.1, 5.3.2), standard claim types (5.1), the ID token's sub (5.3.2)."""
    flow, response = _userinfo_module(suite, agent, "get")
    suite.check_userinfo(flow, response)


@oidf("OIDCCUserInfoPostHeader", "oidcc-userinfo-post-header")
def test_oidcc_userinfo_post_header(suite, agent, module):
    """OIDCCUserInfoPostHeader (OP-UserInfo-Header): POST with a Bearer header (OIDC Core 5.3.1)."""
    flow, response = _userinfo_module(suite, agent, "post-header")
    suite.check_userinfo(flow, response)


@oidf("OIDCCUserInfoPostBody", "oidcc-userinfo-post-body")
def test_oidcc_userinfo_post_body(suite, agent, module):
    """OIDCCUserInfoPostBody (OP-UserInfo-Body): the access token in a form body (RFC 6750
    2.2); an error answer is a WARNING (UserInfoEndpointWithAccessTokenInBodyNotSupported)."""
    flow, response = _userinfo_module(suite, agent, "post-body")
    if not 200 <= response.status_code < 300:
        module.warn(f"the access token in the body is not supported ({response.status_code}; RFC 6750 2.2 MAY)")
    else:
        suite.check_userinfo(flow, response)


@oidf("OIDCCEnsureRequestWithoutNonceSucceedsForCodeFlow", "oidcc-ensure-request-without-nonce-succeeds-for-code-flow")
def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(suite, agent, module):
    """OIDCCEnsureRequestWithoutNonceSucceedsForCodeFlow (OP-nonce-NoReq-code): nonce is
    OPTIONAL for the code flow (OIDC Core 3.1.2.1): a code must be issued. (The module stops
    at the callback.)"""
    flow = suite.authorize(agent, suite.authorization_request(nonce=False))
    suite.check_callback(flow)


def _scope_module(suite, agent, module, scope):
    """AbstractOIDCCReturnedClaimsServerTest: skipped if scopes_supported lacks the scopes;
    UserInfo validated; VerifyScopesReturnedInUserInfoClaims (WARNING, OIDC Core 5.4)."""
    wanted = [s for s in scope.split() if s != "openid"]
    if missing := [s for s in wanted if s not in suite.config.get("scopes_supported", wanted)]:
        module.not_applicable(f"scopes_supported does not list {missing} (the suite skips the module)")
        return None, None
    flow = happy_flow(suite, agent, suite.authorization_request(scope=scope))
    info = suite.check_userinfo(flow, suite.userinfo(flow.tokens["access_token"]))
    if missing := suite.scope_claims_returned(flow, info):
        module.warn(f"UserInfo returned no claim of the scopes {missing} (OIDC Core 5.4)")
    return flow, info


@oidf("OIDCCScopeProfile", "oidcc-scope-profile")
def test_oidcc_scope_profile(suite, agent, module):
    """OIDCCScopeProfile (OP-scope-profile): scope=openid profile; profile claims in UserInfo
    (OIDC Core 5.4)."""
    _scope_module(suite, agent, module, "openid profile")


@oidf("OIDCCScopeEmail", "oidcc-scope-email")
def test_oidcc_scope_email(suite, agent, module):
    """OIDCCScopeEmail (OP-scope-email): email and email_verified from UserInfo, not in the ID
    token when an access token is issued, no name anywhere (OIDC Core 5.4, 5.5; WARNINGs)."""
    flow, info = _scope_module(suite, agent, module, "openid email")
    _email_checks(suite, module, flow, info)


def _email_checks(suite, module, flow, info):
    name_in_id_token(suite, flow)
    if "email" in flow.id_claims:
        module.warn("email in the ID token though an access token was issued (OIDC Core 5.4)")
    if "name" in info:
        module.warn("UserInfo contains name, which the email scope does not ask (OIDC Core 5.4)")


@oidf("OIDCCScopeAddress", "oidcc-scope-address")
def test_oidcc_scope_address(suite, agent, module):
    """OIDCCScopeAddress (OP-scope-address): the address claim (OIDC Core 5.4, 5.1.1)."""
    _scope_module(suite, agent, module, "openid address")


@oidf("OIDCCScopePhone", "oidcc-scope-phone")
def test_oidcc_scope_phone(suite, agent, module):
    """OIDCCScopePhone (OP-scope-phone): phone_number, phone_number_verified (OIDC Core 5.4)."""
    _scope_module(suite, agent, module, "openid phone")


@oidf("OIDCCScopeAll", "oidcc-scope-all")
def test_oidcc_scope_all(suite, agent, module):
    """OIDCCScopeAll (OP-scope-All): SetScopeInClientConfigurationToOpenIdEmailPhoneAddressProfile
    (OIDC Core 5.4)."""
    _scope_module(suite, agent, module, "openid email phone address profile")


@oidf("OIDCCAlternateHappyFlow", "oidcc-alternate-happy-flow")
def test_oidcc_alternate_happy_flow(suite, agent, module):
    """OIDCCAlternateHappyFlow (extends OIDCCScopeEmail): the scope's values reversed
    ("email openid") and the query parameters in reverse order (RFC 6749 3.3: order does not
    matter)."""
    request = suite.authorization_request(scope="email openid")
    flow = happy_flow(suite, agent, request, reorder=True)
    info = suite.check_userinfo(flow, suite.userinfo(flow.tokens["access_token"]))
    if suite.scope_claims_returned(flow, info):
        module.warn("UserInfo returned no email claim (OIDC Core 5.4)")
    _email_checks(suite, module, flow, info)


@oidf("OIDCCDisplayPage", "oidcc-display-page")
def test_oidcc_display_page(suite, agent, module):
    """OIDCCDisplayPage (OP-display-page): display=page must not cause an error (OIDC Core
    3.1.2.1, 15.1)."""
    happy_flow(suite, agent, suite.authorization_request(display="page"))


@oidf("OIDCCDisplayPopup", "oidcc-display-popup")
def test_oidcc_display_popup(suite, agent, module):
    """OIDCCDisplayPopup (OP-display-popup): display=popup must not cause an error (OIDC Core
    3.1.2.1, 15.1)."""
    happy_flow(suite, agent, suite.authorization_request(display="popup"))


# --- prompt, max_age and the modules that authorize twice --------------------------------------


@oidf("OIDCCPromptLogin", "oidcc-prompt-login")
def test_oidcc_prompt_login(suite, agent, module):
    """OIDCCPromptLogin (OP-prompt-login): a second authorization with prompt=login, one
    second later, must ask the user to log in again (ExpectSecondLoginPage; OIDC Core
    3.1.2.1); auth_time, if present, later than the first (CheckSecondIdTokenAuthTimeIsLater-
    IfPresent, OIDC Core 2)."""
    first = happy_flow(suite, agent, suite.authorization_request())
    time.sleep(1)  # WaitForOneSecond
    second = suite.authorize(agent, suite.authorization_request(prompt="login"))
    assert second.arrival.logins == 1, "prompt=login did not show the login page again (OIDC Core 3.1.2.1)"
    suite.check_callback(second)
    suite.redeem(second)
    assert suite.userinfo(second.tokens["access_token"]).status_code == 200
    if "auth_time" in first.id_claims and "auth_time" in second.id_claims:
        assert second.id_claims["auth_time"] > first.id_claims["auth_time"], "auth_time did not move (OIDC Core 2)"


@oidf("OIDCCPromptNoneNotLoggedIn", "oidcc-prompt-none-not-logged-in")
def test_oidcc_prompt_none_not_logged_in(suite, agent, module):
    """OIDCCPromptNoneNotLoggedIn (OP-prompt-none-NotLoggedIn): no session, prompt=none, a
    128-character state: an error redirect (OIDC Core 3.1.2.6) with one of interaction_required,
    login_required, account_selection_required, consent_required, and the state unchanged."""
    flow = suite.authorize(agent, suite.authorization_request(state_length=128, prompt="none"))
    assert flow.arrival.logins == 0, "prompt=none showed a login page"
    error = suite.check_error_callback(flow)
    assert error in USER_INTERFACE_ERRORS, f"error {error!r} (OIDC Core 3.1.2.6)"


USER_INTERFACE_ERRORS = ("interaction_required", "login_required", "account_selection_required", "consent_required")


def _same_auth_twice(suite, agent, first_request, second_request):
    """AbstractOIDCCSameAuthTwiceServerTest: the second authorization must not interact with
    the user; auth_time (if present) and sub the same (CheckIdTokenAuthTimeClaimsSameIfPresent,
    CheckIdTokenSubConsistentForSecondAuthorization; OIDC Core 2)."""
    first = happy_flow(suite, agent, first_request)
    second_request = second_request(first) if callable(second_request) else second_request
    second = suite.authorize(agent, second_request, allow_consent=False)
    assert second.arrival.logins == 0, "the second authorization asked the user to log in"
    suite.check_callback(second)
    suite.redeem(second)
    assert suite.userinfo(second.tokens["access_token"]).status_code == 200
    if "auth_time" in second.id_claims:
        assert second.id_claims["auth_time"] == first.id_claims.get("auth_time"), "auth_time differs (OIDC Core 2)"
    assert second.id_claims["sub"] == first.id_claims["sub"], "sub differs between the two ID tokens"
    return first, second


@oidf("OIDCCPromptNoneLoggedIn", "oidcc-prompt-none-logged-in")
def test_oidcc_prompt_none_logged_in(suite, agent, module):
    """OIDCCPromptNoneLoggedIn (OP-prompt-none-LoggedIn): logged in, prompt=none returns a
    code at once (OIDC Core 3.1.2.1), same sub and auth_time."""
    _same_auth_twice(suite, agent, suite.authorization_request(), suite.authorization_request(prompt="none"))


@oidf("OIDCCMaxAge1", "oidcc-max-age-1")
def test_oidcc_max_age_1(suite, agent, module):
    """OIDCCMaxAge1 (OP-Req-max_age=1): two seconds after the first login, max_age=1 must make
    the user log in again (ExpectSecondLoginPage) and auth_time must be present
    (CheckIdTokenAuthTimeClaimPresentDueToMaxAge, OIDC Core 3.1.2.1), later than the first and
    recent (OIDC Core 2)."""
    first = happy_flow(suite, agent, suite.authorization_request())
    time.sleep(2)  # WaitFor2Seconds
    second = suite.authorize(agent, suite.authorization_request(max_age="1"))
    assert second.arrival.logins == 1, "max_age=1 did not make the user log in again (OIDC Core 3.1.2.1)"
    suite.check_callback(second)
    suite.redeem(second)
    assert "auth_time" in second.id_claims, "no auth_time though max_age was asked (OIDC Core 3.1.2.1, 2)"
    if "auth_time" in first.id_claims:
        assert second.id_claims["auth_time"] > first.id_claims["auth_time"], "auth_time did not move"
    assert second.id_claims["auth_time"] >= time.time() - 300 - 1, "auth_time is not recent"


@oidf("OIDCCMaxAge10000", "oidcc-max-age-10000")
def test_oidcc_max_age_10000(suite, agent, module):
    """OIDCCMaxAge10000 (OP-Req-max_age=10000): max_age=15000 then max_age=10000: auth_time in
    both (OIDC Core 3.1.2.1, 15.1), equal, no second login, same sub."""
    first, second = _same_auth_twice(
        suite, agent, suite.authorization_request(max_age="15000"), suite.authorization_request(max_age="10000")
    )
    assert "auth_time" in first.id_claims, "no auth_time though max_age was asked (OIDC Core 3.1.2.1)"
    assert "auth_time" in second.id_claims, "no auth_time though max_age was asked (OIDC Core 3.1.2.1)"


@oidf("OIDCCEnsureRequestWithUnknownParameterSucceeds", "oidcc-ensure-request-with-unknown-parameter-succeeds")
def test_oidcc_ensure_request_with_unknown_parameter_succeeds(suite, agent, module):
    """OIDCCEnsureRequestWithUnknownParameterSucceeds (OP-Req-NotUnderstood): extra=foobar is
    ignored (RFC 6749 3.1)."""
    happy_flow(suite, agent, suite.authorization_request(extra="foobar"))


@oidf("OIDCCIdTokenHint", "oidcc-id-token-hint")
def test_oidcc_id_token_hint(suite, agent, module):
    """OIDCCIdTokenHint (OP-Req-id_token_hint): prompt=none with the first ID token as
    id_token_hint returns at once (OIDC Core 3.1.2.1, 3.1.2.2)."""
    _same_auth_twice(
        suite,
        agent,
        suite.authorization_request(),
        lambda first: suite.authorization_request(prompt="none", id_token_hint=first.id_token),
    )


@oidf("OIDCCLoginHint", "oidcc-login-hint")
def test_oidcc_login_hint(suite, agent, module):
    """OIDCCLoginHint (OP-Req-login_hint): login_hint=buffy@<issuer host> must not cause an
    error (OIDC Core 3.1.2.1)."""
    host = suite.config["issuer"].split("//")[1].split(":")[0]
    happy_flow(suite, agent, suite.authorization_request(login_hint=f"buffy@{host}"))


@oidf("OIDCCUiLocales", "oidcc-ui-locales")
def test_oidcc_ui_locales(suite, agent, module):
    """OIDCCUiLocales (OP-Req-ui_locales): ui_locales=se must not cause an error (OIDC Core
    3.1.2.1)."""
    happy_flow(suite, agent, suite.authorization_request(ui_locales="se"))


@oidf("OIDCCClaimsLocales", "oidcc-claims-locales")
def test_oidcc_claims_locales(suite, agent, module):
    """OIDCCClaimsLocales (OP-Req-claims_locales): claims_locales=se must not cause an error
    (OIDC Core 5.2, 15.1)."""
    happy_flow(suite, agent, suite.authorization_request(claims_locales="se"))


@oidf("OIDCCEnsureRequestWithAcrValuesSucceeds", "oidcc-ensure-request-with-acr-values-succeeds")
def test_oidcc_ensure_request_with_acr_values_succeeds(suite, agent, module):
    """OIDCCEnsureRequestWithAcrValuesSucceeds (OP-Req-acr_values): acr_values = every value of
    acr_values_supported (or "1 2"); must succeed (OIDC Core 3.1.2.1, 15.1); an acr among them
    SHOULD come back (ValidateIdTokenACRClaimAgainstAcrValuesRequest, WARNING)."""
    values = suite.config.get("acr_values_supported") or ["1", "2"]
    flow = happy_flow(suite, agent, suite.authorization_request(acr_values=" ".join(values)))
    if flow.id_claims.get("acr") not in values:
        module.warn(f"acr {flow.id_claims.get('acr')!r} is not one of the requested {values} (OIDC Core 3.1.2.1)")


# --- the authorization code -------------------------------------------------------------------


def _code_reuse(suite, agent):
    """AbstractOIDCCAuthCodeReuse: the happy flow, then the same token request again."""
    flow = happy_flow(suite, agent, suite.authorization_request())
    form = {"grant_type": "authorization_code", "code": flow.callback["code"]}
    form["redirect_uri"] = flow.request["redirect_uri"]
    return flow, form


def _check_reuse_refused(response):
    """AbstractOIDCCAuthCodeReuse.checkResponse: 400, JSON, invalid_grant (OIDC Core 3.1.3.4,
    RFC 6749 5.2), a registered error, error_description and error_uri well formed."""
    assert response.status_code == 400, f"code reuse answered {response.status_code} (OIDC Core 3.1.3.4)"
    assert response.headers.get("Content-Type", "").startswith("application/json"), "not JSON (OIDC Core 3.1.3.4)"
    body = response.json()
    assert body.get("error") == "invalid_grant", f"error {body.get('error')!r} (RFC 6749 5.2)"
    description = body.get("error_description", "")
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in description), "error_description (RFC 6749 5.2)"


@oidf("OIDCCAuthCodeReuse", "oidcc-codereuse")
def test_oidcc_codereuse(suite, agent, module):
    """OIDCCAuthCodeReuse (OP-OAuth-2nd): a code used twice at once: invalid_grant (RFC 6749
    4.1.2, 5.2); a 200 is a WARNING (ServerAllowedReusingAuthorizationCode)."""
    _, form = _code_reuse(suite, agent)
    response = suite.token_request(form)
    if response.status_code == 200:
        module.warn("the server allowed reusing the authorization code")
    else:
        _check_reuse_refused(response)


@oidf("OIDCCAuthCodeReuseAfter30Seconds", "oidcc-codereuse-30seconds")
def test_oidcc_codereuse_30seconds(codereuse_30seconds, module):
    """OIDCCAuthCodeReuseAfter30Seconds (OP-OAuth-2nd-30s, OP-OAuth-2nd-Revokes): the code
    again 30 seconds later: invalid_grant (RFC 6749 4.1.2, 5.2); the first access token SHOULD
    then be revoked (RFC 6749 4.1.2; a 4xx from the protected resource, else a WARNING).
    Its steps (`_codereuse_30seconds`) start with the plan, so the wait overlaps other modules."""
    codereuse_30seconds.join(timeout=90)
    assert not codereuse_30seconds.is_alive(), "the module did not finish"
    module.warnings.extend(codereuse_30seconds.record.warnings)
    if codereuse_30seconds.error is not None:
        raise codereuse_30seconds.error


def _codereuse_30seconds(suite, agent, module):
    flow, form = _code_reuse(suite, agent)
    time.sleep(30)  # WaitFor30Seconds
    _check_reuse_refused(suite.token_request(form))
    response = suite.userinfo(flow.tokens["access_token"])
    if not 400 <= response.status_code < 500:
        module.warn(f"the first access token still works after the code's reuse ({response.status_code})")


class BackgroundModule(threading.Thread):
    """A module run in a thread of its own, its assertion error (if any) kept for the test."""

    def __init__(self, op, steps):
        super().__init__(daemon=True)
        self.op, self.steps, self.record, self.error = op, steps, Module(), None

    def run(self):
        agent = UserAgent(self.op)
        try:
            self.steps(Suite(self.op, self.record, self.op.clients["basic"]).configure(), agent, self.record)
        except BaseException as exc:  # noqa: BLE001 (re-raised in the test)
            self.error = exc
        finally:
            agent.close()


@pytest.fixture(scope="module", autouse=True)
def codereuse_30seconds(request, op):
    """oidcc-codereuse-30seconds, started with this plan when it was selected."""
    selected = any(item.name == "test_oidcc_codereuse_30seconds" for item in request.session.items)
    runner = BackgroundModule(op, _codereuse_30seconds)
    if selected:
        runner.start()
    yield runner
    if selected:
        runner.join(timeout=60)


@oidf("OIDCCEnsureRegisteredRedirectUri", "oidcc-ensure-registered-redirect-uri")
def test_oidcc_ensure_registered_redirect_uri(suite, agent, module):
    """OIDCCEnsureRegisteredRedirectUri (OP-redirect_uri-NotReg): redirect_uri = base URL +
    /callback/<random> (CreateBadRedirectUriByAppending): the OP must show an error page and
    redirect nowhere, neither to it nor to the registered one (OIDC Core 3.1.2.1, RFC 6749
    3.1.2.4)."""
    bad = f"{suite.client.redirect_uri.rsplit('/', 1)[0]}/callback/{random_alnum(10)}"
    flow = suite.authorize(agent, suite.authorization_request(redirect_uri=bad))
    assert not flow.arrival.redirected, f"the OP redirected to {flow.arrival.url}"
    assert flow.arrival.response.status_code >= 400, "no error page for an unregistered redirect_uri"


@oidf("OIDCCEnsurePostRequestSucceeds", "oidcc-ensure-post-request-succeeds")
def test_oidcc_ensure_post_request_succeeds(suite, agent, module):
    """OIDCCEnsurePostRequestSucceeds: the authorization request as a form POST (OIDC Core
    3.1.2.1: the endpoint MUST support GET and POST); the redirect_uri must be called."""
    happy_flow(suite, agent, suite.authorization_request(), method="POST")


@oidf("OIDCCServerTestClientSecretPost", "oidcc-server-client-secret-post")
def test_oidcc_server_client_secret_post(op, agent, module):
    """OIDCCServerTestClientSecretPost (OP-ClientAuth-SecretPost-Static): the happy flow with
    client_secret_post (OIDC Core 9), its own static client (the plan's client_secret_post
    client); discovery must list the method (EnsureServerConfigurationSupportsClientSecretPost)."""
    suite = Suite(op, module, op.clients["post"]).configure(auth="post")
    assert "client_secret_post" in suite.config["token_endpoint_auth_methods_supported"]
    happy_flow(suite, agent, suite.authorization_request(), auth="post")


# --- request objects, claims, refresh, PKCE ---------------------------------------------------


@oidf(
    "OIDCCRequestUriUnsignedSupportedCorrectlyOrRejectedAsUnsupported",
    "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported",
)
def test_oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported(suite, agent, module):
    """OIDCCRequestUriUnsignedSupportedCorrectlyOrRejectedAsUnsupported (OP-request_uri-
    Unsigned): not applicable to a static client (the request_uri must be registered). Sent
    anyway, the answer must be request_uri_not_supported (OIDC Core 6.2, 3.1.2.6)."""
    request = suite.authorization_request()
    outer = {k: request[k] for k in ("client_id", "redirect_uri", "response_type", "scope")}
    outer["request_uri"] = f"https://127.0.0.1:8443/test/a/identity/requests/{random_alnum(10)}#frag"
    flow = suite.authorize(agent, outer)
    assert flow.arrival.redirected and flow.callback.get("error") == "request_uri_not_supported", flow.arrival.url
    assert not suite.config.get("request_uri_parameter_supported", True)
    module.not_applicable(
        STATIC_CLIENT_NA + " request_uri_parameter_supported is false and request_uri is answered "
        "request_uri_not_supported (OIDC Core 6.2, 3.1.2.6)."
    )


def _unsigned_request_object(claims):
    """SerializeRequestObjectWithNullAlgorithm: {"alg":"none"}, no signature."""
    return f"{b64url_json_segment({'alg': 'none'})}.{b64url_json_segment(claims)}."


def _request_object_url(suite, request, **outer_overrides):
    """BuildRequestObjectByValueRedirectToAuthorizationEndpoint: request=<JWT>, plus the
    REQUIRED_DUPLICATES (client_id, redirect_uri, response_type, scope) outside, sorted."""
    outer = {k: request[k] for k in ("client_id", "redirect_uri", "response_type", "scope")}
    outer.update(outer_overrides)
    outer["request"] = _unsigned_request_object(request)
    return dict(sorted(outer.items()))


@oidf(
    "OIDCCUnsignedRequestObjectSupportedCorrectlyOrRejectedAsUnsupported",
    "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported",
)
def test_oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(suite, agent, module):
    """OIDCCUnsignedRequestObjectSupportedCorrectlyOrRejectedAsUnsupported (OP-request-
    Unsigned): an unsigned request object by value must be processed, or answered with
    request_not_supported (OIDC Core 6.1, 3.1.2.6), in which case the suite skips the module."""
    request = suite.authorization_request()
    flow = suite.authorize(agent, _request_object_url(suite, request))
    assert flow.arrival.redirected, f"no redirect: {flow.arrival.url}"
    if flow.callback.get("error") == "request_not_supported":
        assert not suite.config.get("request_parameter_supported", False), "discovery says request is supported"
        module.not_applicable(
            "request_not_supported: request objects are not supported, which OIDC Core 6.1 and 3.1.2.6 permit "
            "(request_parameter_supported false); the suite skips the module (fireTestSkipped)."
        )
        return
    suite.check_callback(flow)


@oidf("OIDCCClaimsEssential", "oidcc-claims-essential")
def test_oidcc_claims_essential(suite, agent, module):
    """OIDCCClaimsEssential (OP-claims-essential): claims={"userinfo":{"name":{"essential":
    true}}}: a successful result; name in UserInfo (WARNING), not in the ID token (WARNING)
    (OIDC Core 5.5, 5.5.1)."""
    import json

    claims = json.dumps({"userinfo": {"name": {"essential": True}}})
    flow = happy_flow(suite, agent, suite.authorization_request(claims=claims))
    info = suite.check_userinfo(flow, suite.userinfo(flow.tokens["access_token"]))
    if "name" not in info:
        module.warn("UserInfo has no name though it was requested as essential (OIDC Core 5.5.1)")
    name_in_id_token(suite, flow)


@oidf("OIDCCEnsureRequestObjectWithRedirectUri", "oidcc-ensure-request-object-with-redirect-uri")
def test_oidcc_ensure_request_object_with_redirect_uri(suite, agent, module):
    """OIDCCEnsureRequestObjectWithRedirectUri: the registered redirect_uri inside the request
    object, an invalid one outside (AddInvalidRedirectUriToAuthorizationRequest). The OP must use
    the object's (OIDC Core 6.1) or show an invalid redirect_uri error page (RFC 6749 3.1.2);
    request_not_supported sent to the registered URI is a FAILURE (EnsureOPDoesNotUseDefault-
    RedirectUriInCaseOfInvalidRedirectUri)."""
    request = suite.authorization_request()
    invalid = f"{suite.client.redirect_uri}_invalid"  # UriComponentsBuilder.path("_invalid")
    flow = suite.authorize(agent, _request_object_url(suite, request, redirect_uri=invalid))
    if not flow.arrival.redirected:
        assert flow.arrival.response.status_code >= 400, "neither processed nor an error page"
        return
    assert flow.callback.get("error") != "request_not_supported", (
        "request_not_supported sent to the registered redirect_uri though the request's was invalid"
    )
    suite.check_callback(flow)


@oidf("OIDCCRefreshToken", "oidcc-refresh-token")
def test_oidcc_refresh_token(op, suite, agent, module):
    """OIDCCRefreshToken (AbstractOIDCCMultipleClient): a refresh token from each of two
    clients; the refresh works (RFC 6749 6, 5.1: 200, JSON, no-store, Bearer), the new ID
    token keeps iss, sub, aud, auth_time, azp and has a new iat (OIDC Core 12.2,
    CompareIdTokenClaims); client 2's refresh token is refused to client 1 (invalid_grant,
    RFC 6749 6, 10.4)."""
    scope = "openid offline_access" if "offline_access" in suite.config.get("scopes_supported", []) else "openid"
    prompt = "consent" if "offline_access" in scope else None
    first = _refresh_once(suite, agent, module, scope, prompt)
    second_suite = Suite(op, module, op.clients["second"]).configure()
    second = _refresh_once(second_suite, agent, module, scope, prompt, nonce_length=43)
    response = suite.token_request({"grant_type": "refresh_token", "refresh_token": second, "scope": scope})
    assert response.status_code == 400, f"client 2's refresh token with client 1: {response.status_code}"
    assert response.json().get("error") == "invalid_grant", response.text
    assert first


def _refresh_once(suite, agent, module, scope, prompt, nonce_length=10):
    request = suite.authorization_request(scope=scope, prompt=prompt)
    request["nonce"] = random_alnum(nonce_length)
    flow = happy_flow(suite, agent, request, userinfo=False)
    refresh = flow.tokens.get("refresh_token")
    if not refresh:
        module.not_applicable("no refresh token issued (the suite skips the module)")
        return None
    assert "refresh_token" in suite.config["grant_types_supported"], "refresh tokens not in discovery (WARNING)"
    assert all(0x20 <= ord(c) <= 0x7E for c in refresh), "refresh token characters (RFC 6749 A.17)"
    time.sleep(1)  # WaitForOneSecond
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    if suite.client is suite.op.clients["basic"]:
        form["scope"] = scope  # AddScopeToTokenEndpointRequest, first client only
    response = suite.token_request(form)
    assert response.status_code == 200, f"refresh {response.status_code}: {response.text[:300]} (RFC 6749 5.1)"
    assert response.headers.get("Content-Type", "").startswith("application/json"), "not JSON (RFC 6749 5.1)"
    assert "no-store" in response.headers.get("Cache-Control", ""), "no Cache-Control: no-store (RFC 6749 5.1)"
    tokens = response.json()
    assert tokens.get("token_type", "").lower() == "bearer", "token_type is not Bearer"
    assert all(0x20 <= ord(c) <= 0x7E for c in tokens["access_token"]), "access token characters (RFC 6749 A.12)"
    if "expires_in" not in tokens:
        module.warn("no expires_in in the refresh response (RFC 6749 5.1)")
    if tokens.get("refresh_token"):
        assert len(tokens["refresh_token"]) >= 22, "refresh token shorter than 128 bits (RFC 6749 10.10)"
    if tokens.get("id_token"):
        _, claims = unverified(tokens["id_token"])
        old = flow.id_claims
        for name in ("iss", "sub", "aud"):
            assert claims.get(name) == old.get(name), f"{name} differs in the refreshed ID token (OIDC Core 12.2)"
        assert claims.get("iat") != old.get("iat"), "the refreshed ID token has the old iat (OIDC Core 12.2)"
        if "auth_time" in claims:
            assert claims["auth_time"] == old.get("auth_time"), "auth_time changed on refresh (OIDC Core 12.2)"
        assert claims.get("azp") == old.get("azp"), "azp differs in the refreshed ID token (OIDC Core 12.2)"
    response = suite.userinfo(tokens["access_token"])
    assert response.status_code == 200, "the refreshed access token does not work"
    return tokens.get("refresh_token") or refresh


@oidf("OIDCCEnsureRequestWithValidPkceSucceeds", "oidcc-ensure-request-with-valid-pkce-succeeds")
def test_oidcc_ensure_request_with_valid_pkce_succeeds(suite, agent, module):
    """OIDCCEnsureRequestWithValidPkceSucceeds: S256 PKCE (SetupPkceAndAddToAuthorization-
    Request, AddCodeVerifierToTokenEndpointRequest) must succeed (RFC 7636 4.3, 4.5; RFC 6749
    3.1)."""
    import base64
    import hashlib

    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    request = suite.authorization_request(code_challenge=challenge, code_challenge_method="S256")
    happy_flow(suite, agent, request, code_verifier=verifier)


# --- a certified relying party -----------------------------------------------------------------

NODE_RUNNER = Path(__file__).parent / "node" / "login.mjs"


@pytest.mark.oidf("relying party: openid-client (npm)", "node/login.mjs", "openid-client-login")
def test_openid_client_login(op, agent, module):
    """Not an OIDF module: one full login driven by openid-client, an OpenID-certified RP
    library no one here wrote (node/login.mjs): discovery, the code flow with client_secret_basic,
    state and nonce checked by the library (OIDC Core 3.1.3.7), UserInfo (5.3), a refresh (12),
    and its end-session URL honoured (RP-Initiated Logout 1.0 2, 3). The test is the browser."""
    if not (NODE_RUNNER.parent / "node_modules" / "openid-client").is_dir():
        pytest.fail("openid-client is not installed: make conformance runs npm ci in tests/conformance/node")
    client = op.clients["basic"]
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": op.ca}
    args = [op.issuer, client.client_id, client.client_secret, client.redirect_uri, client.post_logout_redirect_uri]
    with subprocess.Popen(
        ["node", str(NODE_RUNNER), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    ) as runner:
        first = json.loads(runner.stdout.readline() or '{"error": "the runner printed nothing"}')
        assert "authorization_url" in first, first
        arrival = agent.visit(first["authorization_url"])
        assert arrival.at(client.redirect_uri), f"no redirect to the client: {arrival.url}"
        runner.stdin.write(json.dumps({"callback_url": arrival.url}) + "\n")
        runner.stdin.flush()
        result = json.loads(runner.stdout.readline() or '{"error": "the runner printed nothing"}')
        runner.wait(timeout=30)
    assert "error" not in result, f"openid-client: {result}"
    assert result["userinfo"]["sub"] == result["claims"]["sub"]
    assert result["userinfo"].get("email") == "buffy@example.com"
    assert result["refreshed"]["token_type"].lower() == "bearer"
    logout = agent.visit(result["end_session_url"])
    assert logout.at(client.post_logout_redirect_uri), f"end session did not return to the client: {logout.url}"
    assert logout.params.get("state") == result["state"]
