"""The servers measured: ours from the deployable venv, and the seed's design, each spawned cold on CPU 0."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tools.bench.compare import PEERS_DIR, peer_bin
from tools.examples import ADELIE
from tools.procs import free_port, function_command, stop_process_group

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Server:
    """A server process started cold, pinned to CPU 0 (the size of a 1-vCPU instance), logging to a file."""

    name: str
    argv: list[str]
    cwd: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    started: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        self.started = time.perf_counter()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                ["taskset", "-c", "0", *argv],
                cwd=self.cwd,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def first_correct_answer_s(self, timeout_s: float = 120) -> float:
        """Seconds from spawn to the first 200 that names Adelie for the seed's Adelie: the cold start."""
        assert self.process is not None
        body = json.dumps(ADELIE).encode()
        while time.perf_counter() - self.started < timeout_s:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")
            request = urllib.request.Request(
                self.url + "/predict", data=body, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if b"Adelie" not in response.read():
                        raise RuntimeError(f"{self.name} answered the Adelie wrongly")
                    return time.perf_counter() - self.started
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.005)
        raise RuntimeError(f"{self.name} gave no correct answer within {timeout_s:.0f} s")

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)

    def __enter__(self) -> Server:
        self.start()
        self.first_correct_answer_s()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def ours(lean_bin: Path, log_dir: Path, threads: int | None = None, **env: str) -> Server:
    """Our function from a venv of function/requirements.txt alone, THREADS as for a 1-vCPU instance."""
    if threads is not None:
        env["THREADS"] = str(threads)
    port = free_port()
    return Server("ours", function_command(port, bin_dir=lean_bin), ROOT, log_dir / "ours.log", env, port)


def seed(log_dir: Path) -> Server:
    """The seed's design as the peers table serves it (tools/bench/peers): FastAPI + uvicorn, pandas, XGBClassifier."""
    argv = [str(peer_bin("seed", "uvicorn")), "seed_fastapi:app", "--port", "{port}", "--log-level", "warning"]
    return Server("seed", argv, PEERS_DIR, log_dir / "seed.log")
