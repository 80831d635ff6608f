"""Process helpers shared by the tests and the benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,rss="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for line in out.splitlines():
        child, parent, kb = (int(v) for v in line.split())
        children.setdefault(parent, []).append(child)
        rss[child] = kb
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total / 1024


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop a process started with start_new_session=True, and its children: TERM, then KILL after 10 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def function_command(port: int, source: Path | None = None, bin_dir: Path | None = None) -> list[str]:
    """The real functions-framework serving `predict` from source (default: function/main.py) on loopback."""
    source = source or Path(__file__).resolve().parent.parent / "function" / "main.py"
    functions_framework = (bin_dir or Path(sys.executable).parent) / "functions-framework"
    return [
        str(functions_framework),
        "--target",
        "predict",
        "--source",
        str(source),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


@contextmanager
def stdout_to_devnull():
    """Point file descriptor 1 at /dev/null: the function's log lines take their real path, unseen."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
