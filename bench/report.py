"""The report: the console and README tables (Markdown), the chart (bench/results/latest.png)."""

from bench.config import CONNECTIONS, DURATION, SERVER, THREADS, WORKERS
from bench.scenarios import LABELS
from bench.tools import log


def fmt_ms(value):
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def fmt_cpu(value):
    """CPU ms per request."""
    if value is None:
        return "-"
    return f"{value:.2f} ms" if value < 10 else f"{value:,.0f} ms"


def fmt_rate(value):
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def fmt_sql(result, key):
    """All statements (data statements: SELECT/INSERT/UPDATE/DELETE), per request or flow."""
    if result.get("sql") is None:
        return "-"
    text = f"{result['sql']} ({result.get('sql_data', '?')})"
    return f"{text}/flow" if key == "flow" else text


SQL_LEGEND = (
    "SQL/req: every statement Django sent for one request, counted in-process, transaction control "
    "(BEGIN, COMMIT, SAVEPOINT, RELEASE) included; in parentheses the data statements alone. The flow "
    "counts its four requests together. Not counted: CONN_HEALTH_CHECKS' SELECT 1 per request."
)


# The peers, in the report's order: key, label. "vanilla_tuned" is DOT's best documented
# configuration, the one the headline ratios use; "vanilla" is DOT as shipped.
PEERS = (
    ("vanilla_tuned", "DOT tuned"),
    ("vanilla", "DOT as shipped"),
    ("authlib", "Authlib + Flask"),
    ("node", "node-oidc-provider"),
)
PEER_DETAIL = {
    "vanilla_tuned": "django-oauth-toolkit, best documented configuration (fast CLIENT_SECRET_HASHER, "
    "CONN_MAX_AGE=600 + CONN_HEALTH_CHECKS, Argon2id at ours' parameters, opaque tokens), 2 sync workers",
    "vanilla": "django-oauth-toolkit as shipped (PBKDF2 client secrets and passwords, CONN_MAX_AGE=0), 2 sync workers",
    "authlib": "Authlib AuthorizationServer + Flask, RS256 JWT (RFC 9068), in-memory clients and tokens, "
    "2 sync workers",
    "node": "1 process, in-memory adapter, RS256 JWT",
}


def scenarios_of(report, name):
    return (report.get(name) or {}).get("scenarios", {})


def ratio(ours, peer):
    """ours' rate over the peer's, as text."""
    if not ours or not peer or not peer.get("rate") or not ours.get("rate"):
        return "-"
    value = ours["rate"] / peer["rate"]
    return f"{value:,.1f}x" if value >= 10 else f"{value:.2f}x"


def table(report):
    """Every scenario of ours beside django-oauth-toolkit, tuned (the headline ratio) and as shipped."""
    ours = scenarios_of(report, "ours")
    tuned, shipped = scenarios_of(report, "vanilla_tuned"), scenarios_of(report, "vanilla")
    lines = [
        "| scenario | ours req/s | ours CPU/req | p50 | p99 | errors | SQL/req | DOT tuned req/s | DOT tuned CPU/req "
        "| **ours/DOT tuned** | DOT as shipped req/s | ours/DOT as shipped |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, label in LABELS:
        o = ours.get(key)
        if o is None:
            continue
        t, v = tuned.get(key), shipped.get(key)
        lines.append(
            f"| {label} | {fmt_rate(o['rate'])} | {fmt_cpu(o.get('cpu_ms'))} | {fmt_ms(o['p50_ms'])} "
            f"| {fmt_ms(o['p99_ms'])} | {o['errors']} | {fmt_sql(o, key)} "
            f"| {fmt_rate(t['rate']) if t else 'n/a'} | {fmt_cpu(t.get('cpu_ms')) if t else 'n/a'} | {ratio(o, t)} "
            f"| {fmt_rate(v['rate']) if v else 'n/a'} | {ratio(o, v)} |"
        )
    return "\n".join(lines)


def peers_table(report):
    """Client credentials, every system: rate and CPU per token beside ours, and the ratios."""
    o = scenarios_of(report, "ours").get("client_credentials")
    lines = [
        "| client-credentials token | req/s | CPU/req | p50 | p99 | errors | ours/peer (req/s) | peer CPU/ours CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = [("ours", "ours (identity)")] + list(PEERS)
    for name, label in rows:
        data = report.get(name) or {}
        r = data.get("scenarios", {}).get("client_credentials")
        if r is None:
            why = data.get("skipped") or data.get("failed") or "not run"
            lines.append(f"| {label} | {why.splitlines()[0][:80]} | | | | | | |")
            continue
        cpu_ratio = "-"
        if o and o.get("cpu_ms") and r.get("cpu_ms"):
            cpu_ratio = f"{r['cpu_ms'] / o['cpu_ms']:.2f}x"
        lines.append(
            f"| {label} | {fmt_rate(r['rate'])} | {fmt_cpu(r.get('cpu_ms'))} | {fmt_ms(r['p50_ms'])} "
            f"| {fmt_ms(r['p99_ms'])} | {r['errors']} | {'-' if name == 'ours' else ratio(o, r)} "
            f"| {'-' if name == 'ours' else cpu_ratio} |"
        )
    return "\n".join(lines)


def headline(report):
    """One line: ours against each peer's best configuration (DOT tuned, not DOT as shipped)."""
    ours = scenarios_of(report, "ours")
    o = ours.get("client_credentials")
    parts = []
    for name, label in (("vanilla_tuned", "DOT tuned"), ("authlib", "Authlib + Flask"), ("node", "node-oidc-provider")):
        r = scenarios_of(report, name).get("client_credentials")
        if r:
            parts.append(f"{label} {ratio(o, r)} (CPU/token {fmt_cpu(o.get('cpu_ms'))} vs {fmt_cpu(r.get('cpu_ms'))})")
    tuned = scenarios_of(report, "vanilla_tuned")
    others = [f"{label} {ratio(ours.get(key), tuned.get(key))}" for key, label in LABELS if key != "client_credentials"
              and ours.get(key) and tuned.get(key)]  # fmt: skip
    if not parts:
        return "Headline: no peer measured in this run."
    text = "Headline, ours/peer against each peer's best configuration: client credentials: " + "; ".join(parts)
    if others:
        text += ". Against DOT tuned: " + "; ".join(others)
    return text + "."


def extra_lines(report):
    lines = [""]
    for name, label in (("vanilla_tuned", "DOT tuned"), ("vanilla", "DOT as shipped")):
        peer = scenarios_of(report, name)
        if not peer:
            continue
        lines.append(f"{label} detail ({PEER_DETAIL[name]}):")
        lines.append("| scenario | req/s | CPU/req | p50 | p99 | errors | SQL/req |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for key, scenario_label in LABELS:
            v = peer.get(key)
            if v:
                lines.append(
                    f"| {scenario_label} | {fmt_rate(v['rate'])} | {fmt_cpu(v.get('cpu_ms'))} | {fmt_ms(v['p50_ms'])} "
                    f"| {fmt_ms(v['p99_ms'])} | {v['errors']} | {fmt_sql(v, key)} |"
                )
        lines.append("")
    lines.append(SQL_LEGEND)
    lines.append(
        "CPU/req: CPU time (user + system) of the server's whole process tree (gunicorn master and workers, "
        "or the node process) during the measured run, over the requests it completed (per flow for the "
        "browser flow); unlike req/s it barely depends on what else runs on the machine."
    )
    lines.append("")
    for name, label in PEERS:
        data = report.get(name) or {}
        if "skipped" in data:
            lines.append(f"{label}: skipped: {data['skipped']}")
        elif "failed" in data:
            lines.append(f"{label}: failed: {data['failed'].splitlines()[0][:200]}")
        elif name in ("authlib", "node"):
            version = data.get("version")
            if isinstance(version, dict):
                version = ", ".join(f"{k} {v}" for k, v in version.items())
            lines.append(f"{label} ({version}): {PEER_DETAIL[name]}")
    lines.append("")
    for name in ("ours", "vanilla_tuned", "vanilla", "authlib", "node"):
        rss = (report.get(name) or {}).get("peak_rss_mib")
        if rss:
            kind = "process" if name == "node" else "worker"
            values = ", ".join(f"{v:.0f} MiB" for v in rss.values())
            before = report[name].get("peak_rss_mib_before_logins")
            if before:
                values += " (before the browser-flow logins: " + ", ".join(f"{v:.0f}" for v in before.values()) + ")"
            lines.append(f"peak RSS per {kind} (VmHWM), {name}: {values}")
    return "\n".join(lines)


def machine_line(report):
    machine = report["machine"]
    speed = machine.get("openssl_speed_rsa2048") or {}
    if "sign_per_s" in speed:
        rsa = f"openssl speed rsa2048: {speed['sign_per_s']:,.0f} sign/s, {speed['verify_per_s']:,.0f} verify/s"
        rsa += " (1 core)"
    else:
        rsa = f"openssl speed rsa2048: {speed.get('error', 'not measured')}"
    return f"{machine['nproc']} cores (nproc), {machine['cpu_model']}; {rsa}"


def scale_lines(report):
    """The scale pass: the same scenarios on a database of a million token rows, and the purge."""
    scale = report.get("scale") or {}
    if "scenarios" not in scale:
        return f"scale pass: {scale.get('skipped') or scale.get('failed') or 'not run'}"
    seed, params, empty = scale["seed"], scale["parameters"], report["ours"]["scenarios"]
    lines = [
        f"Scale: {seed['access_tokens']:,} access-token rows ({seed['access_tokens_expired']:,} expired, "
        f"{seed['access_tokens_expired_anchoring_a_live_refresh_token']:,} expired but anchoring a live refresh "
        f"token, {seed['access_tokens_live']:,} live), {seed['users']:,} users, {seed['clients']:,} clients, seeded "
        f"with SQL in {seed['seconds']['total']} s; {params['duration_s']} s per scenario, same server and clients",
        "",
        "| scenario | empty req/s | scale req/s | ratio scale/empty | scale p50 | scale p99 | scale errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, label in LABELS:
        r, e = scale["scenarios"].get(key), empty.get(key)
        if r is None:
            continue
        ratio = scale.get("ratio_scale_to_empty", {}).get(key)
        lines.append(
            f"| {label} | {fmt_rate(e['rate']) if e else '-'} | {fmt_rate(r['rate'])} "
            f"| {f'{ratio:.2f}x' if ratio else '-'} | {fmt_ms(r['p50_ms'])} | {fmt_ms(r['p99_ms'])} | {r['errors']} |"
        )
    purge = scale["purge_under_load"]
    during, without = purge["during_purge"], purge["without_purge"]
    lines += [
        "",
        f"Purge under load: `purge_expired --batch-size {params['purge_batch_size']}` with "
        f"{purge['expired_access_tokens_before']:,} expired access tokens present deleted {purge['rows_deleted']:,} "
        f"rows in {purge['purge_seconds']} s ({purge['rows_per_s']:,} rows/s; {purge['transactions']} transactions, "
        f"longest {purge['longest_transaction_ms']} ms) while wrk drove client credentials:",
        "",
        "| client-credentials token | req/s | p50 | p99 | errors |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, r in (("without the purge (scale pass)", without), ("during the purge", during)):
        lines.append(
            f"| {label} | {fmt_rate(r['rate'])} | {fmt_ms(r['p50_ms'])} | {fmt_ms(r['p99_ms'])} | {r['errors']} |"
        )
    return "\n".join(lines)


def chart(report, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: no chart (pip install -r requirements/bench.txt)")
        return False
    systems = [("ours", "ours (identity)", "#1f6feb")]
    for name, legend, color in (
        ("vanilla_tuned", "DOT 3.4.1 tuned", "#666666"),
        ("vanilla", "DOT 3.4.1 as shipped", "#bbbbbb"),
        ("authlib", "Authlib + Flask (in-memory)", "#bf8700"),
        ("node", "node-oidc-provider (in-memory)", "#2da44e"),
    ):
        if "scenarios" in (report.get(name) or {}):
            systems.append((name, legend, color))
    labels = [label for key, label in LABELS if key in report["ours"]["scenarios"]]
    keys = [key for key, _ in LABELS if key in report["ours"]["scenarios"]]
    fig, ax = plt.subplots(figsize=(11, 5.5))
    width = 0.8 / len(systems)
    for i, (name, legend, color) in enumerate(systems):
        values = [report[name].get("scenarios", {}).get(k, {}).get("rate") for k in keys]
        xs = [j + (i - (len(systems) - 1) / 2) * width for j in range(len(keys))]
        bars = ax.bar(
            [x for x, v in zip(xs, values, strict=True) if v],
            [v for v in values if v],
            width,
            label=legend,
            color=color,
        )
        for bar in bars:
            height = bar.get_height()
            text = f"{height:,.0f}" if height >= 10 else f"{height:.1f}"
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, height), ha="center", va="bottom", fontsize=7)
    targets = {"client_credentials": 1000, "refresh": 400, "flow": 40, "introspect": 1500, "api_me": 2000}
    for j, key in enumerate(keys):
        if key in targets:
            ax.hlines(targets[key], j - 0.45, j + 0.45, colors="#cf222e", linestyles="dashed", linewidth=1.2)
    ax.plot([], [], color="#cf222e", linestyle="dashed", label="target (issue 5)")
    ax.set_yscale("log")
    highest = max(
        (r["rate"] for name, _, _ in systems for r in report[name].get("scenarios", {}).values() if r.get("rate")),
        default=10,
    )
    ax.set_ylim(bottom=1, top=max(highest, 2000) * 10)  # room for the legend above the bars
    ax.set_ylabel("requests/s (flows/s for the browser flow), log scale")
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels([label.replace(" (", "\n(") for label in labels], fontsize=8)
    machine = report["machine"]
    ax.set_title(
        f"identity benchmark {report['timestamp']} — {machine['nproc']} cores, {machine['cpu_model']}, "
        f"{CONNECTIONS} connections, {serving()}",
        fontsize=9,
    )
    ax.legend(fontsize=8, loc="upper center", ncol=3)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def serving():
    if SERVER == "granian":
        ours = f"granian {WORKERS} WSGI workers x {THREADS} blocking threads"
    else:
        ours = f"{WORKERS} gthread workers x {THREADS} threads" if THREADS > 1 else f"{WORKERS} sync workers"
    return f"ours {ours}, peers {WORKERS} sync workers (node: 1 process)"


def add_markdown(report):
    """The tables as the JSON keeps them (and bench/README.md quotes them)."""
    report["headline"] = headline(report)
    report["table_markdown"] = table(report)
    report["peers_markdown"] = peers_table(report)
    report["extra"] = extra_lines(report)
    report["scale_markdown"] = scale_lines(report)


def console(report):
    """What `make bench` prints at the end: a heading, then the tables of add_markdown()."""
    return "\n".join(
        [
            "",
            f"identity benchmark {report['timestamp']} — {machine_line(report)}",
            f"wrk {CONNECTIONS} connections x {DURATION}s per scenario; {serving()}; "
            f"load average at start {report['loadavg']['start']} (other jobs on this machine depress req/s; "
            "CPU/req and the ratios of one run are what count)",
            "",
            report["headline"],
            "",
            report["table_markdown"],
            "",
            report["peers_markdown"],
            report["extra"],
            "",
            report["scale_markdown"],
            "",
        ]
    )
