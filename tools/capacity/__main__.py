"""`make capacity`: measure CPU per request, worst-case memory and cold start, then plan and price the loads.

    python -m tools.capacity --lean .venv-lean/bin        # writes docs/capacity.md and docs/capacity.png

Ours runs from a venv of function/requirements.txt alone (the deployable set); the seed's design is
the seed peer of tools/bench/peers (`make peers` builds its venv once). Both are pinned to CPU 0, one at a time.
CPU time comes from /proc over a fixed number of calls: on a shared machine it moves far less than
throughput does. A line per step; the figures are the report's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from . import memory, plan, report
from .drive import CpuFigures, combined, measure_cpu
from .mix import calls, singles
from .servers import ROOT, Server, ours, seed

# The seed's design as its README deploys it: 2 GiB per instance; 1 vCPU (what 2 GiB gets in Cloud
# Functions' tiers); no concurrency named, so Cloud Run's default of 80.
SEED_MEMORY_GIB, SEED_CPU, SEED_CONCURRENCY = 2.0, 1.0, 80
OUR_CPU, OUR_CONCURRENCY = 1.0, 8  # deploy.sh's defaults
# Cloud Run writes its own request log entry per request besides the app's lines; its size, and each app
# line's overhead as a LogEntry (resource, labels, timestamps), are assumptions: not measurable offline.
PLATFORM_LOG_BYTES_PER_REQUEST = 1024
LOG_ENTRY_OVERHEAD_BYTES = 512
STEPS = 6


def progress(step: int, text: str) -> float:
    print(f"[{step}/{STEPS}] {text}", flush=True)
    return time.perf_counter()


def cold_start_s(make: Callable[[], Server], runs: int) -> float:
    """Median seconds from spawn to the first correct prediction over `runs` cold starts."""
    times = []
    for _ in range(runs):
        server: Server = make()
        server.start()
        try:
            times.append(server.first_correct_answer_s())
        finally:
            server.stop()
    return statistics.median(times)


def cpu_rounds(servers: dict[str, Server], call_counts: dict[str, int], rounds: int) -> dict[str, dict]:
    """CPU per call of the mix and per single prediction, the systems taking turns round by round.

    Both servers are up and warm together (only one is loaded at a time), so a drift in the machine's
    load falls on both; each system's figure is its median round.
    """
    for server in servers.values():
        server.start()
    try:
        for name, server in servers.items():
            server.first_correct_answer_s()
            measure_cpu(_pid(server), server.url, calls(name, 50, seed=1))  # warm every path first
        measured: dict[str, dict[str, list[CpuFigures]]] = {name: {"mix": [], "single": []} for name in servers}
        for round_number in range(rounds):
            for name, server in servers.items():
                share = max(1, call_counts[name] // rounds)
                measured[name]["mix"].append(measure_cpu(_pid(server), server.url, calls(name, share, round_number)))
                measured[name]["single"].append(measure_cpu(_pid(server), server.url, singles(share)))
            print(
                f"      round {round_number + 1}/{rounds}: CPU ms per call "
                + ", ".join(f"{name} {measured[name]['mix'][-1].cpu_ms_per_call:.2f}" for name in servers),
                flush=True,
            )
    finally:
        for server in servers.values():
            server.stop()
    out = {}
    for name, workloads in measured.items():
        out[name] = {workload: combined(figures) for workload, figures in workloads.items()}
        out[name]["rounds_ms_per_call"] = [round(f.cpu_ms_per_call, 3) for f in workloads["mix"]]
        wrong = sum(f.wrong_answers for figures in workloads.values() for f in figures)
        if wrong:
            raise RuntimeError(f"{name}: {wrong} wrong answers")
    return out


def _pid(server: Server) -> int:
    assert server.process is not None
    return server.process.pid


def app_log_bytes_per_request(log_path: Path) -> float:
    """Mean bytes of the request log lines the server wrote (0 when it writes none)."""
    lines = [line for line in log_path.read_bytes().splitlines() if b'"httpRequest"' in line]
    return statistics.fmean(len(line) + 1 for line in lines) if lines else 0.0


def artifact_bytes() -> int:
    """What a new instance downloads from gs://: the pointer, the manifest and the model."""
    from penguins.artifact import ARTIFACT_FILES

    return 200 + sum((ROOT / "function" / "model" / name).stat().st_size for name in ARTIFACT_FILES)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lean", help="bin folder of a venv built from function/requirements.txt")
    parser.add_argument("--calls", type=int, default=3000, help="calls of the mix measured on ours")
    parser.add_argument("--seed-calls", type=int, default=600, help="calls of the mix measured on the seed")
    parser.add_argument("--runs", type=int, default=3, help="cold starts per system (median reported)")
    parser.add_argument("--rounds", type=int, default=5, help="turns of ours then the seed (median round reported)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "capacity.md"))
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--report-from", help="measure nothing: write the report from a --json file of a past run")
    args = parser.parse_args()
    if args.report_from:
        figures = json.loads(Path(args.report_from).read_text())
        designs = {name: plan.Design(**d) for name, d in figures["designs"].items()}
        report.write(Path(args.out), figures, designs, plan.Prices.load())
        print(report.summary(figures, designs, plan.Prices.load()))
        return 0
    if not args.lean:
        parser.error("--lean is required to measure")
    if shutil.which("taskset") is None:
        print("make capacity needs taskset (Debian: util-linux)", file=sys.stderr)
        return 2
    lean = Path(args.lean)
    log_dir = Path(tempfile.mkdtemp(prefix="penguin-capacity-"))
    load_before = os.getloadavg()[0]

    progress(1, f"cold start, ours (bundled model, median of {args.runs})")
    cold_ours = cold_start_s(lambda: ours(lean, log_dir), args.runs)
    progress(2, f"cold start, the seed's design (median of {args.runs})")
    cold_seed = cold_start_s(lambda: seed(log_dir), args.runs)
    progress(
        3,
        f"CPU per request: {args.calls} calls of the mix and as many single predictions on ours, "
        f"{args.seed_calls} on the seed's design, in {args.rounds} rounds taking turns",
    )
    our_server = ours(lean, log_dir, threads=memory.THREADS_PER_VCPU * int(OUR_CPU))
    cpu = cpu_rounds(
        {"ours": our_server, "seed": seed(log_dir)}, {"ours": args.calls, "seed": args.seed_calls}, args.rounds
    )
    our_mix, seed_mix = cpu["ours"]["mix"], cpu["seed"]["mix"]
    our_log_bytes = app_log_bytes_per_request(our_server.log_path)
    progress(4, f"worst-case memory: {memory.THREADS_PER_VCPU} maximal requests at once, twice, per kind")
    worst = memory.worst_case(lean, log_dir)
    progress(5, f"memory under a sustained mix: {args.calls} calls on {OUR_CONCURRENCY} connections")
    sustained = memory.sustained_mix(lean, log_dir, args.calls, OUR_CONCURRENCY)
    progress(6, f"the plan, written to {args.out}")

    memory_mib = plan.memory_setting_mib(max(worst.peak_mib, sustained.peak_mib), OUR_CPU)
    designs = {
        "ours": design("ours", OUR_CPU, memory_mib / 1024, OUR_CONCURRENCY, our_mix, our_log_bytes, artifact_bytes()),
        "seed": design("seed", SEED_CPU, SEED_MEMORY_GIB, SEED_CONCURRENCY, seed_mix, 0.0, 0),
    }
    figures = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": round(load_before, 1),
            "load_average_after": round(os.getloadavg()[0], 1),
        },
        "cold_start_s": {"ours": round(cold_ours, 3), "seed": round(cold_seed, 3)},
        "cpu": {
            name: {
                "mix": asdict(cpu[name]["mix"]),
                "single": asdict(cpu[name]["single"]),
                "rounds_ms_per_call": cpu[name]["rounds_ms_per_call"],
            }
            for name in cpu
        },
        "memory": {"worst_case": asdict(worst), "sustained_mix": asdict(sustained), "setting_mib": memory_mib},
        "designs": {name: asdict(d) for name, d in designs.items()},
    }
    out = Path(args.out)
    report.write(out, figures, designs, plan.Prices.load())
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    shutil.rmtree(log_dir, ignore_errors=True)
    print(report.summary(figures, designs, plan.Prices.load()))
    return 0


def design(
    name: str, cpu: float, memory_gib: float, concurrency: int, mix: CpuFigures, app_log_bytes: float, download: int
) -> plan.Design:
    """A system's plan inputs from its configuration and its measured mix."""
    cpu_s_per_request = mix.cpu_s / mix.requests
    app_entry_bytes = app_log_bytes + LOG_ENTRY_OVERHEAD_BYTES if app_log_bytes else 0.0
    return plan.Design(
        name=name,
        cpu=cpu,
        memory_gib=memory_gib,
        concurrency=concurrency,
        cpu_s_per_call=mix.cpu_s / mix.calls,
        requests_per_call=mix.requests / mix.calls,
        predictions_per_call=mix.predictions / mix.calls,
        # In an instance at the target utilization a request waits as in a single queue: service / (1 - u).
        latency_s=cpu_s_per_request / (1 - plan.TARGET_UTILIZATION),
        log_bytes_per_request=PLATFORM_LOG_BYTES_PER_REQUEST + app_entry_bytes,
        model_download_bytes=download,
    )


if __name__ == "__main__":
    sys.exit(main())
