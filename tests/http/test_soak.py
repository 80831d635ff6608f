"""Soak: many requests against one real server; nothing fails and resident memory stays flat."""

from __future__ import annotations

import http.client
import json
import threading
import time

import pytest

from tools.examples import ADELIE, SEED_EXAMPLES
from tools.procs import tree_rss_mb

MIX = [
    (json.dumps(ADELIE).encode(), 200),
    (json.dumps({"instances": list(SEED_EXAMPLES.values()) * 3}).encode(), 200),
    (json.dumps({**ADELIE, "body_mass_g": 3.75}).encode(), 422),
    (b'{"bill_length_mm": 39.1,', 400),
    (json.dumps({**SEED_EXAMPLES["Gentoo"], "sex": None}).encode(), 200),
]


def hammer(port: int, count: int, threads: int = 4) -> tuple[int, list[float]]:
    """Send `count` requests from keep-alive connections; returns (unexpected answers, latencies)."""
    failures, latencies, lock = [0], [], threading.Lock()

    def worker(n: int, offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local, bad = [], 0
        for i in range(n):
            body, expected = MIX[(i + offset) % len(MIX)]
            started = time.perf_counter()
            conn.request("POST", "/predict", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            local.append(time.perf_counter() - started)
            bad += response.status != expected
        conn.close()
        with lock:
            failures[0] += bad
            latencies.extend(local)

    workers = [threading.Thread(target=worker, args=(count // threads, t)) for t in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return failures[0], latencies


@pytest.mark.slow
@pytest.mark.timeout(900)  # the long version: 200,000 requests took ~80 s on a quiet day, ~300 s on a busy one
def test_soak_memory_stays_flat_and_nothing_fails(start_server, long_run):
    server = start_server()
    total = 200_000 if long_run else 8_000
    failures, _ = hammer(server.port, 5_000 if long_run else 2_000)  # warm-up: caches, lazy imports, allocator pools
    rss_before = tree_rss_mb(server.process.pid)
    started = time.monotonic()
    failures, latencies = hammer(server.port, total)
    elapsed = time.monotonic() - started
    growth = tree_rss_mb(server.process.pid) - rss_before
    latencies.sort()
    print(
        f"\nsoak: {len(latencies)} requests in {elapsed:.0f} s, {failures} unexpected answers, "
        f"p50 {latencies[len(latencies) // 2] * 1e3:.1f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1e3:.1f} ms, "
        f"resident memory {rss_before:.1f} MB -> {rss_before + growth:.1f} MB ({growth:+.1f} MB)"
    )
    assert failures == 0
    assert len(latencies) == total
    assert growth < 10
