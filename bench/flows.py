"""The browser flow, as a person's browser and a web app's back end walk it, over real HTTP.

    login with password -> authorize (PKCE S256) -> code exchange at the token endpoint

Used by bench/load.py to pre-mint tokens, and run as a script for the "full browser flow"
scenario: N threads, each with its own requests.Session per flow, for a fixed duration;
prints one JSON line. This load generator is Python: its threads share a GIL with each
other, never with the server (a separate process).

    python bench/flows.py SPEC.json    (see load.py: base, paths, client, users, threads, duration)
"""

import base64
import hashlib
import json
import re
import secrets
import sys
import threading
import time
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import requests

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TIMEOUT = 60


class FlowError(Exception):
    pass


def basic_auth(client_id, client_secret):
    # RFC 6749 2.3.1: form-urlencode each part before base64.
    raw = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def login(session, spec, username, password):
    """GET the login page (CSRF token), POST the password. Leaves the session logged in."""
    url = spec["base"] + spec["login"]
    page = session.get(url, timeout=TIMEOUT)
    match = CSRF_INPUT.search(page.text)
    if page.status_code != 200 or not match:
        raise FlowError(f"login page: {page.status_code}")
    response = session.post(
        url,
        data={"csrfmiddlewaretoken": match.group(1), "username": username, "password": password, "next": "/"},
        headers={"Referer": url},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    if response.status_code != 302:
        raise FlowError(f"login: {response.status_code} {response.text[:200]}")


def authorize_and_exchange(session, spec, scope):
    """Authorization request (trusted client: no consent page) and code exchange.
    Returns the token response (dict)."""
    client = spec["client"]
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(12)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": client["redirect_uri"],
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    response = session.get(f"{spec['base']}{spec['authorize']}?{query}", allow_redirects=False, timeout=TIMEOUT)
    location = response.headers.get("Location", "")
    params = parse_qs(urlsplit(location).query)
    if response.status_code != 302 or params.get("state") != [state] or "code" not in params:
        raise FlowError(f"authorize: {response.status_code} {location[:200] or response.text[:200]}")
    # The code exchange is the web app's back-channel call: no browser cookies.
    response = requests.post(
        spec["base"] + spec["token"],
        data={
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": client["redirect_uri"],
            "code_verifier": verifier,
        },
        headers={"Authorization": basic_auth(client["client_id"], client["client_secret"])},
        timeout=TIMEOUT,
    )
    if response.status_code != 200:
        raise FlowError(f"token: {response.status_code} {response.text[:200]}")
    body = response.json()
    if "access_token" not in body:
        raise FlowError(f"token: no access_token in {response.text[:200]}")
    return body


def full_flow(spec, user):
    with requests.Session() as session:
        login(session, spec, user["username"], user["password"])
        return authorize_and_exchange(session, spec, spec["scope"])


def run_flows(spec):
    """Threads each loop: new session, full flow; until the deadline. Flows under way at the
    deadline are completed and counted; elapsed time runs until the last one ends."""
    threads = spec["threads"]
    deadline = time.monotonic() + spec["duration"]
    latencies, errors, samples = [], [0], []
    lock = threading.Lock()

    def worker(index):
        user = spec["users"][index % len(spec["users"])]
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                full_flow(spec, user)
            except (FlowError, requests.RequestException, ValueError) as exc:
                with lock:
                    errors[0] += 1
                    if len(samples) < 3:
                        samples.append(str(exc)[:200])
                continue
            with lock:
                latencies.append(time.monotonic() - started)

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def percentile(p):
        if not latencies:
            return None
        return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))] * 1e6

    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "rate": len(latencies) / elapsed if elapsed else 0.0,
        "p50_us": percentile(50),
        "p99_us": percentile(99),
        "errors": errors[0],
        "sample": "; ".join(samples),
        "threads": threads,
    }


if __name__ == "__main__":
    with open(sys.argv[1]) as file:
        flow_spec = json.load(file)
    print("BENCH_JSON " + json.dumps(run_flows(flow_spec)), flush=True)
