"""The database-held signing keys: encryption at rest, rotation, JWKS publication, the
per-process cache, key import, the admin. (test_keys.py covers parsing and first start.)"""

import time
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test import Client as BrowserClient
from django.utils import timezone
from jwcrypto import jwk
from oauth2_provider.settings import oauth2_settings

from conftest import PASSWORD, run_concurrently
from oauth import checks, flows, kek, keys
from oauth.claims import LEEWAY_SECONDS, InvalidToken, access_token_claims
from oauth.jws import ACCESS_TOKEN_TYPE, sign, verify_access_token
from oauth.models import SigningKey

pytestmark = pytest.mark.django_db
ACTIVE, NEXT, RETIRED = SigningKey.State.ACTIVE, SigningKey.State.NEXT, SigningKey.State.RETIRED
DAY = timedelta(days=1)


def pem(private_key, password=None):
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def issue():
    """A signed access token, as the token endpoint makes it."""
    claims = access_token_claims(
        issuer=django_settings.ISSUER,
        audience=django_settings.ACCESS_TOKEN_AUDIENCE,
        client_id="client",
        subject="subject",
        scope="read",
        lifetime=900,
    )
    return sign(claims, typ=ACCESS_TOKEN_TYPE)


def kid_of(token):
    from jwcrypto import jws

    parsed = jws.JWS()
    parsed.deserialize(token)
    return parsed.jose_header["kid"]


def published():
    return {key["kid"] for key in keys.public_jwks()["keys"]}


def state_of(kid):
    return SigningKey.objects.get(kid=kid).state


def table():
    """Everything stored, to compare before and after."""
    return sorted(
        SigningKey.objects.values_list("kid", "state", "created_at", "activated_at", "retired_at", "private_key")
    )


@pytest.fixture
def active():
    """The active key, made on first use (development), as a SigningKey row; cached."""
    keys.signing_key()
    keys.refresh()  # as once the first-start transaction has committed
    return SigningKey.objects.get(state=ACTIVE)


@pytest.fixture
def clock(monkeypatch):
    """keys' monotonic clock, moved by hand."""
    now = [time.monotonic()]
    monkeypatch.setattr(keys, "_clock", lambda: now[0])

    def advance(seconds):
        now[0] += seconds

    return advance


def rotate_after(days, **kwargs):
    return flows.rotate_signing_keys(now=timezone.now() + timedelta(days=days), **kwargs)


# --- Encryption at rest ---------------------------------------------------------------------


def test_private_key_column_holds_no_pem(active):
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key FROM oauth_signingkey WHERE kid = %s", [active.kid])
        [(stored,)] = cursor.fetchall()
    plain = keys.signing_key().export_to_pem(private_key=True, password=None).decode()
    assert "PRIVATE KEY" not in stored and "-----" not in stored
    for line in plain.splitlines()[1:-1]:
        assert line not in stored


def test_private_key_decrypts_only_with_the_kek(active, settings):
    plain = kek.decrypt(active.private_key)
    assert plain.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert keys.load_private_key(plain)["kid"] == active.kid
    settings.KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="KEY_ENCRYPTION_KEYS"):
        kek.decrypt(active.private_key)
    keys.reset()
    with pytest.raises(ImproperlyConfigured, match="KEY_ENCRYPTION_KEYS"):
        keys.signing_key()


def test_public_jwk_column_holds_public_members_only(active):
    assert set(active.public_jwk) == {"kty", "n", "e", "kid", "alg", "use"}


def test_no_kek_in_production_is_an_error(settings):
    settings.KEY_ENCRYPTION_KEYS = []
    assert [e.id for e in checks.key_encryption_key_check(None)] == ["oauth.E004"]
    with pytest.raises(ImproperlyConfigured, match="KEY_ENCRYPTION_KEYS"):
        kek.encrypt(b"x")


def test_invalid_kek_is_an_error_that_does_not_show_it(settings):
    settings.KEY_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    [error] = checks.key_encryption_key_check(None)
    assert error.id == "oauth.E004" and "not-a-fernet-key" not in error.msg


def test_kek_rotation_reencrypts_every_key(active, settings):
    rotate_after(0)  # a next key too
    old = settings.KEY_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.KEY_ENCRYPTION_KEYS = [new, old]  # the new KEK first: it encrypts, both decrypt
    keys.reset()
    assert keys.signing_key()["kid"] == active.kid
    assert flows.rotate_signing_keys().rewrapped == 2
    assert flows.rotate_signing_keys().rewrapped == 0
    settings.KEY_ENCRYPTION_KEYS = [new]  # the old KEK can go
    keys.reset()
    assert keys.signing_key()["kid"] == active.kid
    for row in SigningKey.objects.all():
        keys.private_key_of(row)


# --- Rotation -------------------------------------------------------------------------------


def test_first_run_publishes_a_next_key_that_does_not_sign(active):
    result = flows.rotate_signing_keys()
    assert result.created and not result.activated
    assert state_of(result.created) == NEXT
    assert published() == {active.kid, result.created}
    assert kid_of(issue()) == active.kid


def test_rotation_waits_for_the_period_and_the_prepublication(active, settings):
    start = timezone.now()
    upcoming = flows.rotate_signing_keys(now=start).created
    due = start + timedelta(days=settings.SIGNING_KEY_ROTATION_DAYS)
    assert not flows.rotate_signing_keys(now=due - timedelta(seconds=1)).changed
    result = flows.rotate_signing_keys(now=due)
    assert (result.activated, result.retired) == (upcoming, active.kid)
    assert state_of(upcoming) == ACTIVE and state_of(active.kid) == RETIRED
    assert result.created and state_of(result.created) == NEXT


def test_a_next_key_published_too_recently_is_not_promoted(active, settings):
    late = timezone.now() + 40 * DAY  # the active key is old enough, but the next key is new
    upcoming = flows.rotate_signing_keys(now=late).created
    prepublish = timedelta(seconds=settings.SIGNING_KEY_PREPUBLISH_SECONDS)
    assert not flows.rotate_signing_keys(now=late + prepublish - timedelta(seconds=1)).changed
    assert flows.rotate_signing_keys(now=late + prepublish).activated == upcoming


def test_rotating_twice_changes_nothing_the_second_time(active):
    for days in (0, 31, 45):
        first = rotate_after(days)
        before = table()
        second = rotate_after(days)
        assert first.changed and not second.changed, (days, first, second)
        assert str(second) == "nothing to do"
        assert table() == before


def test_force_promotes_a_fresh_next_key_at_once(active):
    result = flows.rotate_signing_keys(force=True)
    assert result.retired == active.kid and result.activated
    assert keys.signing_key()["kid"] == result.activated
    assert SigningKey.objects.filter(state=NEXT).count() == 1


def test_rotation_initializes_an_empty_table(settings):
    settings.SIGNING_KEY_DEV_GENERATE = False  # production: the operator's command makes the key
    result = flows.rotate_signing_keys()
    assert result.activated and result.created
    assert keys.signing_key()["kid"] == result.activated


def test_at_most_one_active_and_one_next_key_in_the_database(active):
    rotate_after(0)
    for state in (ACTIVE, NEXT):
        extra = keys.new_stored_key(keys.generate_private_key(), state=state, now=timezone.now())
        with pytest.raises(IntegrityError), transaction.atomic():
            extra.save()


# --- Tokens across rotations ----------------------------------------------------------------


def test_a_token_signed_before_rotation_still_verifies_after_it(active):
    token = issue()
    rotate_after(0)
    result = rotate_after(31)
    assert result.retired == active.kid
    assert verify_access_token(token)["sub"] == "subject"
    assert kid_of(issue()) == result.activated


def test_a_key_retired_past_its_window_is_deleted_and_its_tokens_refused(active):
    token = issue()
    rotate_after(0)
    rotate_after(31)
    retired_at = SigningKey.objects.get(kid=active.kid).retired_at
    window = flows.retired_key_retention()
    assert window >= timedelta(seconds=oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS + LEEWAY_SECONDS)
    assert not flows.rotate_signing_keys(now=retired_at + window - timedelta(seconds=1)).deleted
    assert active.kid in published()
    assert flows.rotate_signing_keys(now=retired_at + window).deleted == (active.kid,)
    assert active.kid not in published()
    with pytest.raises(InvalidToken, match="unknown key"):
        verify_access_token(token)


def test_a_retired_key_stays_published_for_the_longest_lifetime_a_client_has(make_client):
    before = flows.retired_key_retention()
    make_client(name="Long-lived", access_token_lifetime=20 * 3600, id_token_lifetime=3 * 3600)
    assert flows.retired_key_retention() - before == timedelta(
        seconds=20 * 3600 - max(oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS, oauth2_settings.ID_TOKEN_EXPIRE_SECONDS)
    )


def test_jwks_never_drops_a_key_that_signed_an_unexpired_token(active, settings):
    """Ninety days of hourly cron runs: every key that signed within the longest token
    lifetime (plus leeway) is published, and every key is published before it signs."""
    settings.SIGNING_KEY_ROTATION_DAYS = 7
    lifetime = max(oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS, oauth2_settings.ID_TOKEN_EXPIRE_SECONDS)
    lifetime = timedelta(seconds=lifetime + LEEWAY_SECONDS)
    start = timezone.now()
    signed = []  # (time, kid): the key that signed at that time
    first_seen = {}
    for step in range(0, 90 * 24, 3):
        now = start + timedelta(hours=step)
        signed.append((now, keys.signing_key()["kid"]))  # the signer up to this run
        flows.rotate_signing_keys(now=now)
        signer = keys.signing_key()["kid"]
        signed.append((now, signer))
        jwks = published()
        for kid in jwks:
            first_seen.setdefault(kid, now)
        assert signer == active.kid or now - first_seen[signer] >= timedelta(
            seconds=settings.SIGNING_KEY_PREPUBLISH_SECONDS
        )
        unexpired = {kid for at, kid in signed if at + lifetime > now}
        assert unexpired <= jwks, now - start
    assert SigningKey.objects.count() <= 4  # and expired keys were removed
    assert len(first_seen) >= 12  # it did rotate


# --- The per-process cache ------------------------------------------------------------------


def test_signing_ten_tokens_costs_at_most_one_query(active, django_assert_max_num_queries):
    keys.reset()  # a cold process: the key is in the table, not in memory
    with django_assert_max_num_queries(1):
        for _ in range(10):
            issue()


def test_a_key_installed_inside_a_transaction_is_confirmed_at_next_use(db, django_assert_num_queries):
    with transaction.atomic():  # e.g. the token request that made the first key; it may roll back
        kid = keys.signing_key()["kid"]
        with django_assert_num_queries(1):
            assert keys.signing_key()["kid"] == kid
        with django_assert_num_queries(0):
            keys.signing_key()


def test_a_key_lost_to_a_rollback_is_not_used(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        lost = keys.signing_key()["kid"]
        raise RuntimeError("the request that made the first key failed")
    assert keys.signing_key()["kid"] != lost
    assert list(SigningKey.objects.values_list("state", flat=True)) == [ACTIVE]


def test_signing_within_the_cache_window_costs_no_query(active, clock, django_assert_num_queries):
    keys.reset()
    issue()
    clock(django_settings.SIGNING_KEY_CACHE_SECONDS - 1)
    with django_assert_num_queries(0):
        for _ in range(10):
            issue()
            keys.public_jwks()


def test_another_processs_rotation_is_picked_up_after_the_cache_window(active, clock, monkeypatch, settings):
    token = issue()
    upcoming = rotate_after(0).created
    clock(settings.SIGNING_KEY_CACHE_SECONDS)
    assert upcoming in published()
    # Another process rotates: this one is not told, and keeps its cached keys for a while.
    monkeypatch.setattr(keys, "expire", lambda: None)
    rotate_after(31)
    assert keys.signing_key()["kid"] == active.kid
    clock(settings.SIGNING_KEY_CACHE_SECONDS - 1)
    assert keys.signing_key()["kid"] == active.kid
    clock(1)
    assert keys.signing_key()["kid"] == upcoming
    assert verify_access_token(token)  # the retired key still verifies


def test_refresh_picks_up_a_rotation_at_once(active, monkeypatch):
    monkeypatch.setattr(keys, "expire", lambda: None)
    result = rotate_after(0, force=True)
    assert keys.signing_key()["kid"] == active.kid
    keys.refresh()
    assert keys.signing_key()["kid"] == result.activated


def test_unknown_kids_cost_at_most_one_query_every_few_seconds(active, clock, django_assert_max_num_queries):
    keys.signing_key()
    clock(keys.UNKNOWN_KID_RELOAD_SECONDS)
    with django_assert_max_num_queries(1):
        for i in range(100):
            assert keys.verification_key(f"random-{i}") is None
    clock(keys.UNKNOWN_KID_RELOAD_SECONDS)
    with django_assert_max_num_queries(1):
        for i in range(100):
            assert keys.verification_key("x" * 10_000 + str(i)) is None


def test_a_key_made_by_another_process_is_found_by_its_kid(active, clock, monkeypatch):
    monkeypatch.setattr(keys, "expire", lambda: None)
    imported = flows.import_signing_key(pem=pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    clock(keys.UNKNOWN_KID_RELOAD_SECONDS)
    assert keys.verification_key(imported.kid) is not None


def test_cached_keys_survive_a_database_blip(active, clock, monkeypatch):
    kid = keys.signing_key()["kid"]

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(SigningKey.objects, "all", down)
    clock(django_settings.SIGNING_KEY_CACHE_SECONDS)
    assert keys.signing_key()["kid"] == kid
    assert keys.verification_key(kid) is not None
    keys.reset()
    with pytest.raises(OperationalError):
        keys.signing_key()


def test_parsed_keys_are_reused_across_rereads(active, clock):
    first = keys.signing_key()
    clock(django_settings.SIGNING_KEY_CACHE_SECONDS)
    assert keys.signing_key() is first


# --- JWKS -----------------------------------------------------------------------------------


def test_jwks_publishes_next_active_and_retired_keys(client, active):
    upcoming = rotate_after(0).created
    rotation = rotate_after(31)
    response = client.get("/.well-known/jwks.json")
    published_keys = response.json()["keys"]
    assert [k["kid"] for k in published_keys] == [upcoming, rotation.created, active.kid]  # active first
    for key in published_keys:
        assert key["use"] == "sig" and key["alg"] == "RS256" and key["kty"] == "RSA"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


def test_prepublication_must_exceed_the_jwks_max_age(settings):
    assert checks.signing_key_rotation_check(None) == []
    settings.SIGNING_KEY_PREPUBLISH_SECONDS = keys.JWKS_MAX_AGE
    assert [e.id for e in checks.signing_key_rotation_check(None)] == ["oauth.E005"]


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("table_state", ["empty", "rotation-due"])
def test_concurrent_rotations_make_one_active_key(table_state):
    now = timezone.now()
    if table_state == "rotation-due":
        for state, age in ((ACTIVE, 40 * DAY), (NEXT, DAY)):
            row = keys.new_stored_key(keys.generate_private_key(), state=state, now=now - age)
            row.save()
    results, errors = run_concurrently(lambda: flows.rotate_signing_keys(now=now), 6)
    assert not errors, errors
    assert SigningKey.objects.filter(state=ACTIVE).count() == 1
    assert SigningKey.objects.filter(state=NEXT).count() == 1
    assert sum(1 for r in results if r.activated) == 1
    assert sum(1 for r in results if r.changed) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_starts_install_one_key(settings):
    settings.SIGNING_KEY_PEM = None

    def first_start():
        keys.reset()  # each thread plays a fresh process
        return keys.signing_key()["kid"]

    results, errors = run_concurrently(first_start, 4)
    assert not errors, errors
    assert SigningKey.objects.count() == 1
    assert set(results) == {SigningKey.objects.get().kid}


# --- Commands -------------------------------------------------------------------------------


def command(name, *args):
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_rotate_command(active):
    assert "published next key" in command("rotate_signing_keys")
    assert "nothing to do" in command("rotate_signing_keys")
    assert "now signing with" in command("rotate_signing_keys", "--force")
    assert keys.signing_key()["kid"] != active.kid


def test_rotate_command_works_while_the_signing_key_check_fails(settings):
    settings.SIGNING_KEY_DEV_GENERATE = False
    assert checks.signing_key_check(None)  # no key yet: the check fails...
    for name in ("rotate_signing_keys", "import_signing_key"):
        # ...and the commands that fix it do not run the checks first (manage.py would).
        assert load_command_class("oauth", name).requires_system_checks == []
    command("rotate_signing_keys")
    assert checks.signing_key_check(None) == []


def test_rotate_command_help_warns_about_force():
    from oauth.management.commands.rotate_signing_keys import Command

    parser = Command().create_parser("manage.py", "rotate_signing_keys")
    assert "Emergency" in parser.format_help()


@pytest.fixture
def key_file(tmp_path):
    def write(material):
        path = tmp_path / "key.pem"
        path.write_bytes(material)
        return str(path)

    return write


def test_import_makes_the_next_key(active, key_file):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    output = command("import_signing_key", "--file", key_file(pem(private)))
    kid = jwk.JWK.from_pem(pem(private)).thumbprint()
    assert kid in output and state_of(kid) == NEXT
    assert kid in published() and keys.signing_key()["kid"] == active.kid


def test_import_replaces_a_next_key_that_never_signed(active, key_file):
    generated = rotate_after(0).created
    command(
        "import_signing_key", "--file", key_file(pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    )
    assert not SigningKey.objects.filter(kid=generated).exists()
    assert SigningKey.objects.filter(state=NEXT).count() == 1


def test_import_with_activate_signs_at_once_and_retires_the_old_key(active, key_file):
    token = issue()
    private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    command("import_signing_key", "--file", key_file(pem(private)), "--activate")
    kid = jwk.JWK.from_pem(pem(private)).thumbprint()
    assert state_of(kid) == ACTIVE and state_of(active.kid) == RETIRED
    assert kid_of(issue()) == kid
    assert verify_access_token(token)


def test_import_stores_the_key_encrypted(key_file, db):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    command("import_signing_key", "--file", key_file(pem(private)), "--activate")
    stored = SigningKey.objects.get()
    assert "PRIVATE KEY" not in stored.private_key
    assert kek.decrypt(stored.private_key) == pem(private)


@pytest.mark.parametrize(
    "material, message",
    [
        (lambda: pem(ec.generate_private_key(ec.SECP256R1())), "RSA"),
        (lambda: pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)), "2048"),
        (lambda: pem(rsa.generate_private_key(public_exponent=65537, key_size=2048), b"pass"), "unencrypted"),
        (lambda: b"not a key", "unencrypted"),
    ],
    ids=["ec", "1024-bit", "encrypted", "garbage"],
)
def test_import_refuses_unusable_keys(key_file, material, message):
    with pytest.raises(CommandError, match=message):
        command("import_signing_key", "--file", key_file(material()))
    assert not SigningKey.objects.exists()


def test_import_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        command("import_signing_key", "--file", str(tmp_path / "absent.pem"))


def test_import_refuses_a_key_already_stored(active, key_file):
    path = key_file(keys.signing_key().export_to_pem(private_key=True, password=None))
    with pytest.raises(CommandError, match="already stored"):
        command("import_signing_key", "--file", path)


# --- Admin ----------------------------------------------------------------------------------


def logged_in(user):
    browser = BrowserClient()
    response = browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return browser


@pytest.fixture
def admin_browser(make_user, mfa_not_required):
    return logged_in(make_user(is_staff=True, is_superuser=True))


def test_admin_lists_keys_without_private_keys(admin_browser, active):
    rotate_after(0)
    listing = admin_browser.get("/admin/oauth/signingkey/").content.decode()
    detail = admin_browser.get(f"/admin/oauth/signingkey/{active.pk}/change/")
    assert detail.status_code == 200
    for body in (listing, detail.content.decode()):
        assert active.kid in body
        for row in SigningKey.objects.all():
            assert row.private_key[:40] not in body
        assert "PRIVATE KEY" not in body
    assert "Save" not in detail.content.decode()  # read-only
    assert admin_browser.get("/admin/oauth/signingkey/add/").status_code == 403
    assert admin_browser.get(f"/admin/oauth/signingkey/{active.pk}/delete/").status_code == 403


def test_admin_actions_rotate(admin_browser, active):
    url = "/admin/oauth/signingkey/"
    response = admin_browser.post(url, {"action": "rotate", "_selected_action": [active.pk]}, follow=True)
    assert "published next key" in response.content.decode()
    assert SigningKey.objects.filter(state=NEXT).exists() and state_of(active.kid) == ACTIVE
    admin_browser.post(url, {"action": "rotate_now", "_selected_action": [active.pk]})
    assert state_of(active.kid) == RETIRED


@pytest.mark.usefixtures("mfa_not_required")
def test_admin_rotation_needs_its_own_permission(make_user, active):
    viewer = make_user(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_signingkey"))
    browser = logged_in(viewer)
    listing = browser.get("/admin/oauth/signingkey/").content.decode()
    assert active.kid in listing and "rotate_now" not in listing
    browser.post("/admin/oauth/signingkey/", {"action": "rotate_now", "_selected_action": [active.pk]})
    assert state_of(active.kid) == ACTIVE
    viewer.user_permissions.add(Permission.objects.get(codename="rotate_signingkey"))
    assert "rotate_now" in logged_in(viewer).get("/admin/oauth/signingkey/").content.decode()
