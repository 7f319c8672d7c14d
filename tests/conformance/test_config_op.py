"""OIDF plan OIDCCConfigTestPlan ("Config OP"): OIDCCDiscoveryEndpointVerification, the one
module of the plan (server metadata = discovery, static client)."""

import re
from urllib.parse import urlsplit

import pytest
import requests
from rp import TIMEOUT

# The metadata names OpenID Connect Discovery 1.0 (3), RFC 8414 (2), RFC 9207 (3), Front- and
# Back-Channel Logout 1.0, RP-Initiated Logout 1.0 and Session Management 1.0 register
# (CheckForUnexpectedParametersInServerMetadata warns of any other).
KNOWN_METADATA = set(
    """issuer authorization_endpoint token_endpoint userinfo_endpoint jwks_uri registration_endpoint
    scopes_supported response_types_supported response_modes_supported grant_types_supported
    acr_values_supported subject_types_supported id_token_signing_alg_values_supported
    id_token_encryption_alg_values_supported id_token_encryption_enc_values_supported
    userinfo_signing_alg_values_supported userinfo_encryption_alg_values_supported
    userinfo_encryption_enc_values_supported request_object_signing_alg_values_supported
    request_object_encryption_alg_values_supported request_object_encryption_enc_values_supported
    token_endpoint_auth_methods_supported token_endpoint_auth_signing_alg_values_supported
    display_values_supported claim_types_supported claims_supported service_documentation
    claims_locales_supported ui_locales_supported claims_parameter_supported request_parameter_supported
    request_uri_parameter_supported require_request_uri_registration op_policy_uri op_tos_uri
    revocation_endpoint revocation_endpoint_auth_methods_supported revocation_endpoint_auth_signing_alg_values_supported
    introspection_endpoint introspection_endpoint_auth_methods_supported
    introspection_endpoint_auth_signing_alg_values_supported code_challenge_methods_supported
    authorization_response_iss_parameter_supported end_session_endpoint check_session_iframe
    frontchannel_logout_supported frontchannel_logout_session_supported backchannel_logout_supported
    backchannel_logout_session_supported prompt_values_supported""".split()
)
BOOLEANS = {name for name in KNOWN_METADATA if name.endswith(("_parameter_supported", "logout_supported"))}
BOOLEANS |= {"require_request_uri_registration", "frontchannel_logout_session_supported"}
BOOLEANS |= {"backchannel_logout_session_supported"}
OIDC_RESPONSE_TYPES = {"code", "code id_token", "id_token", "token id_token", "code id_token token", "code token"}
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")  # RFC 6749 3.3
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")  # BCP 47, as the suite checks it


def https_url(value):
    parts = urlsplit(value) if isinstance(value, str) else None
    return bool(parts and parts.scheme == "https" and parts.netloc and not parts.fragment)


@pytest.mark.oidf("Config OP", "OIDCCDiscoveryEndpointVerification", "oidcc-discovery-endpoint-verification")
def test_oidcc_discovery_endpoint_verification(op, suite, module):
    """OIDCCDiscoveryEndpointVerification (OP-Discovery-Config and the checks the plan folds
    in): 200 JSON (OIDC Discovery 4), response/subject types and RS256 (Discovery 3, Core 3),
    issuer equal to the URL it was fetched from minus /.well-known/openid-configuration
    (Discovery 4.3, 7.2), every *_endpoint https (VerifyOPEndpointsUseHTTPS), jwks_uri and a
    valid JWKS (Discovery 3, RFC 7517), scopes with openid and in RFC 6749 3.3 syntax, locales
    (RFC 8414 2), code_challenge_methods_supported an array (RFC 8414 2, RFC 7636 4.3); claims_
    supported and unexpected members are WARNINGs."""
    url = f"{op.issuer}/.well-known/openid-configuration"
    response = requests.get(url, timeout=TIMEOUT, verify=op.ca)
    assert response.status_code == 200, "discovery is not 200 (OIDC Discovery 4)"
    assert response.headers["Content-Type"].split(";")[0] == "application/json", "not JSON (Discovery 4.2)"
    meta = response.json()
    # OIDCCCheckDiscEndpointResponseTypesSupported (static client): one OIDC response type
    assert OIDC_RESPONSE_TYPES & set(meta["response_types_supported"]), "no OpenID Connect response type"
    # CheckDiscEndpointDiscoveryUrl, CheckDiscEndpointIssuer, CheckDiscEndpointIssuerIsValidUrl
    assert url.endswith("/.well-known/openid-configuration")
    assert meta["issuer"] + "/.well-known/openid-configuration" == url, "issuer mismatch (Discovery 4.3)"
    issuer = urlsplit(meta["issuer"])
    assert issuer.scheme == "https" and not issuer.query and not issuer.fragment, "issuer (RFC 8414 2)"
    # ValidateServerMetadataAgainstSchema: the value types RFC 8414 2 and Discovery 3 give
    for name, value in meta.items():
        if name in BOOLEANS:
            assert isinstance(value, bool), f"{name} is not a boolean"
        elif name.endswith("_supported"):
            assert isinstance(value, list) and all(isinstance(v, str) for v in value), f"{name} is not a string array"
        elif name.endswith(("_endpoint", "_uri")) or name == "issuer":
            assert isinstance(value, str), f"{name} is not a string"
    if unexpected := sorted(set(meta) - KNOWN_METADATA):
        module.warn(f"metadata members no spec the suite knows registers: {unexpected}")
    # CheckDiscEndpointSubjectTypesSupported, OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported
    assert set(meta["subject_types_supported"]) <= {"public", "pairwise"} and meta["subject_types_supported"]
    assert "RS256" in meta["id_token_signing_alg_values_supported"], "RS256 missing (Discovery 3)"
    # CheckDiscEndpointAuthorizationEndpoint / TokenEndpoint / UserinfoEndpoint (WARNING if absent)
    for name in ("authorization_endpoint", "token_endpoint"):
        assert https_url(meta.get(name)), f"{name} is not an https URL"
    if "userinfo_endpoint" not in meta:
        module.warn("no userinfo_endpoint (RECOMMENDED, Discovery 3)")
    if "registration_endpoint" in meta:
        assert https_url(meta["registration_endpoint"])
    # CheckJwksUri, FetchServerKeys, ValidateJwksSequence
    assert https_url(meta.get("jwks_uri")), "jwks_uri is not an https URL"
    jwks = requests.get(meta["jwks_uri"], timeout=TIMEOUT, verify=op.ca).json()
    assert jwks["keys"], "empty JWKS"
    for key in jwks["keys"]:
        assert key.get("kty") == "RSA" and key.get("n") and key.get("e"), "an RSA key without n/e (RFC 7518 6.3)"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key), "a private member in the JWKS (RFC 7517)"
        assert key.get("use", "sig") == "sig"
    assert len({k.get("kid") for k in jwks["keys"]}) == len(jwks["keys"]), "kid not distinct (RFC 7517 4.5)"
    # request_object_signing_alg_values_supported, if present, should include RS256 (WARNING)
    if "request_object_signing_alg_values_supported" in meta:
        if "RS256" not in meta["request_object_signing_alg_values_supported"]:
            module.warn("request_object_signing_alg_values_supported lacks RS256")
    # OIDCCCheckDiscEndpointClaimsSupported (WARNING)
    if not meta.get("claims_supported"):
        module.warn("no claims_supported (RECOMMENDED, Discovery 3)")
    # OIDCCCheckDiscEndpointGrantTypesSupported (static client): a non-empty array if present
    assert "grant_types_supported" not in meta or meta["grant_types_supported"], "empty grant_types_supported"
    # CheckDiscEndpointScopesSupportedContainsOpenId (WARNING if absent), ...Syntax
    if "scopes_supported" not in meta:
        module.warn("no scopes_supported (RECOMMENDED, Discovery 3)")
    else:
        assert "openid" in meta["scopes_supported"], "scopes_supported lacks openid (Discovery 3)"
        assert all(SCOPE_TOKEN.match(s) for s in meta["scopes_supported"]), "a scope outside RFC 6749 3.3"
    # CheckDiscEndpointLocalesSyntax / ...CanonicalCasing
    for name in ("ui_locales_supported", "claims_locales_supported"):
        for tag in meta.get(name, []):
            assert LANGUAGE_TAG.match(tag), f"{name}: {tag!r} is not a language tag"
    # CheckDiscEndpointAllEndpointsAreHttps
    for name, value in meta.items():
        if name.endswith("_endpoint"):
            assert https_url(value), f"{name} is not https"
    # EnsureServerConfigurationCodeChallengeMethodsSupportedIsAnArray
    if "code_challenge_methods_supported" in meta:
        assert isinstance(meta["code_challenge_methods_supported"], list)
