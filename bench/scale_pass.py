"""Ours' scale pass (issue 5, "Scale"): a million token rows, the scenarios again, the purge under load.

After ours' scenarios, on the same server and database: seed the scale data with SQL
(bench/scale.py), run the wrk scenarios again on fresh workers, then drive client credentials
while `manage.py purge_expired` deletes the expired rows.
"""

# ruff: noqa: S603
# (the harness runs the management command it measures, by design)

import dataclasses
import hashlib
import re
import signal
import subprocess
import time
from pathlib import Path

import requests as http

from bench import scale
from bench.config import (
    OURS_DB,
    PY,
    ROOT,
    SCALE_BATCH,
    SCALE_CLIENTS,
    SCALE_DURATION,
    SCALE_TOKENS,
    SCALE_USERS,
    SCALE_WARMUP,
)
from bench.load import drain, run_scenarios, wrk_result, wrk_start
from bench.report import fmt_ms
from bench.scenarios import BY_KEY, requests_for
from bench.tools import log


def run(system, requests, fixture, results, *, pool):
    """The scale pass's report: its results and the ratio scale/empty per scenario, or
    {"failed": why} (the run on the empty database stands either way)."""
    try:
        report = seed_and_load(system, requests, fixture, pool=pool)
    except (RuntimeError, OSError, ValueError, subprocess.SubprocessError, http.RequestException) as exc:
        log(f"scale pass failed: {exc}")
        return {"failed": str(exc)[:2000]}
    report["ratio_scale_to_empty"] = {
        key: round(r["rate"] / results[key]["rate"], 3)
        for key, r in report["scenarios"].items()
        if results.get(key, {}).get("rate")
    }
    return report


def seed_and_load(system, requests, fixture, *, pool):
    import psycopg

    server, paths = system.server, system.paths
    started = time.monotonic()
    dsn = f"postgresql://postgres@127.0.0.1:5432/{OURS_DB}"
    shares = scale.split(SCALE_TOKENS)
    log(
        f"scale: seeding {SCALE_TOKENS:,} access tokens ({shares['expired']:,} expired, {shares['anchored']:,} "
        f"expired but anchoring a live refresh token, {shares['live']:,} live), {SCALE_USERS:,} users, "
        f"{SCALE_CLIENTS:,} clients with SQL"
    )
    try:
        seeded = scale.seed(dsn, users=SCALE_USERS, clients=SCALE_CLIENTS, **shares)
    except psycopg.Error as exc:
        raise RuntimeError(f"seeding failed: {exc}") from exc
    log(f"scale: seeded in {seeded['seconds']['total']}s ({seeded['seconds']})")
    # The refresh run used part of the pool: what it left is still live (checked by checksum).
    left = unused_refresh_tokens(dsn, pool)
    server.restart()  # fresh workers, as for the run on the empty database
    token_url, web_auth = server.base + paths["token"], requests["refresh"]["auth"]
    fresh = [refresh_once(token_url, web_auth, token)["access_token"] for token in left[:2]]
    if len(fresh) < 2:
        raise RuntimeError("scale: no unused refresh tokens left (raise BENCH_POOL or BENCH_MINT_SECONDS)")
    pool_file = Path(system.tmp) / "ours-scale-pool.txt"
    pool_file.write_text("\n".join(left[2:]) + "\n")
    log(f"scale: {len(left) - 2} unused refresh tokens for the refresh run")
    # The same scenarios but the browser flow, with fresh tokens for introspection and /api/me.
    at_scale = dataclasses.replace(fixture, introspect_token=fresh[0], api_token=fresh[1], refresh_pool=pool_file)
    keys = [key for key in system.scenarios if BY_KEY[key].at_scale]
    results = run_scenarios(
        server, requests_for(paths, at_scale, keys), pool_file=pool_file, flow=None, tmp=system.tmp,
        name="ours at scale", duration=SCALE_DURATION, warmup=SCALE_WARMUP,
    )  # fmt: skip
    drain(server)
    under_load = purge_under_load(server, requests["client_credentials"], env=system.env, dsn=dsn)
    under_load["without_purge"] = {k: results["client_credentials"][k] for k in ("rate", "p50_ms", "p99_ms", "errors")}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CHECKPOINT")  # the purge's writes are flushed now, not during the next system's run
    return {
        "parameters": {
            "tokens": SCALE_TOKENS,
            "users": SCALE_USERS,
            "clients": SCALE_CLIENTS,
            "duration_s": SCALE_DURATION,
            "warmup_s": SCALE_WARMUP,
            "purge_batch_size": SCALE_BATCH,
        },
        "seed": seeded,
        "refresh_pool_left": len(left) - 2,
        "scenarios": results,
        "purge_under_load": under_load,
        "elapsed_s": round(time.monotonic() - started, 1),
    }


def unused_refresh_tokens(dsn, tokens):
    """The tokens of `tokens` still live (not rotated by the refresh run), in their order."""
    import psycopg

    checksums = {hashlib.sha256(token.encode()).hexdigest(): token for token in tokens}
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT token_checksum FROM oauth_refreshtoken WHERE revoked IS NULL AND token_checksum = ANY(%s)",
            [list(checksums)],
        ).fetchall()
    live = {row[0] for row in rows}
    return [token for checksum, token in checksums.items() if checksum in live]


def refresh_once(token_url, auth, refresh_token):
    response = http.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers={"Authorization": auth},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


PURGE_LINE = re.compile(r"^(?P<name>\S+): (?P<rows>\d+) deleted in (?P<seconds>[\d.]+) s, (?P<transactions>\d+) "
                        r"transactions, longest (?P<longest_ms>\d+) ms$", re.M)  # fmt: skip


def purge_under_load(server, request, *, env, dsn):
    """wrk on `request` from just before `manage.py purge_expired -v 2` starts until it ends."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        expired_rows = conn.execute("SELECT count(*) FROM oauth_accesstoken WHERE expires < now()").fetchone()[0]
    log(f"scale: purge_expired --batch-size {SCALE_BATCH} with {expired_rows:,} expired access tokens, under wrk")
    load = wrk_start(server.base, request, duration=3600)  # stopped by SIGINT when the purge ends
    try:
        time.sleep(0.5)
        started = time.monotonic()
        purge = subprocess.run(
            [PY, "manage.py", "purge_expired", "-v", "2", "--batch-size", str(SCALE_BATCH)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        seconds = time.monotonic() - started
    finally:
        load.send_signal(signal.SIGINT)
        stdout, _ = load.communicate(timeout=60)
    if purge.returncode != 0:
        raise RuntimeError(f"purge_expired failed ({purge.returncode}):\n{purge.stderr[-3000:]}")
    during = wrk_result(stdout)
    purgers = {m["name"]: m.groupdict() for m in PURGE_LINE.finditer(purge.stdout)}
    tokens = purgers.get("oauth.tokens", {})
    rows = sum(int(p["rows"]) for p in purgers.values())
    result = {
        "expired_access_tokens_before": expired_rows,
        "purge_seconds": round(seconds, 1),
        "rows_deleted": rows,
        "rows_per_s": round(rows / seconds) if seconds else None,
        "transactions": sum(int(p["transactions"]) for p in purgers.values()),
        "longest_transaction_ms": max((int(p["longest_ms"]) for p in purgers.values()), default=None),
        "tokens_purger": tokens,
        "purge_output": purge.stdout.strip().splitlines(),
        "during_purge": during,
    }
    log(
        f"  -> deleted {rows:,} rows in {seconds:.1f}s ({result['rows_per_s']:,}/s, longest transaction "
        f"{result['longest_transaction_ms']} ms); token endpoint meanwhile {during['rate']:.1f}/s, "
        f"p99 {fmt_ms(during['p99_ms'])}, errors {during['errors']}"
    )
    return result
