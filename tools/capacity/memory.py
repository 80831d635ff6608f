"""Worst-case memory: the server's peak resident memory under its largest accepted requests, all at once.

As many maximal requests at once as the server has threads (THREADS = 4 per vCPU), twice over, then the
kernel's high-water mark (VmHWM) of the server's processes. And a sustained run of the realistic mix, at
the deployed concurrency, on a fresh server.
"""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from .drive import measure_cpu
from .mix import calls
from .proc import peak_resident_mib, resident_mib
from .servers import Server, ours

MAX_BODY_BYTES = 10 * 1024 * 1024  # the function's MAX_BODY_BYTES default (penguins/settings.py)
MAX_BATCH_SIZE = 10_000  # its MAX_BATCH_SIZE default
THREADS_PER_VCPU = 4  # the Functions Framework's gunicorn: THREADS = 4 x CPUs


@dataclass(frozen=True)
class WorstRequest:
    """A maximal request the function accepts, and the status it must answer."""

    name: str
    path: str
    content_type: str
    body: bytes
    status: int


def _padded(text: str, size: int) -> bytes:
    """JSON text grown to `size` bytes with whitespace before its last brace (whitespace is valid JSON)."""
    return (text[:-1] + " " * (size - len(text.encode()))).encode() + b"}"


def json_batch(explain: bool = True) -> WorstRequest:
    """MAX_BATCH_SIZE penguins, explanations on, padded to just under MAX_BODY_BYTES."""
    from tools.examples import random_penguins

    text = json.dumps({"instances": random_penguins(MAX_BATCH_SIZE), "explain": explain})
    return WorstRequest(
        "JSON batch, 10,000 penguins, explain" if explain else "JSON batch, 10,000 penguins",
        "/predict",
        "application/json",
        _padded(text, MAX_BODY_BYTES - 1),
        200,
    )


def json_batch_all_invalid() -> WorstRequest:
    """MAX_BATCH_SIZE penguins that break every rule: the largest error the validation builds."""
    wrong = {
        "bill_length_mm": 1,
        "bill_depth_mm": 99,
        "flipper_length_mm": 1,
        "body_mass_g": 3.75,
        "island": "Anvers",
        "sex": "yes",
    }
    text = json.dumps({"instances": [wrong] * MAX_BATCH_SIZE})
    return WorstRequest(
        "JSON batch, 10,000 invalid penguins", "/predict", "application/json", _padded(text, MAX_BODY_BYTES - 1), 422
    )


# HOOK (issue 15, CSV): a 10,000-row CSV joins the worst requests as soon as the function answers text/csv
# (issue 15 is being built in parallel). Nothing to change here when it lands: csv_batch() probes the server.
def csv_batch(url: str) -> WorstRequest | None:
    """MAX_BATCH_SIZE CSV rows padded with an extra column to just under MAX_BODY_BYTES; None without CSV."""
    from tools.examples import random_penguins

    columns = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "island", "sex", "note"]
    probe = ",".join(columns) + "\n39.1,18.7,181,3750,Torgersen,male,x\n"
    if _post(url, "/predict", "text/csv", probe.encode())[0] != 200:
        return None
    penguins = random_penguins(MAX_BATCH_SIZE)
    rows = [",".join("" if p[c] is None else str(p[c]) for c in columns[:-1]) for p in penguins]
    note_chars = (MAX_BODY_BYTES - 1 - len(",".join(columns)) - 1 - sum(len(r) + 2 for r in rows)) // MAX_BATCH_SIZE
    body = ",".join(columns) + "\n" + "".join(f"{r},{'n' * note_chars}\n" for r in rows)
    return WorstRequest("CSV, 10,000 rows", "/predict?explain=true", "text/csv", body.encode(), 200)


def _post(url: str, path: str, content_type: str, body: bytes) -> tuple[int, int]:
    """(status, response bytes) of one POST on its own connection."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=300)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, len(response.read())
    finally:
        connection.close()


def _all_at_once(url: str, request: WorstRequest, count: int) -> list[tuple[int, int]]:
    answers: list[tuple[int, int]] = []
    threads = [
        threading.Thread(target=lambda: answers.append(_post(url, request.path, request.content_type, request.body)))
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@dataclass(frozen=True)
class MemoryFigures:
    """Resident memory of the server's processes, in MiB."""

    idle_mib: float
    peak_mib: float
    requests: list[str]
    response_mib: float


def worst_case(lean_bin: Path, log_dir: Path, vcpus: int = 1, rounds: int = 2) -> MemoryFigures:
    """Peak memory under THREADS maximal requests at once (every worst request, `rounds` times)."""
    threads = THREADS_PER_VCPU * vcpus
    server: Server = ours(lean_bin, log_dir, threads=threads)
    with server:
        assert server.process is not None
        idle = resident_mib(server.process.pid)
        requests = [json_batch(), json_batch_all_invalid()]
        csv = csv_batch(server.url)
        if csv is not None:
            requests.append(csv)
        largest_answer = 0
        for request in requests:
            for _ in range(rounds):
                for status, size in _all_at_once(server.url, request, threads):
                    if status != request.status:
                        raise RuntimeError(f"{request.name}: answered {status}, expected {request.status}")
                    largest_answer = max(largest_answer, size)
        peak = peak_resident_mib(server.process.pid)
    names = [r.name for r in requests] + ([] if csv else ["CSV: not served yet (issue 15), skipped"])
    return MemoryFigures(round(idle, 1), round(peak, 1), names, round(largest_answer / 2**20, 1))


def sustained_mix(lean_bin: Path, log_dir: Path, call_count: int, connections: int) -> MemoryFigures:
    """Peak memory of a fresh server over `call_count` calls of the realistic mix on `connections` clients."""
    server = ours(lean_bin, log_dir, threads=THREADS_PER_VCPU)
    with server:
        assert server.process is not None
        idle = resident_mib(server.process.pid)
        figures = measure_cpu(server.process.pid, server.url, calls("ours", call_count, seed=2), connections)
        if figures.wrong_answers:
            raise RuntimeError(f"{figures.wrong_answers} wrong answers under the mix")
        peak = peak_resident_mib(server.process.pid)
    return MemoryFigures(round(idle, 1), round(peak, 1), [f"{call_count} calls of the mix"], 0.0)
