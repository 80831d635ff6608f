"""The peers table: ours beside the seed's design, MLServer and the framework's two floors, from one run.

    python -m tools.bench.compare [--only seed --only ours ...] [--duration 10] [--connections 8]

Each system starts cold on loopback, pinned to CPU 0 (the size of a 1-vCPU instance), with wrk on CPU 1:
cold start (spawn to the first correct answer), requests/s, p50/p99 under load, resident memory of the
process tree afterwards, errors. Systems (`--only`):
  seed       the seed README's design (peers/seed_fastapi.py: FastAPI, pandas, XGBClassifier)
  mlserver   Seldon MLServer's XGBoost runtime, V2 infer, serving the seed's model (peers/mlserver/)
  floor      a constant answer on the framework's Flask lane, our own install (peers/floor_function.py)
  asgi       the same on the framework's fast lane: aio, uvicorn with httptools and uvloop (peers/asgi_floor.py)
  ours       function/main.py from the deployable venv (--lean, default .venv-lean/bin)
The peers' venvs come from `make peers` (.venv-peers/); ours and the floor from `make bench`'s .venv-lean.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.bench.benchmark import post, wrk
from tools.examples import ADELIE
from tools.procs import free_port, function_command, stop_process_group, tree_rss_mb

ROOT = Path(__file__).resolve().parent.parent.parent
PEERS_DIR = ROOT / "tools" / "bench" / "peers"
PEER_VENVS = Path(os.environ.get("PENGUIN_PEER_VENVS", ROOT / ".venv-peers"))
SYSTEMS = ("seed", "mlserver", "floor", "asgi", "ours")
# The seed's Adelie as MLServer's XGBoost runtime takes it: the seed model's one-hot row (seed_fastapi.COLUMNS).
ADELIE_V2 = {
    "inputs": [
        {"name": "penguin", "shape": [1, 9], "datatype": "FP32", "data": [39.1, 18.7, 181, 3750, 0, 1, 0, 0, 1]}
    ],
    "outputs": [{"name": "predict_proba"}],
}


@dataclass
class Peer:
    """How to start one system and ask it the one question: argv ({port} filled in), folder, path, body, answer."""

    name: str
    argv: list[str]
    cwd: Path
    path: str = "/predict"
    body: dict = field(default_factory=lambda: ADELIE)
    expect: bytes = b"Adelie"
    env: dict[str, str] = field(default_factory=dict)


def peer_bin(venv: str, program: str) -> Path:
    """A program of a peer venv, or a sentence saying how to build it."""
    path = PEER_VENVS / venv / "bin" / program
    if not path.exists():
        raise RuntimeError(f"no {venv} peer venv ({path} is missing): run `make peers` once")
    return path


def seed_peer() -> Peer:
    """The seed's design on uvicorn, from the seed peer venv."""
    argv = [str(peer_bin("seed", "uvicorn")), "seed_fastapi:app", "--port", "{port}", "--log-level", "warning"]
    return Peer("seed-fastapi", argv, PEERS_DIR)


def seed_model_file() -> Path:
    """The seed peer's fitted model (fitting it on first use, as its first start would)."""
    subprocess.run([str(peer_bin("seed", "python")), "-c", "import seed_fastapi"], cwd=PEERS_DIR, check=True)
    from_peer = subprocess.run(
        [str(peer_bin("seed", "python")), "-c", "import seed_fastapi; print(seed_fastapi.MODEL_FILE)"],
        cwd=PEERS_DIR,
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(from_peer.stdout.strip())


def mlserver_peer(scratch: Path) -> Peer:
    """MLServer's XGBoost runtime over a model repository holding the seed's model."""
    repository = scratch / "mlserver"
    (repository / "penguins").mkdir(parents=True)
    shutil.copy(PEERS_DIR / "mlserver" / "settings.json", repository / "settings.json")
    shutil.copy(PEERS_DIR / "mlserver" / "model-settings.json", repository / "penguins" / "model-settings.json")
    shutil.copy(seed_model_file(), repository / "penguins" / "model.json")
    argv = [str(peer_bin("mlserver", "mlserver")), "start", "."]
    env = {"MLSERVER_HTTP_PORT": "{port}", "MLSERVER_GRPC_PORT": str(free_port())}
    return Peer("mlserver-xgboost", argv, repository, "/v2/models/penguins/infer", ADELIE_V2, b"predict_proba", env)


def fastlane_bin() -> Path:
    """The fastlane peer venv's bin folder: functions-framework with httptools and uvloop."""
    return peer_bin("fastlane", "functions-framework").parent


def framework_peer(name: str, bin_dir: Path, source: Path) -> Peer:
    """A function served by the functions-framework command of bin_dir, exactly as ours is."""
    argv = [*function_command(0, source, bin_dir)[:-1], "{port}"]  # the port comes last
    return Peer(name, argv, ROOT, env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})


def measure(peer: Peer, duration: int, connections: int, log_dir: Path) -> dict:
    """Start the peer cold on CPU 0, time its first correct answer, load it with wrk, read its memory."""
    port = str(free_port())
    argv = [arg.replace("{port}", port) for arg in peer.argv]
    env = {**os.environ, **{k: v.replace("{port}", port) for k, v in peer.env.items()}}
    url = f"http://127.0.0.1:{port}{peer.path}"
    body = json.dumps(peer.body).encode()
    log_path = log_dir / f"{peer.name}.log"
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            ["taskset", "-c", "0", *argv], cwd=peer.cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{peer.name} exited: {log_path.read_text()[-1500:]}")
                if time.perf_counter() - started > 120:
                    raise RuntimeError(f"{peer.name} gave no correct answer within 120 s (log: {log_path})")
                status, answer = post(url, body, timeout=5)
                if status == 200:
                    if peer.expect not in answer:
                        raise RuntimeError(f"{peer.name} answered 200 without {peer.expect!r}: {answer[:300]!r}")
                    cold_start_s = time.perf_counter() - started
                    break
                time.sleep(0.01)
            post(url, body)  # warm
            figures = wrk(url, peer.body, duration, connections)
            rss_mb = tree_rss_mb(process.pid)
        finally:
            stop_process_group(process)
    return {"system": peer.name, "cold_start_s": round(cold_start_s, 2), **figures, "rss_mb": round(rss_mb, 1)}


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table, each with its requests/s over ours."""
    ours = next((row for row in rows if row["system"] == "ours" and "failed" not in row), None)
    lines = ["| system | cold start s | req/s | p50 ms | p99 ms | RSS MB | errors | ours / it, req/s |"]
    lines.append("|---|---|---|---|---|---|---|---|")
    for row in rows:
        if "failed" in row:
            lines.append(f"| {row['system']} | failed: {row['failed'][:80]} | | | | | | |")
            continue
        ratio = f"{ours['rps'] / row['rps']:.2f}" if ours and row["rps"] else ""
        lines.append(
            f"| {row['system']} | {row['cold_start_s']} | {row['rps']:.0f} | {row['p50_ms']} | {row['p99_ms']} "
            f"| {row['rss_mb']} | {row['errors']} | {ratio} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=SYSTEMS, help="measure only these (repeatable)")
    parser.add_argument("--lean", type=Path, default=ROOT / ".venv-lean" / "bin", help="the deployable venv's bin")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk load per system")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"the peers table needs {tool} on PATH (Debian: apt-get install {tool})", file=sys.stderr)
            return 2
    chosen = args.only or list(SYSTEMS)
    scratch = Path(tempfile.mkdtemp(prefix="penguin-peers-"))
    builders = {
        "seed": seed_peer,
        "mlserver": lambda: mlserver_peer(scratch),
        "floor": lambda: framework_peer("framework-floor", args.lean, PEERS_DIR / "floor_function.py"),
        "asgi": lambda: framework_peer("asgi-floor", fastlane_bin(), PEERS_DIR / "asgi_floor.py"),
        "ours": lambda: framework_peer("ours", args.lean, ROOT / "function" / "main.py"),
    }
    rows = []
    for system in SYSTEMS:
        if system not in chosen:
            continue
        try:
            rows.append(measure(builders[system](), args.duration, args.connections, scratch))
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"{system}: {exc}", file=sys.stderr)
            rows.append({"system": system, "failed": str(exc)})
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all("failed" not in row for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
