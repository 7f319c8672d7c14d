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


def table(report):
    ours = report["ours"]["scenarios"]
    vanilla = report["vanilla"].get("scenarios", {})
    lines = [
        "| scenario | ours req/s | p50 | p99 | errors | SQL/req | vanilla req/s | ratio ours/vanilla |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, label in LABELS:
        o, v = ours.get(key), vanilla.get(key)
        if o is None:
            continue
        ratio = f"{o['rate'] / v['rate']:,.1f}x" if v and v["rate"] else "-"
        sql_text = fmt_sql(o, key)
        lines.append(
            f"| {label} | {fmt_rate(o['rate'])} | {fmt_ms(o['p50_ms'])} | {fmt_ms(o['p99_ms'])} | {o['errors']} "
            f"| {sql_text} | {fmt_rate(v['rate']) if v else 'n/a'} | {ratio} |"
        )
    return "\n".join(lines)


def extra_lines(report):
    lines = []
    vanilla = report["vanilla"].get("scenarios", {})
    if vanilla:
        lines.append("")
        lines.append("vanilla django-oauth-toolkit detail:")
        lines.append("| scenario | req/s | p50 | p99 | errors | SQL/req |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
        for key, label in LABELS:
            v = vanilla.get(key)
            if v:
                sql = fmt_sql(v, key)
                lines.append(
                    f"| {label} | {fmt_rate(v['rate'])} | {fmt_ms(v['p50_ms'])} | {fmt_ms(v['p99_ms'])} "
                    f"| {v['errors']} | {sql} |"
                )
    lines.append("")
    lines.append(SQL_LEGEND)
    node = report["node"]
    lines.append("")
    if "skipped" in node:
        lines.append(f"node-oidc-provider: skipped: {node['skipped']}")
    else:
        n = node["scenarios"]["client_credentials"]
        o = report["ours"]["scenarios"]["client_credentials"]
        lines.append(
            f"node-oidc-provider {node['version']} (1 process, in-memory, RS256 JWT) client credentials: "
            f"{fmt_rate(n['rate'])} req/s, p50 {fmt_ms(n['p50_ms'])}, p99 {fmt_ms(n['p99_ms'])}, "
            f"errors {n['errors']}; ratio ours/node {o['rate'] / n['rate']:.2f}x"
        )
    lines.append("")
    for name in ("ours", "vanilla", "node"):
        rss = report[name].get("peak_rss_mib")
        if rss:
            kind = "process" if name == "node" else "worker"
            values = ", ".join(f"{v:.0f} MiB" for v in rss.values())
            before = report[name].get("peak_rss_mib_before_logins")
            if before:
                values += " (before the browser-flow logins: " + ", ".join(f"{v:.0f}" for v in before.values()) + ")"
            lines.append(f"peak RSS per {kind} (VmHWM), {name}: {values}")
    return "\n".join(lines)


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
    systems = [("ours", "ours (identity)", "#1f6feb"), ("vanilla", "vanilla DOT 3.4.1", "#999999")]
    if "scenarios" in report["node"]:
        systems.append(("node", "node-oidc-provider (in-memory)", "#2da44e"))
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
    ax.legend(fontsize=8, loc="upper center", ncol=4)
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
    return f"ours {ours}, vanilla {WORKERS} sync workers"


def add_markdown(report):
    """The tables as the JSON keeps them (and bench/README.md quotes them)."""
    report["table_markdown"] = table(report)
    report["extra"] = extra_lines(report)
    report["scale_markdown"] = scale_lines(report)


def console(report):
    """What `make bench` prints at the end: a heading, then the tables of add_markdown()."""
    machine = report["machine"]
    return "\n".join(
        [
            "",
            f"identity benchmark {report['timestamp']} — {machine['nproc']} cores ({machine['cpu_model']}); ",
            f"wrk {CONNECTIONS} connections x {DURATION}s per scenario; {serving()}; "
            f"load average at start {report['loadavg']['start']} (other jobs on this machine depress the figures)",
            "",
            report["table_markdown"],
            report["extra"],
            "",
            report["scale_markdown"],
            "",
        ]
    )
