"""Send calls to a server over keep-alive connections and measure what they cost it in CPU time."""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from dataclasses import dataclass

from .mix import Call
from .proc import cpu_seconds


@dataclass(frozen=True)
class CpuFigures:
    """CPU time a server used for a number of calls, and what its clients saw."""

    calls: int
    requests: int
    predictions: int
    cpu_s: float
    wall_s: float
    mean_latency_ms: float
    p50_latency_ms: float
    wrong_answers: int

    @property
    def cpu_ms_per_call(self) -> float:
        return 1000 * self.cpu_s / self.calls

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_s / self.requests


def _send(host: str, port: int, calls: list[Call], latencies_s: list[float], wrong: list[int]) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    for call in calls:
        for request in call.requests:
            headers = {"Content-Type": "application/json"} if request.body is not None else {}
            started = time.perf_counter()
            connection.request(request.method, request.path, body=request.body, headers=headers)
            response = connection.getresponse()
            response.read()
            latencies_s.append(time.perf_counter() - started)
            if response.status not in request.ok_statuses:
                wrong.append(response.status)
    connection.close()


def measure_cpu(pid: int, url: str, calls: list[Call], connections: int = 4) -> CpuFigures:
    """The server tree's CPU seconds (from /proc) across the calls, sent over `connections` clients at once."""
    host, port = url.removeprefix("http://").split(":")
    shares = [calls[i::connections] for i in range(connections)]
    latencies: list[list[float]] = [[] for _ in shares]
    wrong: list[int] = []
    threads = [
        threading.Thread(target=_send, args=(host, int(port), share, lat, wrong))
        for share, lat in zip(shares, latencies)
    ]
    cpu_before, started = cpu_seconds(pid), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall_s, cpu_s = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
    every = [t for lat in latencies for t in lat]
    return CpuFigures(
        calls=len(calls),
        requests=len(every),
        predictions=sum(r.predictions for c in calls for r in c.requests),
        cpu_s=cpu_s,
        wall_s=wall_s,
        mean_latency_ms=1000 * statistics.fmean(every),
        p50_latency_ms=1000 * statistics.median(every),
        wrong_answers=len(wrong),
    )
