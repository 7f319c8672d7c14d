"""The per-process memory of verified access tokens (tokens.verify_access_token_cached):
a repeated token skips parsing and the RSA signature, and nothing else."""

import hashlib
import threading
import time
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings

from oauth import flows, jws, keys, tokens
from oauth.claims import LEEWAY_SECONDS, InvalidToken, access_token_claims
from oauth.models import SigningKey
from oauth.tests.test_signing_keys import active, issue, rotate_after  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def token_for(subject, *, lifetime=900, now=None):
    claims = access_token_claims(
        issuer=django_settings.ISSUER,
        audience=django_settings.ACCESS_TOKEN_AUDIENCE,
        client_id="client",
        subject=subject,
        scope="read",
        lifetime=lifetime,
        now=now,
    )
    return jws.sign(claims, typ=jws.ACCESS_TOKEN_TYPE)


@pytest.fixture
def verifications(monkeypatch):
    """Counts the JWS parses and signature checks (the work a cache hit skips)."""
    calls = {"parse": 0, "signature": 0}
    parse, signature = jws._header, jws._verified_claims

    def counted_parse(*args, **kwargs):
        calls["parse"] += 1
        return parse(*args, **kwargs)

    def counted_signature(*args, **kwargs):
        calls["signature"] += 1
        return signature(*args, **kwargs)

    monkeypatch.setattr(jws, "_header", counted_parse)
    monkeypatch.setattr(jws, "_verified_claims", counted_signature)
    return calls


def test_a_repeated_token_skips_parsing_and_the_signature(verifications):
    token = issue()
    first = tokens.verify_access_token_cached(token)
    assert verifications == {"parse": 1, "signature": 1}
    second = tokens.verify_access_token_cached(token)
    assert verifications == {"parse": 1, "signature": 1}
    assert second == first == jws.verify_access_token(token)


def test_the_cache_is_keyed_by_the_tokens_digest_never_the_token():
    token = issue()
    tokens.verify_access_token_cached(token)
    assert list(tokens._verified) == [hashlib.sha256(token.encode()).digest()]
    assert all(token not in repr(entry) for entry in tokens._verified.values())


def test_each_call_gets_its_own_copy_of_the_claims():
    token = issue()
    tokens.verify_access_token_cached(token)["sub"] = "someone else"
    assert tokens.verify_access_token_cached(token)["sub"] == "subject"


def test_different_tokens_do_not_collide(verifications):
    alice, bob = token_for("alice"), token_for("bob")
    assert tokens.verify_access_token_cached(alice)["sub"] == "alice"
    assert tokens.verify_access_token_cached(bob)["sub"] == "bob"
    assert tokens.verify_access_token_cached(alice)["sub"] == "alice"
    assert tokens.verify_access_token_cached(bob)["sub"] == "bob"
    assert verifications["signature"] == 2 and len(tokens._verified) == 2


def test_failures_are_never_remembered(verifications):
    token = issue()
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    for _ in range(2):
        with pytest.raises(InvalidToken, match="signature"):
            tokens.verify_access_token_cached(forged)
        with pytest.raises(InvalidToken, match="malformed"):
            tokens.verify_access_token_cached("not.a.jwt")
    assert verifications["signature"] == 2
    assert not tokens._verified
    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify_access_token_cached(token_for("late", lifetime=10, now=int(time.time()) - 3600))
    assert not tokens._verified


def test_a_token_expired_since_it_was_remembered_is_refused(monkeypatch, verifications):
    now = time.time()
    token = token_for("soon", lifetime=10, now=int(now))
    assert tokens.verify_access_token_cached(token)["sub"] == "soon"
    monkeypatch.setattr("oauth.claims.time", SimpleNamespace(time=lambda: now + 10 + LEEWAY_SECONDS + 1))
    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify_access_token_cached(token)
    assert not tokens._verified  # forgotten, not kept


def test_claims_are_checked_again_against_the_current_settings(settings):
    token = issue()
    tokens.verify_access_token_cached(token)
    settings.ISSUER = "https://elsewhere.example"
    with pytest.raises(InvalidToken, match="issued by someone else"):
        tokens.verify_access_token_cached(token)


def test_a_remembered_token_whose_key_was_deleted_is_refused(active):  # noqa: F811
    token = issue()
    assert tokens.verify_access_token_cached(token)
    rotate_after(0)
    rotate_after(31)
    retired_at = SigningKey.objects.get(kid=active.kid).retired_at
    assert flows.rotate_signing_keys(now=retired_at + flows.retired_key_retention()).deleted == (active.kid,)
    assert keys.verification_key(active.kid) is None
    with pytest.raises(InvalidToken, match="unknown key"):
        tokens.verify_access_token_cached(token)
    assert not tokens._verified


def test_a_remembered_token_survives_a_rotation_that_keeps_its_key(active):  # noqa: F811
    token = issue()
    tokens.verify_access_token_cached(token)
    rotate_after(0)
    rotate_after(31)  # its key is retired, still published
    assert tokens.verify_access_token_cached(token)["sub"] == "subject"


def test_the_cache_is_bounded_least_recently_used_first(monkeypatch, verifications):
    monkeypatch.setattr(tokens._verified, "maxsize", 3)
    issued = [token_for(f"user{n}") for n in range(5)]
    for token in issued:
        tokens.verify_access_token_cached(token)
    assert len(tokens._verified) == 3
    tokens.verify_access_token_cached(issued[2])  # a hit: most recently used now
    tokens.verify_access_token_cached(issued[0])  # evicted: verified again, evicts issued[3]
    assert verifications["signature"] == 6
    tokens.verify_access_token_cached(issued[2])
    assert verifications["signature"] == 6
    tokens.verify_access_token_cached(issued[3])
    assert verifications["signature"] == 7 and len(tokens._verified) == 3


def test_concurrent_use_stays_consistent_and_bounded(monkeypatch):
    monkeypatch.setattr(tokens._verified, "maxsize", 4)
    issued = [(f"user{n}", token_for(f"user{n}")) for n in range(8)]
    errors = []

    def hammer():
        try:
            for _ in range(20):
                for subject, token in issued:
                    assert tokens.verify_access_token_cached(token)["sub"] == subject
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(tokens._verified) <= 4
