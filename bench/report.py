"""Write a benchmark run as JSON, a Markdown table and a PNG of the latency distributions,
and judge it against the targets of the performance issue."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter

READ_SCENARIOS = ["slot_search", "doctor_slots_week", "appointments_patient", "appointments_doctor"]
WORKER_RSS_LIMIT_MB = 150
BOOKING_WORKER_CPU_MS = 10


def _by_name(results: list[dict]) -> dict[str, dict]:
    return {result["name"]: result for result in results}


def targets(results: list[dict], memory: list[dict]) -> list[dict]:
    """Each target of the issue with the numbers it was judged on."""
    runs = _by_name(results)
    base = runs.get("baseline")
    checks = []

    def check(target: str, value, limit, met: bool) -> None:
        checks.append({"target": target, "value": value, "limit": limit, "met": bool(met)})

    if base:
        booking = runs.get("booking_uncontended")
        if booking:
            ratio = booking["rps"] / base["rps"]
            cost, base_cost = server_cpu_ms(booking), server_cpu_ms(base)
            shown = f"{ratio:.2f} (CPU {base_cost / cost:.2f})" if cost and base_cost else ratio
            check("uncontended booking req/s >= 0.5 x baseline", shown, 0.5, ratio >= 0.5)
            limit = 2 * base["p95_ms"]
            check(
                "uncontended booking p95 <= 2 x baseline p95 (ms)",
                booking["p95_ms"],
                limit,
                booking["p95_ms"] <= limit,
            )
            spent = worker_cpu_ms(booking)
            if spent is not None:
                check(
                    f"uncontended booking: worker CPU per request <= {BOOKING_WORKER_CPU_MS} ms",
                    spent,
                    BOOKING_WORKER_CPU_MS,
                    spent <= BOOKING_WORKER_CPU_MS,
                )
        for name in READ_SCENARIOS:
            run = runs.get(name)
            if not run:
                continue
            ratio = run["rps"] / base["rps"]
            cost, base_cost = server_cpu_ms(run), server_cpu_ms(base)
            shown = f"{ratio:.2f} (CPU {base_cost / cost:.2f})" if cost and base_cost else ratio
            check(f"{name} req/s >= 0.6 x baseline", shown, 0.6, ratio >= 0.6)
            limit = 2 * base["p95_ms"]
            check(
                f"{name} p95 <= 2 x baseline p95 (ms)", run["p95_ms"], limit, run["p95_ms"] <= limit
            )
    contended = runs.get("booking_contended")
    if contended:
        c = contended["contention"]
        check(
            "contended: every round exactly one 201, the rest 409 slot_unavailable",
            f"{c['rounds_exactly_one_winner']}/{c['rounds']} rounds",
            f"{c['rounds']}/{c['rounds']}",
            c["rounds_exactly_one_winner"] == c["rounds"] and c["rounds"] > 0,
        )
        check("contended: no 5xx", c["server_errors"], 0, c["server_errors"] == 0)
        if c["limit_ms"] is not None:
            check(
                "contended: losers' p95 <= 2 x uncontended booking p50 (ms)",
                c["losers_p95_ms"],
                c["limit_ms"],
                c["losers_p95_ms"] <= c["limit_ms"],
            )
    for name in ["slot_search", "doctor_slots_week"]:
        small, large = runs.get(name), runs.get(f"{name}_240k")
        if small and large:
            limit = round(1.3 * small["p95_ms"], 2)
            check(
                f"{name} p95 at 240,000 slots <= 1.3 x p95 at 24,000 (ms)",
                large["p95_ms"],
                limit,
                large["p95_ms"] <= limit,
            )
    if memory:
        worst = max(row["rss_mb"] for row in memory)
        check(
            "every gunicorn worker < 150 MB resident after the run (MB)",
            worst,
            WORKER_RSS_LIMIT_MB,
            worst < WORKER_RSS_LIMIT_MB,
        )
    return checks


def worker_cpu_ms(run: dict) -> float | None:
    """CPU the gunicorn workers spent per request (Python, with gunicorn's own share)."""
    cpu = run.get("cpu")
    if not cpu or not run["requests"]:
        return None
    return round(1000 * cpu["gunicorn_workers_s"] / run["requests"], 2)


def server_cpu_ms(run: dict) -> float | None:
    """CPU the server side spent per request (gunicorn workers and the benchmark's PostgreSQL
    processes): unlike requests per second, barely moved by other work on the machine."""
    cpu = run.get("cpu")
    if not cpu or not run["requests"]:
        return None
    return round(1000 * (cpu["gunicorn_workers_s"] + cpu["postgres_s"]) / run["requests"], 2)


def markdown(meta: dict, results: list[dict], memory: list[dict], plans: dict, checks) -> str:
    runs = _by_name(results)
    base = runs.get("baseline")
    server, machine = meta["server"], meta["machine"]
    lines = [
        f"# CareSlot benchmark, {meta['started']}",
        "",
        f"{machine['cores']} cores, {machine['memory_gb']} GiB, Python {machine['python']}; "
        f"gunicorn {server['workers']} {server['worker_class']} workers; {server['settings']}; "
        f"notifications: {server['broker']}, email backend {server['email_backend']}; load: "
        f"{meta['load']['tool']}, {meta['load']['users']} users (50 for the contended booking), "
        f"{meta['load']['duration_s']:g} s per scenario. Other work on the machine just "
        f"before the run: {machine['busy_before_run_pct']} % of its CPU.",
        "",
        "| scenario | req/s | p50 ms | p95 ms | p99 ms | errors | requests | x baseline req/s "
        "| worker CPU ms/req | server CPU ms/req | x baseline CPU "
        "| CPU s: workers / postgres / locust / other |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    base_cost = server_cpu_ms(base) if base else None
    for run in results:
        ratio = f"{run['rps'] / base['rps']:.2f}" if base and base["rps"] else "-"
        cpu = run.get("cpu") or {}
        cpu_text = (
            f"{cpu['gunicorn_workers_s']} / {cpu['postgres_s']} / {cpu['locust_s']} / "
            f"{cpu['other_s']} of {cpu['machine_capacity_s']}"
            if cpu
            else "-"
        )
        cost = server_cpu_ms(run)
        cost_ratio = f"{base_cost / cost:.2f}" if cost and base_cost else "-"
        lines.append(
            f"| {run['name']}: {run['title']} | {run['rps']:.1f} | {run['p50_ms']} | "
            f"{run['p95_ms']} | {run['p99_ms']} | {run['errors']} | {run['requests']} | "
            f"{ratio} | {worker_cpu_ms(run) or '-'} | {cost if cost else '-'} | {cost_ratio} | "
            f"{cpu_text} |"
        )
    contended = runs.get("booking_contended")
    if contended:
        c = contended["contention"]
        lines += [
            "",
            f"Contended booking: {c['rounds']} rounds of {c['clients_per_round']} clients on one "
            f"slot each; {c['rounds_exactly_one_winner']} rounds with exactly one 201 and the "
            f"rest 409 `slot_unavailable`; {c['server_errors']} 5xx. Losers p50 "
            f"{c['losers_p50_ms']} ms, p95 {c['losers_p95_ms']} ms; winners p50 "
            f"{c['winners_p50_ms']} ms.",
        ]
    if memory:
        lines += [
            "",
            "Gunicorn workers' memory (MB): "
            + ", ".join(
                f"pid {row['pid']}: {row['rss_mb']} now, peak {row['peak_rss_mb']}"
                for row in memory
            )
            + ".",
        ]
    for plan in plans.values():
        lines += [
            "",
            f"Slot search plans at {plan['slots_in_table']:,} slots (EXPLAIN ANALYZE, warm):",
        ]
        for name in ["slot_search", "doctor_slots_week"]:
            p = plan[name]["page"]
            lines.append(
                f"- {name} page and count query: indexes {', '.join(p['indexes']) or 'none'}; "
                f"planning {p['planning_ms']} ms, execution {p['execution_ms']} ms"
            )
    lines += [
        "",
        "Server CPU ms/req: the gunicorn workers' and the benchmark database's CPU time per "
        "request; 'x baseline CPU' is the baseline's divided by the scenario's, the capacity "
        "ratio the machine would show with nothing else running. 'other' is the rest of the "
        "machine's busy time during the scenario (kernel networking, other processes).",
    ]
    publication = meta.get("smart_publication") or {}
    if publication:
        lines += [
            "",
            "SMART Scheduling Links (the manifest and every day's slot file, fetched one after "
            "the other, once, while nothing else runs):",
        ]
        for size, run in publication.items():
            lines.append(
                f"- {size} slots in the table: {run['slots']:,} free slots in {run['files']} "
                f"files, {run['mib']} MiB in {run['seconds']} s ({run['slots_per_s']:,} "
                f"slots/s); largest file {run['largest_file_slots']:,} slots, slowest "
                f"{run['slowest_file_s']} s; the workers' memory grew at most "
                f"{run['worker_memory_growth_mib']} MiB"
            )
    lines += [
        "",
        "## Targets",
        "",
        "Judged on requests per second as the issue asks; in brackets the same ratio of server "
        "CPU per request, which other work on the machine moves much less.",
        "",
        "| target | value | limit | met |",
        "|---|---:|---:|---|",
    ]
    for item in checks:
        lines.append(
            f"| {item['target']} | {item['value']} | {item['limit']} | "
            f"{'yes' if item['met'] else '**no**'} |"
        )
    return "\n".join(lines) + "\n"


def chart(path: Path, results: list[dict]) -> None:
    measured = [run for run in results if run.get("samples")]
    figure, (cdf, box) = plt.subplots(1, 2, figsize=(15, 6.5))
    for run in measured:
        values = np.sort(np.array(run["samples"]))
        cdf.plot(values, np.linspace(0, 100, len(values)), label=run["name"], linewidth=1.4)
    cdf.set_xscale("log")
    cdf.set_xlabel("latency (ms, log scale)")
    cdf.set_ylabel("percent of requests at or below")
    cdf.set_title("Latency distribution per scenario (CDF)")
    cdf.grid(True, which="both", alpha=0.3)
    cdf.legend(fontsize=8)
    box.boxplot(
        [run["samples"] for run in measured],
        whis=(1, 99),
        showfliers=False,
        vert=False,
        tick_labels=[run["name"] for run in measured],
    )
    for row, run in enumerate(measured, start=1):
        box.plot([run["p95_ms"]], [row], marker="|", color="red", markersize=14)
        box.text(
            run["p95_ms"], row + 0.3, f"{run['rps']:.0f}/s", fontsize=7, color="dimgray", ha="left"
        )
    box.set_xscale("log")
    box.set_xlabel("latency (ms, log scale); box p25-p75, whiskers p1-p99, red tick p95")
    box.set_title("Per scenario, with requests per second")
    box.grid(True, which="both", axis="x", alpha=0.3)
    for axis in (cdf, box):
        axis.xaxis.set_major_formatter(ScalarFormatter())
        axis.xaxis.set_minor_formatter(NullFormatter())
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(out: Path, label: str, meta, results, memory, plans) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    checks = targets(results, memory)
    png = out / f"{label}.png"
    chart(png, results)
    base = _by_name(results).get("baseline")
    summary = []
    for run in results:
        row = {key: value for key, value in run.items() if key != "samples"}
        if base and base["rps"]:
            row["ratio_to_baseline_rps"] = round(run["rps"] / base["rps"], 3)
        cost = server_cpu_ms(run)
        if cost:
            row["server_cpu_ms_per_request"] = cost
            base_cost = server_cpu_ms(base) if base else None
            if base_cost:
                row["ratio_to_baseline_server_cpu"] = round(base_cost / cost, 3)
        summary.append(row)
    document = {
        **meta,
        "scenarios": summary,
        "worker_memory_mb": memory,
        "plans": {
            size: {
                "slots_in_table": plan["slots_in_table"],
                **{
                    name: {q: {k: v for k, v in plan[name][q].items()} for q in ("page",)}
                    for name in ("slot_search", "doctor_slots_week")
                },
            }
            for size, plan in plans.items()
        },
        "targets": checks,
    }
    json_path = out / f"{label}.json"
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    md_path = out / f"{label}.md"
    md_path.write_text(markdown(meta, results, memory, plans, checks))
    return [json_path, md_path, png]
