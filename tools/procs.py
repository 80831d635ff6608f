"""Process helpers shared by the tests and the benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path


def tree_pss_mb(pid: int) -> float:
    """Proportional memory (PSS) of a process and all its descendants, in MB: a page they share counts once.

    The framework's server is two processes, the arbiter that loaded the function and the worker forked from
    it; their shared pages are one copy in the container, which is what Cloud Run's memory limit counts. A sum
    of resident sizes counts them twice (tree_rss_mb).
    """
    return _tree_rollup_kb(pid, "Pss:") / 1024


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (summed: shared pages once per process)."""
    return _tree_rollup_kb(pid, "Rss:") / 1024


def _tree_rollup_kb(pid: int, field: str) -> int:
    total_kb = 0
    for member in tree_pids(pid):
        try:
            with open(f"/proc/{member}/smaps_rollup", encoding="ascii") as rollup:
                total_kb += next(int(line.split()[1]) for line in rollup if line.startswith(field))
        except (OSError, StopIteration):  # gone meanwhile, or a kernel without the rollup (before 4.14)
            continue
    return total_kb


def tree_pids(root: int) -> list[int]:
    """The process and all its descendants that are alive now."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
                parent = int(text[text.rindex(")") + 2 :].split()[1])  # after "(comm)", which may hold spaces
            except (OSError, IndexError, ValueError):
                continue  # it exited while we looked
            children.setdefault(parent, []).append(int(entry.name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


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
    """The real functions-framework serving `predict` from source (default: function/main.py) on loopback.

    An ASGI (`functions_framework.aio`) function is served with --asgi, as deploy.sh sets FUNCTION_USE_ASGI.
    """
    source = source or Path(__file__).resolve().parent.parent / "function" / "main.py"
    functions_framework = (bin_dir or Path(sys.executable).parent) / "functions-framework"
    return [
        str(functions_framework),
        "--target",
        "predict",
        "--source",
        str(source),
        # As deployed (FUNCTION_USE_ASGI=true): no unused Flask app is built first. A Flask function (an older
        # revision under `make ab`, the Flask floor) is served the way it was written.
        *(["--asgi"] if "functions_framework.aio" in Path(source).read_text() else []),
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
