"""The benchmark harness (`make bench`): our server against django-oauth-toolkit (tuned, and as
shipped), Authlib + Flask and node-oidc-provider, measured in the same run on the same machine
(bench/README.md).

What it does, in order:
1. installs wrk if missing (apt-get), checks PostgreSQL and Redis on 127.0.0.1, runs
   `openssl speed -seconds 1 rsa2048` for the report's header;
2. ours: a throwaway database (identity_bench, dropped and recreated), Redis db 9 (flushed),
   a fresh RSA signing key and Fernet key in a temp dir; migrate, seed clients with
   `create_client --json` and users with the ORM; serve with gunicorn (2 sync workers,
   DEBUG=false, CONN_MAX_AGE=600) on a free port on 127.0.0.1; mint a pool of refresh tokens
   and access tokens through the API; count SQL statements per request in-process; warm up;
   drive each scenario with wrk (Lua scripts in bench/lua) and the browser flow with
   bench/flows.py, reading the server's process-tree CPU time around each (CPU ms per
   request); read the workers' peak RSS (VmHWM);
   then the scale pass (BENCH_SCALE=0 skips it): seed a million access-token rows, 100,000
   users and 10,000 clients into the same database with SQL (bench/scale.py), run the wrk
   scenarios again on fresh workers, and drive client credentials while `manage.py
   purge_expired` deletes the expired rows;
3. DOT 3.4.1 tuned (bench/vanilla with VANILLA_PROFILE=tuned, database
   identity_bench_vanilla_tuned), then as shipped (identity_bench_vanilla): the same, for each
   scenario it supports (2 sync workers, as a default gunicorn deployment has it);
4. Authlib + Flask (bench/systems/authlib_app.py), client credentials only, 2 sync workers;
5. node-oidc-provider (bench/node), client credentials only, if Node and npm are there;
6. prints the tables (headline ratios against each peer's best configuration), writes
   bench/results/<timestamp>.json, latest.json and latest.png (or into the directory
   BENCH_RESULTS names).

Modules:
- `config`: the environment knobs (BENCH_*; bench/README.md lists them) and paths;
- `scenarios`: each scenario once (`SCENARIOS`): its label, kind and the request it sends,
  built from a system's endpoint paths and set-up (`Fixture`);
- `systems`: the `System` interface and `measure(system)`, the one way every system is
  measured; `systems.ours`, `systems.vanilla` (both DOT profiles), `systems.authlib_flask` (its app:
  `systems/authlib_app.py`), `systems.node`: one implementation each;
- `load`: wrk and the browser flow as load generators, the refresh pool's minting;
- `scale_pass`: ours' scale pass (seeding with `scale`, the scenarios again, the purge under load);
- `report`: the tables and the chart; `harness`: `main()`, the run in order;
- `server`: a server process (gunicorn, granian, node); `tools`: machine, services, subprocesses;
- scripts run in processes of their own: `flows` (the browser flow's load), `sqlcount` (SQL
  per request, inside the project under test), `scale` (the scale data; a command line too).
"""
