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


def combined(rounds: list[CpuFigures]) -> CpuFigures:
    """Rounds as one: counts summed, CPU per call the median round's (a busy neighbour inflates some rounds)."""
    calls = sum(r.calls for r in rounds)
    median_cpu_s_per_call = statistics.median(r.cpu_s / r.calls for r in rounds)
    return CpuFigures(
        calls=calls,
        requests=sum(r.requests for r in rounds),
        predictions=sum(r.predictions for r in rounds),
        cpu_s=median_cpu_s_per_call * calls,
        wall_s=sum(r.wall_s for r in rounds),
        mean_latency_ms=statistics.fmean(r.mean_latency_ms for r in rounds),
        p50_latency_ms=statistics.median(r.p50_latency_ms for r in rounds),
        wrong_answers=sum(r.wrong_answers for r in rounds),
    )


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
