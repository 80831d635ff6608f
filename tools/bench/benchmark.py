"""`make bench`: the function from a venv of function/requirements.txt alone, measured against the fast-lane floor.

Every figure comes from this one run on this machine; compare the ratios, as absolute times drift with load.
Servers run pinned to CPU 0 (the size of a 1-vCPU function instance), wrk runs on CPU 1.

The floor is the framework's fast lane: an `@functions_framework.aio.http` function that reads the body and
answers a constant (tools/bench/peers/asgi_floor.py), served like ours from the same venv (uvicorn with
httptools and uvloop, FUNCTION_USE_ASGI): no function on this framework answers faster.

  in-process   one prediction through the ASGI app without a socket, the predictor alone, and what each part
               of our request path costs over the floor's function (tools/bench/inprocess.py)
  HTTP         requests/s, p50/p99 from wrk against POST /predict (the seed's Adelie), ours and the floor,
               in --rounds rounds of floor then ours (fresh servers); the round with the median ratio is shown
  cold start   process spawn to the first correct prediction (median of --runs): floor, bundled (with and
               without FUNCTION_USE_ASGI), from GCS as deployed (MODEL_EXPECTED_VERSION) and without it
  mixed        single predictions' p50/p99 alone and beside back-to-back 10,000-row batches (tools/bench/mixed.py)
  memory       the server's process tree after the load, bundled and from GCS: PSS (what the container counts)
               and summed RSS (which counts the pages the arbiter and its forked worker share twice)
  batch        one request with 10,000 penguins, server-side time from the function's own request log
  formats      the same 10,000 as a CSV file and as a BigQuery request, beside the JSON batch (tools/bench/formats.py)
  V2           Open Inference Protocol infer: one penguin against POST /predict, and 10,000 rows (tools/bench/v2.py)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tools.bench import gcs as bench_gcs
from tools.examples import ADELIE, random_penguins
from tools.procs import free_port, function_command, stop_process_group, tree_pss_mb, tree_rss_mb
from training.cli import at_least, commands, output_file, venv_bin

ROOT = Path(__file__).resolve().parent.parent.parent
FLOOR_SOURCE = ROOT / "tools" / "bench" / "peers" / "asgi_floor.py"  # the fast lane: the yardstick
OURS_SOURCE = ROOT / "function" / "main.py"
BATCH_SIZE = 10_000


JSON_HEADERS = {"Content-Type": "application/json"}


def post(url: str, payload: bytes, timeout: float = 5.0, headers: dict[str, str] = JSON_HEADERS) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=payload, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


class Server:
    """One function server, spawned cold and pinned to CPU 0; stopped by its process group."""

    def __init__(self, lean_bin: Path, source: Path, env: dict[str, str], log_dir: Path, name: str, asgi: bool = True):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/predict"
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            ["taskset", "-c", "0", *_without_asgi(function_command(self.port, source, lean_bin), asgi)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def first_correct_answer(self, timeout: float = 60) -> float:
        """Seconds from spawn to the first 200 that names Adelie."""
        body = json.dumps(ADELIE).encode()
        while time.perf_counter() - self.started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            status, text = post(self.url, body)
            if status == 200:
                if b"Adelie" not in text:
                    raise RuntimeError(f"wrong answer: {text[:200]!r}")
                return time.perf_counter() - self.started
            time.sleep(0.005)
        raise RuntimeError("no correct answer in time")

    def rss_mb(self) -> float:
        return tree_rss_mb(self.process.pid)

    def pss_mb(self) -> float:
        return tree_pss_mb(self.process.pid)

    def stop(self) -> None:
        stop_process_group(self.process)
        self._log.close()


def _without_asgi(command: list[str], asgi: bool) -> list[str]:
    """The command, without --asgi unless asked: the framework then builds its Flask app first, then ours."""
    return command if asgi else [part for part in command if part != "--asgi"]


def lua_string(payload: bytes) -> str:
    """Any bytes as a Lua string literal: printable ASCII as is, the rest as three-digit decimal escapes."""
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\{b:03d}" for b in payload) + '"'


def wrk(url: str, body: dict | bytes, duration: int, connections: int, headers: dict[str, str] = JSON_HEADERS) -> dict:
    """wrk POSTing body (a dict is sent as JSON) to url; requests/s, p50 and p99 ms, non-2xx answers."""
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write('wrk.method = "POST"\n')
        f.writelines(f"wrk.headers[{lua_string(k.encode())}] = {lua_string(v.encode())}\n" for k, v in headers.items())
        f.write(f"wrk.body = {lua_string(payload)}\n")
        script = f.name
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script, url],
        capture_output=True,
        text=True,
    ).stdout
    os.unlink(script)

    def ms(label: str) -> float | None:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return round(float(match.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[match.group(2)], 2) if match else None

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def cold_start(
    lean_bin: Path, source: Path, env: dict, log_dir: Path, name: str, runs: int, asgi: bool = True
) -> float:
    """Median seconds from spawn to the first correct answer; asgi=False leaves FUNCTION_USE_ASGI out."""
    times = []
    for _ in range(runs):
        server = Server(lean_bin, source, env, log_dir, name, asgi)
        try:
            times.append(server.first_correct_answer())
        finally:
            server.stop()
    return round(statistics.median(times), 3)


def load(
    lean_bin: Path, source: Path, log_dir: Path, name: str, duration: int, connections: int, env: dict | None = None
) -> dict:
    server = Server(lean_bin, source, env or {}, log_dir, name)
    try:
        server.first_correct_answer()
        post(server.url, json.dumps(ADELIE).encode())  # warm
        result = wrk(server.url, ADELIE, duration, connections)
        result["rss_mb"] = round(server.rss_mb(), 1)
        result["pss_mb"] = round(server.pss_mb(), 1)
        return result
    finally:
        server.stop()


def last_latencies(server: Server, count: int) -> list[float]:
    """The server-side seconds of the last count requests, from the function's own request log lines."""
    lines = server.log_path.read_text().strip().split("\n")[-count:]
    return [
        float(entry["httpRequest"]["latency"].rstrip("s")) for entry in map(json.loads, lines) if "httpRequest" in entry
    ]


def batch_throughput(
    lean_bin: Path, log_dir: Path, count: int = BATCH_SIZE, explain: bool = False, repeats: int = 5
) -> dict:
    body = json.dumps({"instances": random_penguins(count), "explain": explain}).encode()
    server = Server(lean_bin, OURS_SOURCE, {}, log_dir, "batch")
    try:
        server.first_correct_answer()
        client_times = []
        for _ in range(repeats + 1):
            started = time.perf_counter()
            status, _ = post(server.url, body, timeout=60)
            client_times.append(time.perf_counter() - started)
            assert status == 200, status
        server_times = last_latencies(server, repeats + 1)
    finally:
        server.stop()
    # The first request pays once for numpy's import (and, explaining, for building the tables).
    server_best, client_best = min(server_times[1:]), min(client_times[1:])
    return {
        "server_s": round(server_best, 4),
        "penguins_per_s_server": round(count / server_best),
        "client_s": round(client_best, 4),
        "penguins_per_s_client": round(count / client_best),
        "first_server_s": round(server_times[0], 4),
    }


@commands("python -m tools.bench")
def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--lean", required=True, type=venv_bin, help="bin folder of a venv built from function/requirements.txt"
    )
    parser.add_argument("--duration", type=at_least(1), default=10, help="seconds of wrk load per server")
    parser.add_argument("--connections", type=at_least(1), default=8)
    parser.add_argument("--runs", type=at_least(1), default=5, help="cold starts per configuration (median reported)")
    parser.add_argument(
        "--rounds", type=at_least(1), default=3, help="load rounds, floor then ours (median ratio shown)"
    )
    parser.add_argument("--json", type=output_file, help="also write the figures to this file")
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"make bench needs {tool} on PATH (Debian: apt-get install {tool})", file=sys.stderr)
            return 2
    lean = Path(args.lean)
    log_dir = Path(tempfile.mkdtemp(prefix="penguin-bench-"))
    os.environ["MODEL_CACHE_DIR"] = str(log_dir / "model-cache")  # a cold cache: every GCS start downloads

    inprocess = json.loads(
        subprocess.run(
            ["taskset", "-c", "0", str(lean / "python"), "-m", "tools.bench.inprocess"],
            cwd=ROOT,  # the lean venv has only the function's own set: tools is found from here
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    ablation = inprocess["ablation"]
    # The machine's load drifts: rounds of floor then ours, side by side, and the round with the median ratio.
    rounds = [
        (
            load(lean, FLOOR_SOURCE, log_dir, "floor", args.duration, args.connections),
            load(lean, OURS_SOURCE, log_dir, "ours", args.duration, args.connections),
        )
        for _ in range(args.rounds)
    ]
    ratios = [ours["rps"] / floor["rps"] for floor, ours in rounds]
    floor, ours = sorted(rounds, key=lambda pair: pair[1]["rps"] / pair[0]["rps"])[len(rounds) // 2]
    cold = {
        "floor": cold_start(lean, FLOOR_SOURCE, {}, log_dir, "floor", args.runs),
        "bundled": cold_start(lean, OURS_SOURCE, {}, log_dir, "ours", args.runs),
        "bundled_flask_first": cold_start(lean, OURS_SOURCE, {}, log_dir, "ours-no-asgi", args.runs, asgi=False),
    }
    gcs = bench_gcs.gcs_figures(lean, log_dir, args.runs, cold_start, load, (args.duration, args.connections))
    cold["gcs"] = gcs["cold_start_deployed"]
    batch = batch_throughput(lean, log_dir)
    explained = batch_throughput(lean, log_dir, count=1000, explain=True)
    from tools.bench.formats import bulk_formats, report  # imported here: it imports this module's helpers

    formats = bulk_formats(lean, log_dir)
    from tools.bench import v2 as bench_v2  # the Open Inference Protocol's figures, in their own module

    v2 = bench_v2.measure(lean, log_dir, args.duration, args.connections, args.rounds)
    from tools.bench import mixed  # singles beside large batches

    beside_batches = mixed.singles_during_batches(lean, OURS_SOURCE, log_dir, args.duration)

    print(
        f"machine: {os.cpu_count()} CPUs, {platform_line()}; servers pinned to CPU 0, wrk -c{args.connections} "
        f"on CPU 1 for {args.duration} s per server and round"
    )
    print(f"throughput ours / floor in each round: {', '.join(f'{r:.3f}' for r in ratios)}")
    print("\n| measure | ours | floor | ours / floor |\n|---|---|---|---|")
    print(f"| requests/s, POST /predict | {ours['rps']:.0f} | {floor['rps']:.0f} | {ours['rps'] / floor['rps']:.2f} |")
    print(
        f"| p50 / p99 ms under load | {ours['p50_ms']} / {ours['p99_ms']} | {floor['p50_ms']} / {floor['p99_ms']} | |"
    )
    print(f"| errors under load | {ours['errors']} | {floor['errors']} | |")
    print(
        f"| cold start s, bundled model | {cold['bundled']} | {cold['floor']} | {cold['bundled'] / cold['floor']:.2f} |"
    )
    print(
        f"| cold start s, bundled model, without FUNCTION_USE_ASGI (the framework builds a Flask app first) | "
        f"{cold['bundled_flask_first']} | {cold['floor']} | {cold['bundled_flask_first'] / cold['floor']:.2f} |"
    )
    print(
        f"| cold start s, model from fake-gcs-server as deployed (MODEL_EXPECTED_VERSION) | {cold['gcs']} | "
        f"{cold['floor']} | {cold['gcs'] / cold['floor']:.2f} |"
    )
    print(
        f"| cold start s, from fake-gcs-server without it (waits for the download) | {gcs['cold_start_downloading']} "
        f"| {cold['floor']} | {gcs['cold_start_downloading'] / cold['floor']:.2f} |"
    )
    gcs_load, gcs_floor = gcs["load"], gcs["floor_load"]  # a floor run right before it: the machine drifts
    memory_rows = (
        ("pss_mb", "memory MB after load (PSS: the container's count, a shared page once)"),
        ("rss_mb", "resident memory MB after load (RSS summed: the two processes' shared pages twice)"),
    )
    for kind, unit in memory_rows:
        print(f"| {unit}, bundled model | {ours[kind]} | {floor[kind]} | {ours[kind] / floor[kind]:.2f} |")
        print(
            f"| {unit}, model from fake-gcs-server | {gcs_load[kind]} | {gcs_floor[kind]} | "
            f"{gcs_load[kind] / gcs_floor[kind]:.2f} |"
        )
    print(
        f"| requests/s, model from fake-gcs-server | {gcs_load['rps']:.0f} | {gcs_floor['rps']:.0f} | "
        f"{gcs_load['rps'] / gcs_floor['rps']:.2f} |"
    )
    print(
        f"\nin-process, one request through the app: p50 {inprocess['request']['p50_us']} us, "
        f"p99 {inprocess['request']['p99_us']} us; the predictor alone: p50 {inprocess['predictor']['p50_us']} us, "
        f"p99 {inprocess['predictor']['p99_us']} us"
    )
    print(
        f"in-process, our request path over the floor's function ({ablation['floor_function_us']} us): "
        + "; ".join(f"{part} {us:+.2f} us" for part, us in ablation["costs_us"].items())
    )
    print(
        "the storage path at start, after the server's own imports: "
        + "; ".join(f"{part['part']} {part['ms']} ms {part['mb']:+} MB" for part in gcs["parts"])
    )
    print(
        f"batch of {BATCH_SIZE:,} penguins: {batch['server_s']} s server-side = {batch['penguins_per_s_server']:,} "
        f"penguins/s ({batch['penguins_per_s_client']:,}/s seen by the client, JSON transfer included)"
    )
    print(
        f"explaining a batch of 1,000 penguins: {explained['server_s']} s server-side "
        f"({explained['first_server_s']} s for the first, which builds the explanation tables)"
    )
    print(report(formats))
    print("single predictions beside large batches: " + mixed.report(beside_batches))
    print("\n".join(bench_v2.report(v2)))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "inprocess": inprocess,
                    "ablation": ablation,
                    "floor": floor,
                    "ours": ours,
                    "throughput_ratios": ratios,
                    "cold_start": cold,
                    "gcs": gcs,
                    "batch": batch,
                    "explain": explained,
                    "formats": formats,
                    "v2": v2,
                    "singles_beside_batches": beside_batches,
                },
                indent=2,
            )
        )
    shutil.rmtree(log_dir, ignore_errors=True)
    return 0


def platform_line() -> str:
    import platform

    return f"{platform.machine()}, Python {platform.python_version()}"


if __name__ == "__main__":
    sys.exit(main())
