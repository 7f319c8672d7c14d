"""The harness's settings: every knob is an environment variable (bench/README.md lists them)."""

import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
GUNICORN = str(Path(PY).parent / "gunicorn")
GRANIAN = str(Path(PY).parent / "granian")
# BENCH_RESULTS: where the JSON and the chart go (bench/results, committed, unless told otherwise:
# a short exploratory run should not replace latest.json).
RESULTS = Path(os.environ.get("BENCH_RESULTS") or BENCH / "results")

DURATION = int(os.environ.get("BENCH_DURATION", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WRK_THREADS = int(os.environ.get("BENCH_WRK_THREADS", "2"))
FLOW_THREADS = int(os.environ.get("BENCH_FLOW_THREADS", "16"))
POOL_TARGET = int(os.environ.get("BENCH_POOL", "8000"))
# Minting for 3x the scenario's duration yields enough tokens for the refresh run whatever
# the server's speed (a refresh costs about what an authorize + exchange pair costs).
MINT_SECONDS = int(os.environ.get("BENCH_MINT_SECONDS", str(3 * DURATION)))
VANILLA_POOL = 400  # vanilla refreshes are PBKDF2-bound (a few per second)
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
# Ours runs as production does (docker/Dockerfile, `make serve`): sync workers. For exploring,
# BENCH_GUNICORN_THREADS=N serves ours with gthread workers of N threads (vanilla stays sync).
THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "1"))
# BENCH_SERVER=granian serves ours with granian's WSGI interface instead of gunicorn (exploring
# only: production runs gunicorn; granian parses HTTP in Rust and keeps connections alive).
SERVER = os.environ.get("BENCH_SERVER", "gunicorn")
if SERVER not in ("gunicorn", "granian"):
    raise SystemExit(f"BENCH_SERVER must be gunicorn or granian, not {SERVER!r}")
# BENCH_ONLY_OURS=1: skip the vanilla and node baselines (for exploring; no ratios then).
ONLY_OURS = bool(os.environ.get("BENCH_ONLY_OURS"))
SKIP_NODE = bool(os.environ.get("BENCH_SKIP_NODE"))
# BENCH_SKIP_SHIPPED=1: leave out vanilla DOT as shipped (PBKDF2: its runs are the slowest; the
# headline ratios are against its tuned profile anyway).
SKIP_SHIPPED = bool(os.environ.get("BENCH_SKIP_SHIPPED"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
# BENCH_DB_SUFFIX and BENCH_REDIS_DB: for two runs on one machine (each drops its databases
# and flushes its Redis database at the start).
DB_SUFFIX = os.environ.get("BENCH_DB_SUFFIX", "")
OURS_DB, VANILLA_DB = f"identity_bench{DB_SUFFIX}", f"identity_bench_vanilla{DB_SUFFIX}"
VANILLA_TUNED_DB = f"identity_bench_vanilla_tuned{DB_SUFFIX}"
REDIS_URL = f"redis://127.0.0.1:6379/{int(os.environ.get('BENCH_REDIS_DB', '9'))}"
# The scale pass (issue 5, "Scale"; bench/scale.py): after ours' scenarios, seed this many
# rows into ours' database with SQL, run the scenarios again for BENCH_SCALE_DURATION seconds
# each, then drive client credentials while `purge_expired` deletes the expired rows.
SCALE = os.environ.get("BENCH_SCALE", "1") != "0"
SCALE_TOKENS = int(os.environ.get("BENCH_SCALE_TOKENS", "1000000"))
SCALE_USERS = int(os.environ.get("BENCH_SCALE_USERS", "100000"))
SCALE_CLIENTS = int(os.environ.get("BENCH_SCALE_CLIENTS", "10000"))
SCALE_DURATION = int(os.environ.get("BENCH_SCALE_DURATION", str(max(3, DURATION // 2))))
SCALE_WARMUP = min(WARMUP, 1)  # the workers are warm: one second re-fills the connections
SCALE_BATCH = int(os.environ.get("BENCH_SCALE_BATCH", "5000"))  # purge_expired --batch-size
REDIRECT_URI = "https://127.0.0.1/callback"  # never followed: the code is read from Location
N_USERS = 8
