"""Scale data for the benchmark (issue 5, "Scale"), written with plain SQL in seconds.

Seeds, into a migrated database of ours, with `INSERT ... SELECT ... FROM generate_series`
(one statement per table, no Python per row):

- `users` users `scale-user-<n>` (unusable password "!", unique username, email and subject);
- `clients` confidential clients `scale-client-<n>` (one in four client-credentials, the others
  authorization code + refresh token), with a dummy client-secret hash (never checked);
- access-token rows in id order as a live table has them (oldest first): `expired` expired ones
  spread over the last 28 days, interleaved with `anchored` more expired ones that a live
  refresh token still points to (`purge_expired` must keep those), then `live` ones that
  expire in the next 5 to 15 minutes. Three in four belong to a user (with a token family and
  a sid), one in four is a client-credentials token. The token column is empty, as our
  settings store tokens (COMPLIANT_BCP_RFC9700_TOKEN_STORAGE: checksum only); the checksum is
  the SHA-256 of a unique name, so it is unique and as random as a real one. Anchored rows
  have a `jti` of `scale-anchor-<n>`;
- one live refresh token for each anchored access token;

then VACUUM (ANALYZE) of the four tables (autovacuum may be off, and a table that was never
analyzed or vacuumed does not behave like a production one) and a CHECKPOINT, so the writes of
the seeding are not flushed during the measurement that follows.

    python bench/scale.py --database identity_scale [--users N] [--clients N] [--expired N]
        [--anchored N] [--live N]        (prints what it seeded, as JSON)

Used by the scale pass (bench/scale_pass.py, BENCH_SCALE_*), and on its own to time `manage.py purge_expired`.
"""

import argparse
import json
import time

PREFIX = "scale-"
PG = "postgresql://postgres@127.0.0.1:5432/{database}"
TABLES = ("accounts_user", "oauth_client", "oauth_accesstoken", "oauth_refreshtoken")
# Under REFRESH_TOKEN_EXPIRE_SECONDS' default (30 days): the purge keeps every anchored row.
EXPIRED_SPAN_SECONDS = 28 * 24 * 3600
# ACCESS_TOKEN_EXPIRE_SECONDS' default: created = expires - lifetime.
ACCESS_TOKEN_LIFETIME_SECONDS = 900

USERS_SQL = """
INSERT INTO accounts_user (password, last_login, is_superuser, username, first_name, last_name,
                           is_staff, is_active, date_joined, subject, email{extra_columns})
SELECT '!', NULL, false, %(prefix)s || 'user-' || g, '', '', false, true, now(),
       gen_random_uuid()::text, %(prefix)s || 'user-' || g || '@scale.invalid'{extra_values}
FROM generate_series(1, %(users)s) AS g
"""

CLIENTS_SQL = """
INSERT INTO oauth_client (client_id, redirect_uris, post_logout_redirect_uris, client_type,
                          authorization_grant_type, client_secret, hash_client_secret, name,
                          skip_authorization, created, updated, algorithm, allowed_origins,
                          registration_source, cimd_expires_at, grant_types, allowed_scopes,
                          can_introspect_any, user_id, backchannel_logout_session_required,
                          backchannel_logout_uri{extra_columns})
SELECT %(prefix)s || 'client-' || g,
       CASE WHEN g %% 4 = 0 THEN '' ELSE 'https://app' || g || '.scale.invalid/callback' END,
       '', 'confidential',
       CASE WHEN g %% 4 = 0 THEN 'client-credentials' ELSE 'authorization-code' END,
       'client_secret_hmac$scale$' || md5(g::text), true, 'Scale client ' || g, false, now(), now(),
       '', '', 'manual', NULL,
       CASE WHEN g %% 4 = 0 THEN 'client_credentials' ELSE 'authorization_code refresh_token' END,
       '', false, NULL, false, ''{extra_values}
FROM generate_series(1, %(clients)s) AS g
"""

# Rows 1..old are expired (every `every`-th of them, up to `anchored`, is an anchor); the
# rest are live. Users and clients are spread over the seeded ones (ids checked contiguous).
ACCESS_TOKENS_SQL = """
INSERT INTO oauth_accesstoken (token, token_checksum, expires, scope, resource, created, updated,
                               jti, token_family, user_id, application_id, id_token_id,
                               source_refresh_token_id, sid{extra_columns})
SELECT '', s.checksum, s.expires, 'profile', '[]'::jsonb, s.expires - %(lifetime)s * interval '1 second',
       s.expires - %(lifetime)s * interval '1 second',
       CASE WHEN s.anchor THEN %(prefix)s || 'anchor-' || s.g ELSE substr(s.checksum, 33, 22) END,
       CASE WHEN s.cc THEN NULL ELSE substr(s.checksum, 1, 32)::uuid END,
       CASE WHEN s.cc THEN NULL ELSE %(user0)s + s.user_index END,
       %(client0)s + s.g %% %(clients)s, NULL, NULL,
       CASE WHEN s.cc THEN '' ELSE %(prefix)s || 'sid-' || s.user_index END{extra_values}
FROM (
    SELECT g, anchor, encode(sha256(convert_to(%(prefix)s || 'at-' || g, 'UTF8')), 'hex') AS checksum,
           g %% 4 = 1 AND NOT anchor AS cc, (g * 7919) %% %(users)s AS user_index,
           CASE WHEN g <= %(old)s
                THEN now() - (60 + (%(old)s - g) * %(step)s) * interval '1 second'
                ELSE now() + (300 + (g - %(old)s) * %(live_step)s) * interval '1 second'
           END AS expires
    FROM (
        SELECT g, g <= %(old)s AND g %% %(every)s = 0 AND g / %(every)s <= %(anchored)s AS anchor
        FROM generate_series(1::bigint, %(total)s) AS g
    ) AS numbered
) AS s
"""

REFRESH_TOKENS_SQL = """
INSERT INTO oauth_refreshtoken (token, token_checksum, token_family, resource, created, updated,
                                revoked, auth_time, access_token_id, application_id, user_id, sid{extra_columns})
SELECT '', encode(sha256(convert_to(%(prefix)s || 'rt-' || a.id, 'UTF8')), 'hex'),
       a.token_family, '[]'::jsonb, a.created, a.created, NULL, NULL, a.id, a.application_id, a.user_id,
       a.sid{extra_values}
FROM oauth_accesstoken AS a
WHERE a.jti LIKE %(anchor_pattern)s
"""


# Secondary indexes of the access-token table: dropped before the insert and rebuilt after it,
# in the same transaction: a B-tree built once from sorted rows costs far less than a million
# random-key inserts into each of the table's indexes (bench/README.md, "Scale", has the times).
UNIQUE_CONSTRAINTS_SQL = """
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'
"""
PLAIN_INDEXES_SQL = """
SELECT i.relname, pg_get_indexdef(x.indexrelid)
FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid
WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = x.indexrelid)
"""


def split(total, *, live_share=0.02, anchored_share=0.02):
    """`seed`'s expired, anchored and live counts for `total` access-token rows."""
    live, anchored = int(total * live_share), int(total * anchored_share)
    return {"expired": total - live - anchored, "anchored": anchored, "live": live}


def _id_range(cursor, table, column, pattern, expected):
    cursor.execute(f"SELECT min(id), max(id), count(*) FROM {table} WHERE {column} LIKE %s", [pattern])  # noqa: S608
    low, high, count = cursor.fetchone()
    if count != expected or high - low + 1 != count:
        raise RuntimeError(f"{table}: expected {expected} contiguous seeded ids, found {count} in [{low}, {high}]")
    return low


def _drop_secondary_indexes(cursor, table):
    """Drop the indexes of `table` but its primary key; return the statements that rebuild them."""
    cursor.execute(UNIQUE_CONSTRAINTS_SQL, [table])
    constraints = cursor.fetchall()
    cursor.execute(PLAIN_INDEXES_SQL, [table])
    indexes = cursor.fetchall()
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    rebuild = [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for name, definition in constraints]
    return rebuild + [definition for _, definition in indexes]


# The empty value of each column type that a NOT NULL column without a database default gets
# when the INSERTs above do not name it (Django keeps defaults in Python, not in the schema):
# the tables grow fields (profile claims, client metadata) that the scale rows do not need.
EMPTY_BY_TYPE = {
    "boolean": "false",
    "character varying": "''",
    "text": "''",
    "jsonb": "'[]'::jsonb",
    "integer": "0",
    "bigint": "0",
    "smallint": "0",
    "timestamp with time zone": "now()",
}


def _with_unnamed_columns(cursor, table, sql):
    """`sql` (an INSERT … SELECT with `{extra_columns}` and `{extra_values}` markers) completed with
    every NOT NULL column of `table` that has no default and that it does not name."""
    named = set(sql[sql.index("(") + 1 : sql.index(")")].replace("{extra_columns}", "").replace(" ", "").split(","))
    named = {name.strip() for name in named}
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s"
        " AND is_nullable = 'NO' AND column_default IS NULL ORDER BY ordinal_position",
        [table],
    )
    extra = [(name, kind) for name, kind in cursor.fetchall() if name not in named and name != "id"]
    unknown = [f"{name} ({kind})" for name, kind in extra if kind not in EMPTY_BY_TYPE]
    if unknown:
        raise RuntimeError(f"{table}: no empty value for NOT NULL column(s) {', '.join(unknown)}")
    return sql.format(
        extra_columns="".join(f", {name}" for name, _ in extra),
        extra_values="".join(f", {EMPTY_BY_TYPE[kind]}" for _, kind in extra),
    )


def seed(dsn, *, users=100_000, clients=10_000, expired=960_000, anchored=20_000, live=20_000):
    """Seed the scale data into the database at `dsn`; returns counts and seconds per step."""
    import psycopg

    if min(users, clients) < 1 or min(expired, anchored, live) < 0:
        raise ValueError("need at least one user and one client, and no negative count")
    old = expired + anchored
    params = {
        "prefix": PREFIX,
        "users": users,
        "clients": clients,
        "old": old,
        "total": old + live,
        "anchored": anchored,
        "every": max(1, old // anchored) if anchored else old + 1,
        "step": EXPIRED_SPAN_SECONDS / max(old, 1),
        "live_step": 600 / max(live, 1),
        "lifetime": ACCESS_TOKEN_LIFETIME_SECONDS,
        "anchor_pattern": f"{PREFIX}anchor-%",
    }
    seconds = {}
    started = time.monotonic()
    with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM accounts_user WHERE username = %s", [f"{PREFIX}user-1"])
        if cursor.fetchone():
            raise RuntimeError("this database already holds the scale data")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # The rows point only at users and clients seeded just above (ids checked): skip the
        # foreign-key triggers, whose deferred checks would otherwise run row by row at COMMIT.
        cursor.execute("SET LOCAL session_replication_role = replica")
        step = time.monotonic()
        cursor.execute(_with_unnamed_columns(cursor, "accounts_user", USERS_SQL), params)
        params["user0"] = _id_range(cursor, "accounts_user", "username", f"{PREFIX}user-%", users)
        cursor.execute(_with_unnamed_columns(cursor, "oauth_client", CLIENTS_SQL), params)
        params["client0"] = _id_range(cursor, "oauth_client", "client_id", f"{PREFIX}client-%", clients)
        seconds["users_and_clients"] = round(time.monotonic() - step, 1)
        step = time.monotonic()
        rebuild = _drop_secondary_indexes(cursor, "oauth_accesstoken")
        cursor.execute(_with_unnamed_columns(cursor, "oauth_accesstoken", ACCESS_TOKENS_SQL), params)
        seconds["access_tokens"] = round(time.monotonic() - step, 1)
        step = time.monotonic()
        for statement in rebuild:
            cursor.execute(statement)
        seconds["access_token_indexes"] = round(time.monotonic() - step, 1)
        step = time.monotonic()
        cursor.execute(_with_unnamed_columns(cursor, "oauth_refreshtoken", REFRESH_TOKENS_SQL), params)
        refresh_tokens = cursor.rowcount
        seconds["refresh_tokens"] = round(time.monotonic() - step, 1)
    step = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
        conn.execute("CHECKPOINT")
    seconds["vacuum_analyze_checkpoint"] = round(time.monotonic() - step, 1)
    seconds["total"] = round(time.monotonic() - started, 1)
    return {
        "users": users,
        "clients": clients,
        "access_tokens": old + live,
        "access_tokens_expired": expired,
        "access_tokens_expired_anchoring_a_live_refresh_token": anchored,
        "access_tokens_live": live,
        "refresh_tokens": refresh_tokens,
        "seconds": seconds,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a migrated database of ours on 127.0.0.1:5432")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--expired", type=int, default=960_000, help="expired access tokens nothing points to")
    parser.add_argument("--anchored", type=int, default=20_000, help="expired access tokens a live refresh token keeps")
    parser.add_argument("--live", type=int, default=20_000, help="access tokens not expired yet")
    args = parser.parse_args()
    result = seed(
        PG.format(database=args.database),
        users=args.users,
        clients=args.clients,
        expired=args.expired,
        anchored=args.anchored,
        live=args.live,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
