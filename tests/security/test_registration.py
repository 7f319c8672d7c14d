"""Dynamic client registration (RFC 7591) and client configuration (RFC 7592), attacked from
outside: initial access tokens (missing, unknown, expired, spent, raced for), metadata injection
(URI schemes, redirect URI rules, privileges a client may not give itself), one client's
registration access token against another's registration. The world runs CLIENT_REGISTRATION=
token; registrations are throttled per IP, so each test registers from an address of its own."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.faults.flows import REDIRECT_URI, TIMEOUT, Browser

from .surfaces import code_in, fresh_address, session_from

ERRORS = {"invalid_client_metadata", "invalid_redirect_uri", "invalid_token", "invalid_request", "access_denied"}


def _register(security, metadata, token="many", *, session=None, raw_token=None):
    session = session or session_from(fresh_address())
    headers = {}
    if raw_token is not None:
        headers["Authorization"] = raw_token
    elif token is not None:
        headers["Authorization"] = f"Bearer {security.data['initial_tokens'][token]}"
    return session.post(f"{security.url}/oauth/register/", json=metadata, headers=headers, timeout=TIMEOUT)


def _client(name, **extra):
    return {"client_name": name, "redirect_uris": ["https://app.example/callback"], **extra}


def _clean_error(response, *codes):
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers.get("Cache-Control") == "no-store"
    body = response.json()
    assert body["error"] in ERRORS and (not codes or body["error"] in codes), body
    description = body.get("error_description", "")
    assert not any(c in description for c in '"\\\r\n'), description
    return body


@pytest.mark.attack("RFC 7591", "3: with CLIENT_REGISTRATION=token, no initial access token → 401 Bearer")
def test_registration_without_an_initial_token_is_refused(security):
    response = _register(security, _client("no token"), token=None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    _clean_error(response, "invalid_token")


@pytest.mark.attack("RFC 7591", "3: an unknown, expired or malformed initial access token → 401")
@pytest.mark.parametrize(
    "header", ["Bearer not-a-token-we-issued", "expired", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer a b", "Bearer \x7f"]
)
def test_registration_with_a_bad_initial_token_is_refused(security, header):
    if header == "expired":
        response = _register(security, _client("expired"), token="expired")
    else:
        response = _register(security, _client("bad token"), raw_token=header)
    if header == "Bearer \x7f":  # not a legal header value: gunicorn itself refuses it
        assert response.status_code == 400
        return
    assert response.status_code == 401
    _clean_error(response, "invalid_token")


@pytest.mark.attack("RFC 7591", "3: a single-use initial access token registers once (token reuse)")
def test_a_single_use_initial_token_registers_once(security):
    first = _register(security, _client("single 1"), token="single")
    assert first.status_code == 201, first.text
    second = _register(security, _client("single 2"), token="single")
    assert second.status_code == 401
    _clean_error(second, "invalid_token")


@pytest.mark.attack("RFC 7591", "3: the last use of an initial token raced for: exactly one registration")
def test_the_last_use_of_an_initial_token_has_one_winner(security):
    def attempt(n):
        return _register(security, _client(f"race {n}"), token="race").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, range(8)))
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 401}, statuses
    names = security.sql("SELECT count(*) FROM oauth_client WHERE name LIKE 'race %%'")
    assert names[0][0] == 1, "a refused registration left a client behind"


@pytest.mark.attack("RFC 7591", "2 / SECURITY.md: redirect URIs https (http on loopback), no fragment, no wildcard")
@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(document.domain)",
        "data:text/html,<script>alert(1)</script>",
        "http://app.example/callback",
        "https://app.example/callback#fragment",
        "https://*.example/callback",
        "https://app.example/*",
        "/relative/callback",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "https://app.example/call\nback",
    ],
)
def test_a_hostile_redirect_uri_is_refused(security, uri):
    response = _register(security, _client("hostile redirect", redirect_uris=[uri]))
    assert response.status_code == 400, response.text
    _clean_error(response, "invalid_redirect_uri", "invalid_client_metadata")
    # The URI may be quoted back, in JSON that no browser renders as a page.
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


@pytest.mark.attack("RFC 7591", "2: http redirect URIs on the loopback are allowed (native apps, RFC 8252 7.3)")
def test_a_loopback_http_redirect_uri_is_allowed(security):
    response = _register(security, _client("loopback", redirect_uris=["http://127.0.0.1:9999/cb"]))
    assert response.status_code == 201, response.text


@pytest.mark.attack("RFC 7591", "5 / RFC 6819 5.2.3.4: hostile URI metadata (logo, policy, terms, client page)")
@pytest.mark.parametrize("field", ["logo_uri", "client_uri", "policy_uri", "tos_uri", "backchannel_logout_uri"])
@pytest.mark.parametrize("uri", ["javascript:alert(1)", "data:image/svg+xml,<svg onload=alert(1)>"])
def test_hostile_uri_metadata_is_refused(security, field, uri):
    response = _register(security, _client("hostile uri", **{field: uri}))
    assert response.status_code == 400, response.text
    _clean_error(response, "invalid_client_metadata")


@pytest.mark.attack("RFC 7591", "3.2.2 / RFC 9700 2.4: no password or implicit grant, no admin scopes")
@pytest.mark.parametrize(
    "extra",
    [
        {"grant_types": ["password"]},
        {"grant_types": ["implicit"], "response_types": ["token"]},
        {"scope": "openid roles"},
        {"scope": "openid permissions"},
        {"scope": "openid admin"},
    ],
    ids=["password", "implicit", "roles", "permissions", "admin"],
)
def test_a_client_cannot_register_privileges(security, extra):
    response = _register(security, _client("privileged", **extra))
    assert response.status_code == 400, response.text
    _clean_error(response, "invalid_client_metadata")


@pytest.mark.attack("RFC 7591", "2: server-side fields in the metadata are ignored (no trusted, no introspect-any)")
def test_a_client_cannot_make_itself_trusted(security):
    metadata = _client(
        "self trusted",
        redirect_uris=[REDIRECT_URI],
        skip_authorization=True,
        trusted=True,
        can_introspect_any=True,
        client_id="chosen-by-the-attacker",
        client_secret="chosen-secret",
    )
    response = _register(security, metadata)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["client_id"] != "chosen-by-the-attacker" and body.get("client_secret") != "chosen-secret"
    # Untrusted: the authorization endpoint asks the user (a consent page), it hands out no code.
    browser = security.browser()
    params = {
        "response_type": "code",
        "client_id": body["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    answer = browser.get("/oauth/authorize/", params=params)
    assert code_in(answer) is None, "a self-registered client got a code without consent"
    assert answer.status_code == 200
    introspection = session_from(fresh_address()).post(
        f"{security.url}/oauth/introspect/",
        data={"token": "x"},
        auth=(body["client_id"], body["client_secret"]),
        timeout=TIMEOUT,
    )
    assert introspection.status_code in (401, 403) or introspection.json() == {"active": False}


@pytest.mark.attack("RFC 7592", "2: the registration access token of client A cannot read, change or delete B")
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_one_registration_token_does_not_open_another_client(security, method):
    session = session_from(fresh_address())
    a = _register(security, _client("client A"), session=session).json()
    b = _register(security, _client("client B"), session=session).json()
    body = {**_client("hijacked"), "client_id": b["client_id"]} if method == "PUT" else None
    response = session.request(
        method,
        f"{security.url}/oauth/register/{b['client_id']}/",
        headers={"Authorization": f"Bearer {a['registration_access_token']}"},
        json=body,
        timeout=TIMEOUT,
    )
    assert response.status_code == 401
    _clean_error(response, "invalid_token")
    mine = session.get(
        b["registration_client_uri"], headers={"Authorization": f"Bearer {b['registration_access_token']}"}
    )
    assert mine.status_code == 200 and mine.json()["client_name"] == "client B"


@pytest.mark.attack("RFC 7592", "2.2: an update may not move the registration to another client_id")
def test_an_update_cannot_change_the_client_id(security):
    session = session_from(fresh_address())
    a = _register(security, _client("client mover"), session=session).json()
    response = session.put(
        a["registration_client_uri"],
        headers={"Authorization": f"Bearer {a['registration_access_token']}"},
        json={**_client("moved"), "client_id": "someone-elses-id"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    _clean_error(response, "invalid_client_metadata")


@pytest.mark.attack("RFC 7592", "2.2: an update is held to the same metadata rules (no javascript: by PUT)")
def test_an_update_cannot_inject_what_registration_refuses(security):
    session = session_from(fresh_address())
    a = _register(security, _client("client updater"), session=session).json()
    response = session.put(
        a["registration_client_uri"],
        headers={"Authorization": f"Bearer {a['registration_access_token']}"},
        json={**_client("updated"), "client_id": a["client_id"], "redirect_uris": ["javascript:alert(1)"]},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    _clean_error(response, "invalid_redirect_uri", "invalid_client_metadata")


@pytest.mark.attack("RFC 7592", "2.3: after DELETE the registration access token and the client are dead")
def test_a_deleted_registration_leaves_nothing_usable(security):
    session = session_from(fresh_address())
    a = _register(security, _client("client deleted", grant_types=["client_credentials"], redirect_uris=[]))
    a = a.json()
    auth = {"Authorization": f"Bearer {a['registration_access_token']}"}
    assert session.delete(a["registration_client_uri"], headers=auth, timeout=TIMEOUT).status_code == 204
    assert session.get(a["registration_client_uri"], headers=auth, timeout=TIMEOUT).status_code == 401
    token = session.post(
        f"{security.url}/oauth/token/",
        data={"grant_type": "client_credentials"},
        auth=(a["client_id"], a["client_secret"]),
        timeout=TIMEOUT,
    )
    assert token.status_code == 401


@pytest.mark.attack("RFC 7591", "3.2.2: bodies that are not a JSON object of metadata → 400, never 5xx")
@pytest.mark.parametrize(
    "body,content_type",
    [
        (b"client_name=x", "application/x-www-form-urlencoded"),
        (b"[1, 2, 3]", "application/json"),
        (b"{not json", "application/json"),
        (b'{"client_name": "\xff\xfe"}', "application/json"),
        (b"[" * 2000 + b"]" * 2000, "application/json"),
        (b'{"redirect_uris": "https://app.example/cb"}', "application/json"),
        (b'{"redirect_uris": ["https://a.example/cb"], "client_name": "' + b"y" * 3000 + b'"}', "application/json"),
    ],
    ids=["form", "array", "broken", "not-utf8", "deep", "string-not-list", "long-name"],
)
def test_malformed_registration_bodies_are_refused_cleanly(security, body, content_type):
    session = session_from(fresh_address())
    response = session.post(
        f"{security.url}/oauth/register/",
        data=body,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {security.data['initial_tokens']['many']}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400, response.text[:500]
    _clean_error(response, "invalid_client_metadata", "invalid_redirect_uri")


@pytest.mark.attack("RFC 7591", "3: registration is throttled per IP (429 with Retry-After)")
def test_registration_is_throttled_per_address(security):
    session = session_from(fresh_address())
    statuses = [_register(security, {"client_name": "flood"}, session=session).status_code for _ in range(11)]
    assert statuses[-1] == 429, statuses
    flooded = _register(security, _client("after flood"), session=session)
    assert flooded.status_code == 429 and int(flooded.headers["Retry-After"]) >= 1
    assert _register(security, _client("other address")).status_code == 201


@pytest.mark.attack("RFC 7592", "1: the registration access token is no access token (refused by the API)")
def test_a_registration_access_token_is_not_an_access_token(security):
    a = _register(security, _client("rat as bearer")).json()
    response = Browser(security.url).http.get(
        f"{security.url}/api/me", headers={"Authorization": f"Bearer {a['registration_access_token']}"}, timeout=TIMEOUT
    )
    assert response.status_code == 401
