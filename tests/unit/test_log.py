"""Request log lines: each one written at once and whole, whatever the threads and the path."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from penguins import log


def request_lines(out: str) -> list[str]:
    return [json.loads(line)["message"] for line in out.splitlines() if line]


def entry(path: str) -> None:
    log.request_entry("GET", path, 200, 0.001, None, None)


def test_each_line_is_written_at_once_in_order(capsys):
    entry("/first")
    assert request_lines(capsys.readouterr().out) == ["GET /first 200"]  # nothing waits in a buffer
    log.emit("ERROR", "model store down")
    entry("/second")
    assert request_lines(capsys.readouterr().out) == ["model store down", "GET /second 200"]


def test_lines_from_many_threads_arrive_whole(capsys):
    paths = [f"/{thread}/{i}" for thread in range(8) for i in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(entry, paths))
    assert sorted(request_lines(capsys.readouterr().out)) == sorted(f"GET {path} 200" for path in paths)


def test_the_real_stdout_gets_whole_lines_from_its_file_descriptor():
    script = (
        "import threading; from penguins import log  # installed in this venv (make venv)\n"
        "def run(t):\n"
        "    for i in range(50):\n"
        "        log.request_entry('GET', f'/{t}/{i}', 200, 0.001, None, None, {'pad': 'x' * 100_000})\n"
        "threads = [threading.Thread(target=run, args=(t,)) for t in range(4)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
    )
    # Lines longer than a pipe holds (64 KiB), from four threads at once: each write is split.
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, timeout=60)
    lines = run.stdout.split(b"\n")
    assert lines[-1] == b""
    assert sorted(json.loads(line)["message"] for line in lines[:-1]) == sorted(
        f"GET /{t}/{i} 200" for t in range(4) for i in range(50)
    )


def test_lines_are_the_same_json_whatever_the_path_and_the_cache_stays_bounded(capsys):
    paths = [f'/odd "path" \\ {i} \u00e9\n' for i in range(log.MAX_LINE_STARTS + 50)]
    for path in paths:
        log.request_entry("GET", path, 404, 0.25, "a" * 32, "proj", {"error": f"no {path}"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["httpRequest"]["requestUrl"] for line in lines] == paths
    assert lines[-1] == {
        "severity": "WARNING",
        "message": f"GET {paths[-1]} 404",
        "httpRequest": {"requestMethod": "GET", "requestUrl": paths[-1], "status": 404, "latency": "0.250000s"},
        "logging.googleapis.com/trace": f"projects/proj/traces/{'a' * 32}",
        "error": f"no {paths[-1]}",
    }
    assert len(log._LINE_STARTS) <= log.MAX_LINE_STARTS
