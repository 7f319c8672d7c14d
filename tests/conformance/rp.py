"""The relying party and the user agent, as the OIDF suite plays them.

`Suite` builds requests as the suite's conditions do (CreateAuthorizationEndpointRequest-
FromClientInformation, CreateRandomStateValue, CreateRandomNonceValue, BuildPlainRedirectTo-
AuthorizationEndpoint, CreateTokenEndpointRequestForAuthorizationCodeGrant, AddBasicAuthClient-
SecretToRequest, CallUserInfoEndpoint, ...) and checks what PerformStandardIdTokenChecks checks.
`UserAgent` is the tester's browser: it logs in and allows the consent page when asked, and
stops at the first redirect that leaves the provider.
"""

import base64
import hashlib
import json
import math
import secrets
import string
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

import requests
from jwcrypto import jwk, jws
from op import PASSWORD, USERNAME

TIMEOUT = 15
ALNUM = string.ascii_letters + string.digits


def random_alnum(length):
    return "".join(secrets.choice(ALNUM) for _ in range(length))


def suite_state(length=10):
    """CreateRandomStateValue: alphanumeric, or past 10 characters alphanumeric + "-._~"."""
    return random_alnum(length - 4) + "-._~" if length > 10 else random_alnum(length)


def end_session_state():
    """CreateRandomEndSessionState: RFC6749AppendixASyntaxUtils.generateVSChar(50, 10, 30) (50
    letters, 10 digits, 30 punctuation characters of VSCHAR), with '+', ' ' and ';' made '~'."""
    punctuation = "".join(
        chr(c) for a, b in ((0x20, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)) for c in range(a, b + 1)
    )
    value = "".join(secrets.choice(string.ascii_letters) for _ in range(50))
    value += "".join(secrets.choice(string.digits) for _ in range(10))
    value += "".join(secrets.choice(punctuation) for _ in range(30))
    return value.replace("+", "~").replace(" ", "~").replace(";", "~")


def b64url_json(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def unverified(token):
    """(header, claims) of a compact JWS, unverified."""
    header, payload, _ = token.split(".")
    return b64url_json(header), b64url_json(payload)


def query_params(url):
    """One value per parameter (the suite reads the first; we insist there is one)."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in parsed.values()), f"a repeated parameter in {url}"
    return {k: v[0] for k, v in parsed.items()}


def shannon_bits(value):
    """AbstractEnsureMinimumEntropy: Shannon entropy per character times the length."""
    counts = Counter(value)
    per_char = -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())
    return per_char * len(value)


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self._current = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {"attrs": attrs, "inputs": {}}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and attrs.get("name"):
            if attrs.get("type") not in ("submit", "button", "checkbox", "radio"):
                self._current["inputs"][attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def forms_of(html):
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@dataclass
class Arrival:
    """Where the user agent ended: a redirect out of the provider, or a page it stopped at."""

    url: str  # the redirect's Location, or the page's URL
    redirected: bool
    response: requests.Response
    logins: int = 0  # login pages answered on the way
    consents: int = 0

    @property
    def params(self):
        return query_params(self.url)

    def at(self, prefix):
        return self.redirected and self.url.split("?")[0] == prefix


class UserAgent:
    """A browser with its own cookie jar (each module starts with no cookies, as the suite asks)."""

    def __init__(self, op):
        self.op = op
        self.http = requests.Session()
        self.http.verify = op.ca

    def close(self):
        self.http.close()

    def visit(self, url, *, method="GET", data=None, allow_consent=True, referer=None, max_steps=12):
        """Go to `url` and act as the tester: log in, allow consent, confirm nothing else.
        A POST carries Origin and Referer as a browser sends them (Django checks them on https):
        the page it came from, or `referer` (the relying party's page) for the first request."""
        arrival = Arrival(url, False, None)
        for _ in range(max_steps):
            headers = {}
            if method == "POST":
                page = referer or arrival.url
                headers = {"Referer": page, "Origin": "/".join(page.split("/")[:3])}
            referer = None
            response = self.http.request(
                method, url, data=data, headers=headers, allow_redirects=False, timeout=TIMEOUT, verify=self.op.ca
            )  # verify per request: REQUESTS_CA_BUNDLE would override the session's
            arrival.response = response
            if response.is_redirect:
                location = urljoin(url, response.headers["Location"])
                if not location.startswith(self.op.issuer + "/"):
                    arrival.url, arrival.redirected = location, True
                    return arrival
                url, method, data = location, "GET", None
                continue
            arrival.url = url
            page_forms = forms_of(response.text) if "html" in response.headers.get("Content-Type", "") else []
            login = next((f for f in page_forms if "password" in f["inputs"] and "username" in f["inputs"]), None)
            consent = next((f for f in page_forms if f["attrs"].get("id") == "authorizationForm"), None)
            if login is not None:
                fields = dict(login["inputs"])
                fields.update(username=USERNAME, password=PASSWORD)
                url, method, data = urljoin(url, login["attrs"].get("action") or url), "POST", fields
                arrival.logins += 1
                continue
            if consent is not None and allow_consent:
                fields = dict(consent["inputs"], allow="Authorize")
                url, method, data = urljoin(url, consent["attrs"].get("action") or url), "POST", fields
                arrival.consents += 1
                continue
            return arrival
        raise AssertionError(f"the user agent went round in circles; last page {url}")

    def submit(self, arrival, form_id):
        """Press the button of form `form_id` on the page the user agent stopped at."""
        form = next(f for f in forms_of(arrival.response.text) if f["attrs"].get("id") == form_id)
        target = urljoin(arrival.url, form["attrs"].get("action") or arrival.url)
        return self.visit(target, method="POST", data=dict(form["inputs"]))


@dataclass
class Flow:
    """One authorization as AbstractOIDCCServerTest runs it, with what came back."""

    request: dict
    arrival: Arrival = None
    callback: dict = field(default_factory=dict)
    token_response: requests.Response = None
    tokens: dict = field(default_factory=dict)
    id_token: str = ""
    id_header: dict = field(default_factory=dict)
    id_claims: dict = field(default_factory=dict)


class Suite:
    """The OIDF suite's side of one module: its client, its requests, its checks."""

    def __init__(self, op, module, client):
        self.op, self.module, self.client = op, module, client
        self.config = self.discovery().json()
        self.jwks = requests.get(self.config["jwks_uri"], timeout=TIMEOUT, verify=op.ca).json()

    def configure(self, *, auth="basic"):
        """AbstractOIDCCServerTest.configure, run by every module of the Basic and logout plans:
        CheckServerConfiguration, FetchServerKeys, ValidateJwksSequence (RFC 7517 1.1),
        CheckForKeyIdInServerJWKs (OIDC Core 10.1), CheckDistinctKeyIdValueInServerJWKs (RFC 7517
        4.5), EnsureServerConfigurationSupportsClientSecretBasic / ...Post."""
        for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            assert self.config.get(name), f"discovery has no {name}"
        keys = self.jwks.get("keys")
        assert isinstance(keys, list) and keys, "the JWKS has no keys (RFC 7517 5)"
        for key in keys:
            assert key.get("kty") and key.get("kid"), "a server JWK without kty or kid (RFC 7517 4, OIDC Core 10.1)"
            assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(key), "a private member in the JWKS"
        assert len({k["kid"] for k in keys}) == len(keys), "kid values are not distinct (RFC 7517 4.5)"
        method = "client_secret_basic" if auth == "basic" else "client_secret_post"
        # an absent list means client_secret_basic only (OIDC Discovery 3)
        supported = self.config.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
        assert method in supported, f"{method} not in token_endpoint_auth_methods_supported"
        return self

    def discovery(self):
        return requests.get(
            f"{self.op.issuer}/.well-known/openid-configuration", timeout=TIMEOUT, verify=self.op.ca
        )  # fmt: skip

    # --- the authorization request -------------------------------------------------------

    def authorization_request(self, *, scope="openid", nonce=True, state_length=10, redirect_uri=None, **extra):
        """CreateAuthorizationRequestSteps, in the suite's order: client_id, redirect_uri,
        scope, state, nonce, response_type, then each module's additions."""
        request = {"client_id": self.client.client_id, "redirect_uri": redirect_uri or self.client.redirect_uri}
        request["scope"] = scope
        request["state"] = suite_state(state_length)
        if nonce:
            request["nonce"] = random_alnum(10)
        request["response_type"] = "code"
        request.update({k: v for k, v in extra.items() if v is not None})
        return request

    def authorization_url(self, request, *, reorder=False):
        """BuildPlainRedirectToAuthorizationEndpoint (or ...ReorderedParams: reversed)."""
        items = list(request.items())
        if reorder:
            items.reverse()
        return f"{self.config['authorization_endpoint']}?{urlencode(items, quote_via=quote)}"

    def authorize(self, agent, request, *, method="GET", reorder=False, **visit):
        flow = Flow(request=request)
        if method == "POST":  # OIDCCEnsurePostRequestSucceeds: the browser POSTs the form
            flow.arrival = agent.visit(
                self.config["authorization_endpoint"], method="POST", data=request, referer=self.op.rp_base, **visit
            )
        else:
            flow.arrival = agent.visit(self.authorization_url(request, reorder=reorder), **visit)
        if flow.arrival.at(request["redirect_uri"]):
            flow.callback = flow.arrival.params
        return flow

    def check_callback(self, flow):
        """onAuthorizationCallbackResponse: CheckMatchingCallbackParameters, ValidateIss-
        IfPresentInAuthorizationResponse, CheckIfAuthorizationEndpointError (stop),
        CheckStateInAuthorizationResponse, ExtractAuthorizationCodeFromAuthorizationResponse."""
        assert flow.arrival.redirected, f"the provider did not redirect back: page {flow.arrival.url}"
        assert flow.arrival.at(flow.request["redirect_uri"]), f"redirected elsewhere: {flow.arrival.url}"
        params = flow.callback
        if "iss" in params:
            assert params["iss"] == self.config["issuer"], f"iss {params['iss']!r} is not the issuer (RFC 9207 2)"
        assert "error" not in params, f"authorization endpoint error: {params}"
        assert params.get("state") == flow.request["state"], "state not returned unchanged (RFC 6749 4.1.2)"
        assert params.get("code"), "no code in the authorization response (OIDC Core 3.1.2.5)"

    def check_error_callback(self, flow):
        """performGenericAuthorizationEndpointErrorResponseValidation."""
        assert flow.arrival.redirected and flow.arrival.at(flow.request["redirect_uri"]), (
            f"expected an error redirect to the client, got {flow.arrival.url}"
        )
        params = flow.callback
        assert params.get("state") == flow.request.get("state"), "state not returned unchanged in the error"
        if "iss" in params:
            assert params["iss"] == self.config["issuer"], "iss is not the issuer (RFC 9207 2)"
        assert params.get("error"), "no error in the response (OIDC Core 3.1.2.6)"
        assert "code" not in params, "a code in an error response (OIDC Core 3.1.2.6)"
        unexpected = set(params) - {"error", "error_description", "error_uri", "state", "session_state", "iss"}
        if unexpected:
            self.module.warn(f"unexpected parameters in the error response: {sorted(unexpected)}")
        description = params.get("error_description", "")
        if any(c in description for c in "\r\n\t"):
            self.module.warn("error_description contains CR, LF or TAB")
        assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in description), (
            "error_description outside %x20-21 / %x23-5B / %x5D-7E (RFC 6749 4.1.2.1)"
        )
        if "error_uri" in params:
            assert urlsplit(params["error_uri"]).scheme, "error_uri is not a URI (RFC 6749 4.1.2.1)"
        return params["error"]

    def check_code(self, flow):
        """OIDCCServerTest.performAuthorizationCodeValidation: EnsureMinimumAuthorizationCode-
        Length (128 bits of bytes) and ...Entropy (Shannon entropy over 96 bits)."""
        code = flow.callback["code"]
        assert len(code.encode()) * 8 >= 128, f"authorization code of {len(code)} bytes (RFC 6749 10.10)"
        assert shannon_bits(code) > 96, f"authorization code entropy {shannon_bits(code):.0f} bits <= 96"

    # --- the token endpoint ----------------------------------------------------------------

    def token_request(self, form, *, auth="basic", client=None):
        client = client or self.client
        headers, form = {}, dict(form)
        if auth == "basic":  # AddBasicAuthClientSecretToRequest: form-urlencoded, then base64
            pair = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:  # AddFormBasedClientSecretToRequest
            form.update(client_id=client.client_id, client_secret=client.client_secret)
        return requests.post(
            self.config["token_endpoint"], data=form, headers=headers, timeout=TIMEOUT, verify=self.op.ca
        )  # fmt: skip

    def redeem(self, flow, *, auth="basic", code_verifier=None, check=True):
        """CreateTokenEndpointRequestForAuthorizationCodeGrant + requestAuthorizationCode."""
        form = {"grant_type": "authorization_code", "code": flow.callback["code"]}
        form["redirect_uri"] = flow.request["redirect_uri"]
        if code_verifier:
            form["code_verifier"] = code_verifier
        flow.token_response = self.token_request(form, auth=auth)
        if not check:
            return flow
        response = flow.token_response
        assert response.status_code == 200, f"token endpoint {response.status_code}: {response.text[:500]}"
        flow.tokens = response.json()
        assert "error" not in flow.tokens, flow.tokens
        assert flow.tokens.get("access_token"), "no access_token (RFC 6749 5.1)"
        if "expires_in" in flow.tokens:
            assert isinstance(flow.tokens["expires_in"], int) and flow.tokens["expires_in"] > 0, "bad expires_in"
        assert flow.tokens.get("id_token"), "no id_token from the token endpoint (OIDC Core 3.1.3.3)"
        flow.id_token = flow.tokens["id_token"]
        flow.id_header, flow.id_claims = unverified(flow.id_token)
        self.standard_id_token_checks(flow)
        return flow

    # --- ID token checks (PerformStandardIdTokenChecks) ---------------------------------------

    def verify_signature(self, token):
        keys = jwk.JWKSet.from_json(json.dumps(self.jwks))
        header, _ = unverified(token)
        signed = jws.JWS()
        signed.deserialize(token)
        key = keys.get_key(header.get("kid")) if header.get("kid") else None
        candidates = [key] if key else list(keys)
        for candidate in candidates:
            try:
                signed.verify(candidate, alg=header["alg"])
                return True
            except jws.InvalidJWSSignature:
                continue
        return False

    def standard_id_token_checks(self, flow):
        claims, now, skew = flow.id_claims, time.time(), 300
        # ValidateIdToken (OIDC Core 3.1.3.7)
        assert claims.get("iss") == self.config["issuer"], f"iss {claims.get('iss')!r} is not the issuer"
        aud = claims.get("aud")
        assert (self.client.client_id in aud) if isinstance(aud, list) else aud == self.client.client_id, "aud"
        assert isinstance(claims.get("exp"), int), "exp missing"
        assert claims["exp"] > now - skew, "ID token expired"
        assert claims["exp"] < now + 50 * 365 * 86400, "exp unreasonably far (milliseconds?)"
        assert isinstance(claims.get("iat"), int), "iat missing"
        assert now - skew <= claims["iat"] <= now + skew, "iat more than 5 minutes off"
        if "auth_time" in claims:
            assert now - 365 * 86400 < claims["auth_time"] <= now + skew, "auth_time out of range"
        assert claims.get("acr") != "", "acr is an empty string"
        # ValidateIdTokenStandardClaims (OIDC Core 5.1): types of the standard claims present
        check_standard_claim_types(claims)
        # ValidateIdTokenNonce (OIDC Core 2, 3.1.3.7 step 11)
        if "nonce" in flow.request:
            assert claims.get("nonce") == flow.request["nonce"], "nonce not echoed in the ID token"
        else:
            assert "nonce" not in claims, "a nonce in the ID token though none was sent"
        # ValidateIdTokenACRClaimAgainstRequest (OIDC Core 5.5.1.1): only for an essential acr
        # ValidateIdTokenSignature
        assert flow.id_header.get("alg") in self.config["id_token_signing_alg_values_supported"], "alg"
        assert flow.id_header.get("alg") != "none", "unsigned ID token"
        assert self.verify_signature(flow.id_token), "ID token signature does not verify with the JWKS"
        # CheckForSubjectInIdToken (OIDC Core 2)
        assert isinstance(claims.get("sub"), str) and 0 < len(claims["sub"]) <= 255, "sub missing or too long"
        # EnsureIdTokenUpdatedAtValid (OIDC Core 5.1)
        if "updated_at" in claims:
            assert isinstance(claims["updated_at"], int | float), "updated_at is not a number"
        # ValidateEncryptedIdTokenHasKid: not encrypted here

    def hash_half(self, value):
        """at_hash / c_hash: the left half of SHA-256, base64url (RS256; OIDC Core 3.3.2.11)."""
        digest = hashlib.sha256(value.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()

    def non_requested_claims(self, flow):
        """EnsureIdTokenDoesNotContainNonRequestedClaims."""
        allowed = set(ID_TOKEN_CLAIMS)
        scopes = flow.request.get("scope", "").split()
        if "openid" in scopes:
            for scope in scopes:
                allowed |= set(SCOPE_CLAIMS.get(scope, ()))
        return sorted(set(flow.id_claims) - allowed)

    # --- the UserInfo endpoint ---------------------------------------------------------------

    def userinfo(self, access_token, *, how="get"):
        url = self.config["userinfo_endpoint"]
        bearer = {"Authorization": f"Bearer {access_token}"}
        if how == "get":
            return requests.get(url, headers=bearer, timeout=TIMEOUT, verify=self.op.ca)
        if how == "post-header":
            return requests.post(url, headers=bearer, timeout=TIMEOUT, verify=self.op.ca)
        return requests.post(url, data={"access_token": access_token}, timeout=TIMEOUT, verify=self.op.ca)

    def check_userinfo(self, flow, response):
        """AbstractOIDCCUserInfoTest.extractUserInfoResponse + validateExtractedUserInfoResponse."""
        assert response.status_code == 200, f"UserInfo {response.status_code}: {response.text[:300]}"
        assert response.headers.get("Content-Type", "").split(";")[0] == "application/json", (
            "UserInfo is not application/json (OIDC Core 5.3.2)"
        )
        info = response.json()
        check_standard_claim_types(info)
        assert isinstance(info.get("sub"), str) and info["sub"], "no sub in UserInfo (OIDC Core 5.3.2)"
        if "updated_at" in info:
            assert isinstance(info["updated_at"], int | float), "updated_at is not a number (OIDC Core 5.1)"
        names = info.get("_claim_names", {})
        assert all(v in info.get("_claim_sources", {}) for v in names.values()), "_claim_names (OIDC Core 5.6.2)"
        assert info["sub"] == flow.id_claims["sub"], "UserInfo sub differs from the ID token's (OIDC Core 5.3.2)"
        return info

    def scope_claims_returned(self, flow, info):
        """VerifyScopesReturnedInUserInfoClaims (WARNING): for each standard scope asked, at
        least one of its claims in UserInfo."""
        missing = []
        for scope in flow.request["scope"].split():
            claims = SCOPE_CLAIMS.get(scope)
            if claims and not any(c in info for c in claims):
                missing.append(scope)
        return missing


ID_TOKEN_CLAIMS = (
    "iss sub aud exp iat auth_time nonce acr amr azp at_hash c_hash nbf jti sid s_hash openbanking_intent_id txn"
).split()

# AbstractVerifyScopesReturnedInClaims.SCOPE_STANDARD_CLAIMS (OIDC Core 5.4)
SCOPE_CLAIMS = {
    "profile": (
        "name family_name given_name middle_name nickname preferred_username profile picture website "
        "gender birthdate zoneinfo locale updated_at"
    ).split(),
    "email": ["email", "email_verified"],
    "address": ["address"],
    "phone": ["phone_number", "phone_number_verified"],
}

_STRING_CLAIMS = (
    "name given_name family_name middle_name nickname preferred_username profile picture website email "
    "gender birthdate zoneinfo locale phone_number"
).split()


def check_standard_claim_types(claims):
    """ValidateIdTokenStandardClaims / ValidateUserInfoStandardClaims (OIDC Core 5.1)."""
    for name in _STRING_CLAIMS:
        if name in claims:
            assert isinstance(claims[name], str), f"{name} is not a string (OIDC Core 5.1)"
    for name in ("email_verified", "phone_number_verified"):
        if name in claims:
            assert isinstance(claims[name], bool), f"{name} is not a boolean (OIDC Core 5.1)"
    if "address" in claims:
        assert isinstance(claims["address"], dict), "address is not a JSON object (OIDC Core 5.1.1)"
        for part, value in claims["address"].items():
            assert isinstance(value, str), f"address.{part} is not a string (OIDC Core 5.1.1)"
    if "updated_at" in claims:
        assert isinstance(claims["updated_at"], int | float) and not isinstance(claims["updated_at"], bool)


def happy_flow(suite, agent, request, *, auth="basic", method="GET", reorder=False, code_verifier=None, userinfo=True):
    """AbstractOIDCCServerTest's default run for response_type=code: authorize, check the
    callback, redeem the code, check the ID token, call the protected resource (UserInfo)."""
    flow = suite.authorize(agent, request, method=method, reorder=reorder)
    suite.check_callback(flow)
    suite.redeem(flow, auth=auth, code_verifier=code_verifier)
    if userinfo:
        response = suite.userinfo(flow.tokens["access_token"])
        assert response.status_code == 200, f"protected resource (UserInfo) {response.status_code}"
    return flow


def name_in_id_token(suite, flow):
    """EnsureIdTokenDoesNotContainName (WARNING, OIDC Core 5.5, 5.4: scope claims go to UserInfo)."""
    if "name" in flow.id_claims:
        suite.module.warn("the ID token contains name, which was not requested there (OIDC Core 5.4)")


def b64url_json_segment(value):
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def fake_id_token(client, issuer):
    """GenerateFakeIdTokenClaims + SignFakeIdToken: iss=client_id, aud=issuer, nonce flibble,
    signed HS256 with the client secret (GenerateJWKsFromClientSecret)."""
    from jwcrypto import jwt

    now = int(time.time())
    claims = {"iss": client.client_id, "sub": "SubjectID", "aud": issuer, "nonce": "flibble", "iat": now}
    claims["exp"] = now + 300
    key = jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(client.client_secret.encode()).rstrip(b"=").decode())
    token = jwt.JWT(header={"alg": "HS256"}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def alg_none(token):
    """ChangeIdTokenToAlgNone: header {"alg": "none"}, the same payload, no signature."""
    header = base64.urlsafe_b64encode(b'{"alg": "none"}').rstrip(b"=").decode()
    return f"{header}.{token.split('.')[1]}."
