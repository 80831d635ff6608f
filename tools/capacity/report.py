"""docs/capacity.md and its plot, from the measured figures and the plan."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from . import plan
from .memory import THREADS_PER_VCPU

# The seed's loads in requests/s (its README: normal 10-50, peak 100-200, burst 500), then 10x and 100x
# of the upper end of each.
LOADS = (("normal", 10), ("normal", 50), ("peak", 100), ("peak", 200), ("burst", 500))
SCALED_LOADS = (("normal", 50), ("peak", 200), ("burst", 500))
MULTIPLIERS = (10, 100)
# A spike of locustfile.py's Spike profile against a deployed function: its users think 10-100 ms between
# requests; a round trip to Cloud Run from the same region is assumed to be 50 ms.
SPIKE_USERS, SPIKE_THINK_S, SPIKE_ROUND_TRIP_S = 100, 0.055, 0.05
# The platform's own part of a cold start (scheduling, the container's start before our process runs):
# not measurable offline; an assumption.
PLATFORM_START_S = 1.0
# Max instances: room for ten times the seed's burst at the target utilization, so a burst, a slower
# CPU than this machine's or a failed instance never meets the ceiling; it still caps a runaway bill.
MAX_INSTANCES_BURST_FACTOR = 10


def recommended_max_instances(design: plan.Design) -> int:
    """Instances for ten times the seed's burst: a ceiling that the planned loads never meet."""
    return plan.instances_needed(MAX_INSTANCES_BURST_FACTOR * LOADS[-1][1], design)


def _money(dollars: float) -> str:
    return f"${dollars:,.2f}" if dollars < 100 else f"${dollars:,.0f}"


def _price(dollars: float) -> str:
    return f"${dollars:.8f}".rstrip("0").rstrip(".")


def plan_rows(designs: dict[str, plan.Design], prices: plan.Prices) -> list[dict]:
    """One row per load: instances, downloads while scaling out, monthly cost and cost per million, per design."""
    loads = [(name, load, 1) for name, load in LOADS]
    loads += [(name, load, multiplier) for multiplier in MULTIPLIERS for name, load in SCALED_LOADS]
    rows = []
    for name, load, multiplier in loads:
        calls_per_s = load * multiplier
        label = f"{name} ({load}/s)" + (f" x{multiplier}" if multiplier > 1 else "")
        row: dict = {"load": label, "calls_per_s": calls_per_s}
        for key, design in designs.items():
            cost = plan.monthly_cost(calls_per_s, design, prices)
            row[key] = {
                "instances": cost.instances,
                "downloads_per_min": plan.downloads_per_minute(calls_per_s, design),
                "monthly": cost.total,
                "per_million": plan.cost_per_million_predictions(calls_per_s, design, prices),
                "cost": cost,
            }
        rows.append(row)
    return rows


def plot(path: Path, rows: list[dict]) -> None:
    """Instances and cost per million predictions against load, ours and the seed's, on log scales."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ordered = sorted(rows, key=lambda r: r["calls_per_s"])
    loads = [r["calls_per_s"] for r in ordered]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label, style in (("ours", "ours", "o-"), ("seed", "seed's design", "s--")):
        left.plot(loads, [r[key]["instances"] for r in ordered], style, label=label)
        right.plot(loads, [r[key]["per_million"] for r in ordered], style, label=label)
    left.set(xscale="log", yscale="log", xlabel="load, requests/s", ylabel="instances (1 vCPU)")
    right.set(xscale="log", xlabel="load, requests/s", ylabel="$ per million predictions")
    left.set_title("Instances at 60 % CPU")
    right.set_title("Cost per million predictions")
    for axes in (left, right):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write(out: Path, figures: dict, designs: dict[str, plan.Design], prices: plan.Prices) -> None:
    """Write the markdown report and its plot beside it."""
    rows = plan_rows(designs, prices)
    out.parent.mkdir(parents=True, exist_ok=True)
    image = out.with_suffix(".png")
    plot(image, rows)
    out.write_text(markdown(figures, designs, prices, rows, image.name))


def summary(figures: dict, designs: dict[str, plan.Design], prices: plan.Prices) -> str:
    """The few lines a person reads at the end of `make capacity`."""
    ours, seed = designs["ours"], designs["seed"]
    burst = LOADS[-1][1]
    return "\n".join(
        [
            f"CPU per call of the mix: ours {1000 * ours.cpu_s_per_call:.2f} ms, "
            f"seed {1000 * seed.cpu_s_per_call:.2f} ms",
            f"worst-case memory {figures['memory']['worst_case']['peak_mib']} MiB -> --memory "
            f"{plan.memory_flag(figures['memory']['setting_mib'])}",
            f"burst ({burst} requests/s): ours {plan.instances_needed(burst, ours)} instances, "
            f"seed {plan.instances_needed(burst, seed)}; recommended --max-instances {recommended_max_instances(ours)}",
            f"cost per million predictions at the burst: ours "
            f"{_money(plan.cost_per_million_predictions(burst, ours, prices))}, seed "
            f"{_money(plan.cost_per_million_predictions(burst, seed, prices))}",
        ]
    )


def markdown(figures: dict, designs: dict[str, plan.Design], prices: plan.Prices, rows: list[dict], image: str) -> str:
    """The whole report."""
    ours, seed = designs["ours"], designs["seed"]
    cpu, mem, cold = figures["cpu"], figures["memory"], figures["cold_start_s"]
    worst, sustained = mem["worst_case"], mem["sustained_mix"]
    table = json.loads(plan.PRICES_PATH.read_text())
    spike = {
        key: plan.spike_estimate(SPIKE_USERS, SPIKE_THINK_S, SPIKE_ROUND_TRIP_S, design, cold[key], PLATFORM_START_S)
        for key, design in designs.items()
    }
    max_instances = recommended_max_instances(ours)
    instance_month = plan.SECONDS_PER_MONTH * (ours.cpu * prices.vcpu_second + ours.memory_gib * prices.gib_second)
    sizes = ", ".join(plan.memory_flag(size) for size in plan.MEMORY_SIZES_MIB)
    machine = figures["machine"]
    lines = [
        "# Capacity: what the function takes and what it costs",
        "",
        f"Generated by `make capacity` on {datetime.date.today().isoformat()} (`python -m tools.capacity`); "
        "do not edit by hand. Every figure below was measured in that run on this machine: "
        f"{machine['cpus']} CPUs, shared (load average {machine['load_average_before']} before, "
        f"{machine['load_average_after']} after). Servers ran pinned to one CPU, one at a time; ours from a venv "
        "of `function/requirements.txt` alone (the deployable set), the seed's design from "
        "`tools/bench/peers`' seed peer (FastAPI + uvicorn, pandas, `XGBClassifier.predict`). CPU time is read "
        "from `/proc` (user + system, every thread of the server's processes) over a fixed number of calls, the "
        "two systems taking turns in rounds (the median round counts). On a loaded virtual machine the CPU time a "
        "process is charged grows too (the host takes the vCPU away mid-request), so absolute figures are high, "
        "a plan from them errs on the side of more instances, and the ratios are the firmer result.",
        "",
        "## Recommended settings",
        "",
        f"- `--cpu {ours.cpu:g} --concurrency {ours.concurrency}`: a request needs "
        f"{1000 * ours.cpu_s_per_call:.2f} ms of CPU, so CPU, not concurrency, decides the instance count: at "
        f"60 % CPU an instance holds about {plan.TARGET_UTILIZATION / (1 - plan.TARGET_UTILIZATION):.1f} requests "
        f"at a time, far below {plan.TARGET_UTILIZATION * ours.concurrency:.1f} (60 % of {ours.concurrency}). "
        f"The server runs {THREADS_PER_VCPU} threads per vCPU; up to {ours.concurrency} in flight keeps a few "
        "queued instead of starting an instance for each, and bounds the worst-case memory below. A higher "
        "concurrency adds queueing in the instance, not throughput.",
        f"- `--memory {plan.memory_flag(mem['setting_mib'])}`: the worst-case peak is {worst['peak_mib']} MiB "
        f"(below), times {plan.MEMORY_HEADROOM} headroom = {worst['peak_mib'] * plan.MEMORY_HEADROOM:.0f} MiB, "
        "rounded up to a Cloud Run size (rule below).",
        f"- `--max-instances {max_instances}`: ten times the seed's burst ({MAX_INSTANCES_BURST_FACTOR} x "
        f"{LOADS[-1][1]} requests/s) at 60 % CPU. It is the cost ceiling: at most "
        f"{_money(max_instances * instance_month)}"
        " a month of instance time even if every instance ran all month. Raise it with the load (the table).",
        "- `--min-instances 0` unless a spike's first seconds matter (below): one warm instance costs "
        f"{_money(instance_month)}"
        " a month at request-based prices if it were busy all month; idle, much less.",
        "",
        "## Measured",
        "",
        "| | ours | seed's design | seed / ours |",
        "|---|---|---|---|",
        f"| cold start, spawn to first correct answer, s (median of runs) | {cold['ours']} | {cold['seed']} | "
        f"{cold['seed'] / cold['ours']:.1f} |",
        _ratio_row("CPU ms per single prediction (the seed's Adelie)", cpu, "single", "cpu_s", "requests"),
        _ratio_row("CPU ms per call of the mix", cpu, "mix", "cpu_s", "calls"),
        _ratio_row("CPU ms per prediction in the mix", cpu, "mix", "cpu_s", "predictions"),
        f"| CPU ms per call, each round (the median is above) | "
        f"{', '.join(map(str, cpu['ours'].get('rounds_ms_per_call', [])))} | "
        f"{', '.join(map(str, cpu['seed'].get('rounds_ms_per_call', [])))} | |",
        f"| requests per call of the mix | {ours.requests_per_call:.2f} | {seed.requests_per_call:.2f} | |",
        f"| predictions per call of the mix | {ours.predictions_per_call:.2f} | {seed.predictions_per_call:.2f} | |",
        f"| calls measured | {cpu['ours']['mix']['calls']} | {cpu['seed']['mix']['calls']} | |",
        f"| log bytes per request (Cloud Logging, platform's entry included) | {ours.log_bytes_per_request:.0f} | "
        f"{seed.log_bytes_per_request:.0f} | |",
        "",
        "The mix is locustfile.py's: 70 % single predictions (real Palmer penguins, jittered), 15 % batches of "
        "2-20, 10 % `GET /health`, 5 % invalid bodies (a 422). The seed's API has no batch, so a batch is one "
        "request per penguin there (and the seed needs `year` and a sex, which its calls carry).",
        "",
        "## Worst-case memory",
        "",
        "| load | concurrent | resident MiB at start | peak resident MiB |",
        "|---|---|---|---|",
        f"| {'; '.join(worst['requests'])} | {THREADS_PER_VCPU} at once, twice each | {worst['idle_mib']} | "
        f"**{worst['peak_mib']}** |",
        f"| sustained mix: {'; '.join(sustained['requests'])} | {ours.concurrency} connections | "
        f"{sustained['idle_mib']} | {sustained['peak_mib']} |",
        "",
        f"Peak is the kernel's high-water mark (`VmHWM`) of each of the server's processes, summed: exact per "
        f"process, no sampling. The largest answer was {worst['response_mib']} MiB. The maximal requests are "
        "the largest the function accepts: `MAX_BATCH_SIZE` (10,000) penguins padded with whitespace to just "
        "under `MAX_BODY_BYTES` (10 MiB), with explanations on, and the same number of penguins that break "
        "every rule (the largest error the validation builds). The 10,000-row CSV joins them by itself once the "
        "function serves `text/csv` (issue 15; `tools/capacity/memory.py` probes for it). On Cloud Run files written "
        "to `/tmp` count as memory too: the gs:// model cache adds "
        f"{ours.model_download_bytes / 1024:.0f} KiB.",
        "",
        f"**The rule applied**: memory = the smallest of {sizes} "
        f"that holds the peak x {plan.MEMORY_HEADROOM} (an instance over its limit is killed with every request "
        "in it), within Cloud Run's limits: with 1 vCPU, 128 MiB to 4 GiB; more than 4 GiB needs 2 vCPUs, more "
        "than 8 GiB 4; the second generation execution environment needs at least 512 MiB "
        "(https://cloud.google.com/run/docs/configuring/services/memory-limits). Concurrency above 1 needs at "
        f"least 1 vCPU. Hence `--memory {plan.memory_flag(mem['setting_mib'])}` at `--cpu 1`.",
        "",
        "## The plan",
        "",
        f"![instances and cost per million predictions against load]({image})",
        "",
        f"Ours: {ours.cpu:g} vCPU, {plan.memory_flag(mem['setting_mib'])}, concurrency {ours.concurrency}. The "
        f"seed's design: {seed.cpu:g} vCPU, {seed.memory_gib:g} GiB (its README's figure), concurrency "
        f"{seed.concurrency} (Cloud Run's default; it names none). Loads are calls of the mix per second.",
        "",
        "| load | calls/s | instances ours | instances seed | model downloads ours, scaling out from 0 | "
        "$/month ours | $/month seed | $ per million predictions ours | seed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        count, mib = row["ours"]["downloads_per_min"]
        lines.append(
            f"| {row['load']} | {row['calls_per_s']:,} | {row['ours']['instances']} | {row['seed']['instances']} | "
            f"{count} in a minute ({mib:.1f} MiB) | {_money(row['ours']['monthly'])} | "
            f"{_money(row['seed']['monthly'])} | {_money(row['ours']['per_million'])} | "
            f"{_money(row['seed']['per_million'])} |"
        )
    burst = next(r for r in rows if r["calls_per_s"] == LOADS[-1][1])
    lines += [
        "",
        f"Where the money goes at the burst ({LOADS[-1][1]} calls/s sustained for a month):",
        "",
        "| | instance CPU | instance memory | requests | Cloud Logging | model pointer reads | total |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, label in (("ours", "ours"), ("seed", "seed's design")):
        c: plan.MonthlyCost = burst[key]["cost"]
        lines.append(
            f"| {label} | {_money(c.cpu)} | {_money(c.memory)} | {_money(c.requests)} | {_money(c.logging)} | "
            f"{_money(c.storage)} | {_money(c.total)} |"
        )
    lines += [
        "",
        "Our instances cost little; the per-request fee and the logs are most of the bill. Cloud Run's own "
        "request log is most of the logging: excluding it (a `_Default` sink exclusion on "
        "`run.googleapis.com/requests`) and keeping our one line, which monitoring reads, cuts the logging line "
        "by more than half; batches cut both, since a batch is one request and one line for up to 10,000 "
        "predictions.",
        "",
        "How each figure follows:",
        "",
        "- **Instances** = the larger of CPU-bound `load x CPU-s per call / (vCPUs x 0.6)` and concurrency-bound "
        "`in flight / (concurrency x 0.6)` (in flight by Little's law), rounded up, at least 1. 0.6 is Cloud "
        "Run's own target: its autoscaler keeps instances near 60 % CPU and 60 % of their concurrency over a "
        "minute (https://cloud.google.com/run/docs/about-instance-autoscaling), so planning at 0.6 predicts what "
        "it runs, and the other 40 % absorbs a burst while new instances start.",
        "- **Time in the instance** per request = CPU per request / (1 - 0.6): a single queue at 60 % busy.",
        "- **Billed time**: request-based billing charges an instance while it holds a request, rounded up to "
        f"{prices.billing_granularity_s:g} s; with random arrivals the billed share is `1 - e^(-rate x "
        f"max(time in instance, {prices.billing_granularity_s:g} s))` (about 1 at these rates).",
        "- **Monthly cost** = billed instance-seconds x (vCPUs x vCPU price + GiB x GiB price) + requests x price "
        "per million + log bytes x Cloud Logging's price + the model pointer read every 60 s per instance "
        "(Class B operations); a 30-day month, the load sustained all month. **Per million predictions** = "
        "that / predictions in the month.",
        "- **Model downloads**: every new instance of ours downloads the artifact once "
        f"({ours.model_download_bytes / 1024:.0f} KiB: pointer, manifest, model); the column is the count in the "
        "minute a service scales out from zero to that load. The seed's model is inside its image.",
        f"- **Logs**: ours writes one structured line per request (measured {ours.log_bytes_per_request - 1536:.0f}"
        " bytes on average, +512 bytes assumed for its LogEntry); Cloud Run adds its own request entry (1 KiB "
        "assumed) for both. The seed's peer logs no line of its own.",
        "",
        "## Cold starts under a spike (an estimate)",
        "",
        f"locustfile.py's spike goes from 1 to {SPIKE_USERS} users in a minute; each user thinks 10-100 ms "
        f"(mean {1000 * SPIKE_THINK_S:.0f} ms) between requests and, against a deployed function, waits a round "
        f"trip assumed at {1000 * SPIKE_ROUND_TRIP_S:.0f} ms: {spike['ours'].requests_per_s:.0f} requests/s at "
        "the peak, one warm instance at the start.",
        "",
        "| | ours | seed's design |",
        "|---|---|---|",
        f"| instances at the peak | {spike['ours'].instances_at_peak} | {spike['seed'].instances_at_peak} |",
        f"| cold starts during the spike | {spike['ours'].cold_starts} | {spike['seed'].cold_starts} |",
        f"| longest wait of a request that meets one, s | {spike['ours'].worst_wait_s:.1f} | "
        f"{spike['seed'].worst_wait_s:.1f} |",
        f"| requests that may wait on a starting instance, at most | {spike['ours'].requests_that_may_wait} | "
        f"{spike['seed'].requests_that_may_wait} |",
        "",
        f"Assumptions: the wait is the process start measured above plus {PLATFORM_START_S:g} s assumed for the "
        "platform (scheduling and the container starting before our process; not measurable offline). Cloud "
        "Run starts instances on demand when requests find every instance at its concurrency, and from the "
        "one-minute CPU average otherwise; a starting instance takes at most `concurrency` requests, so at most "
        "that many wait on each start. A ramp over a minute gives the autoscaler time to start instances while "
        "the warm ones still have their 40 % spare, so most requests never see a cold start; a jump at once "
        "would put the first seconds' excess on starting instances. `--min-instances` equal to the peak's "
        "count removes these waits at the price of idle instances.",
        "",
        "## Prices",
        "",
        f"From `tools/capacity/prices.json` ({table['currency']}, retrieved {table['retrieved']}, "
        f"{table['region_tier']}). {table['notes']}",
        "",
        "| item | price | source |",
        "|---|---|---|",
        f"| Cloud Run vCPU-second ({table['cloud_run']['billing']}) | {_price(prices.vcpu_second)} | "
        f"{table['cloud_run']['source']} |",
        f"| Cloud Run GiB-second | {_price(prices.gib_second)} | {table['cloud_run']['source']} |",
        f"| Cloud Run requests, per million | {_price(prices.million_requests)} | {table['cloud_run']['source']} |",
        f"| Cloud Logging ingestion, per GiB | {_price(prices.logging_gib)} | {table['cloud_logging']['source']} |",
        f"| Cloud Storage Class B operations, per 10,000 | {_price(prices.storage_class_b_ten_thousand)} | "
        f"{table['cloud_storage']['source']} |",
        "",
        "With instance-based billing (CPU always allocated: "
        f"{_price(table['cloud_run']['instance_based_vcpu_second'])} per vCPU-second, "
        f"{_price(table['cloud_run']['instance_based_gib_second'])} per GiB-second, no request fee) a steady high load "
        "costs less (a quarter less per instance-second, and no request fee); request-based billing wins while "
        "traffic has quiet hours.",
        "",
        "Reproduce: `make capacity` (about five minutes; it builds the seed peer's venv once, `make peers`).",
        "",
    ]
    return "\n".join(lines)


def _ratio_row(label: str, cpu: dict, workload: str, numerator: str, denominator: str) -> str:
    ours = 1000 * cpu["ours"][workload][numerator] / cpu["ours"][workload][denominator]
    seed = 1000 * cpu["seed"][workload][numerator] / cpu["seed"][workload][denominator]
    return f"| {label} | {ours:.3f} | {seed:.3f} | {seed / ours:.1f} |"
