"""One JSON line per event on stdout, in Cloud Logging's structured format."""

from __future__ import annotations

import json
import os
import re
import sys
import threading

import orjson

_TRACE_CONTEXT = re.compile(r"^([0-9a-fA-F]{32})(?:/|$)")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_write_lock = threading.Lock()


def trace_id(cloud: str | None, parent: str | None) -> str | None:
    """The trace id from X-Cloud-Trace-Context or W3C traceparent (the headers' values), when well formed."""
    if cloud:
        match = _TRACE_CONTEXT.match(cloud)
        if match:
            return match.group(1).lower()
    if parent:
        match = _TRACEPARENT.match(parent.strip())
        if match:
            return match.group(1)
    return None


def emit(severity: str, message: str, **fields: object) -> None:
    """Write one structured log entry; None-valued fields are left out."""
    entry: dict[str, object] = {"severity": severity, "message": message}
    entry.update((key, value) for key, value in fields.items() if value is not None)
    _write_line(_encode(entry))


def _write_line(line: bytes) -> None:
    """Write one line now, whole: the lock keeps threads' lines from interleaving."""
    stream = sys.stdout
    with _write_lock:
        if stream is sys.__stdout__ and _STDOUT_FD is not None:
            # Straight to the file descriptor: every line is written at once anyway (an instance may be
            # throttled as soon as it has answered, so nothing waits in a buffer), and sys.stdout's text
            # and buffer layers cost 0.7 us more per line (measured: 3.3 us against 4.0, ~1% of a request).
            written = os.write(_STDOUT_FD, line)
            while written < len(line):  # a signal cut the write short: the rest, never a torn line
                written += os.write(_STDOUT_FD, line[written:])
        else:  # a replaced stdout (a test's capture, say)
            stream.write(line.decode())
            stream.flush()


def _stdout_fd() -> int | None:
    try:
        return sys.__stdout__.fileno()  # type: ignore[union-attr]  # None is caught below
    except (AttributeError, OSError, ValueError):  # no real stdout (None, or no descriptor): use the stream
        return None


_STDOUT_FD = _stdout_fd()


def _encode(entry: dict) -> bytes:
    """One line of JSON; a value orjson refuses (an integer past 64 bits a client sent as year) as stdlib's."""
    try:
        return orjson.dumps(entry, default=str, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # the rare case: a log line must never turn an answered request into a 500
        return json.dumps(entry, default=str, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def request_entry(
    method: str,
    path: str,
    status: int,
    latency_s: float,
    trace: str | None,
    project_id: str | None,
    fields: dict | None = None,
) -> None:
    """Log one answered request; fields are added to the line."""
    entry: dict[str, object] = {
        "severity": "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO",
        "message": f"{method} {path} {status}",
        "httpRequest": {"requestMethod": method, "requestUrl": path, "status": status, "latency": f"{latency_s:.6f}s"},
    }
    if trace:
        entry["logging.googleapis.com/trace"] = f"projects/{project_id}/traces/{trace}" if project_id else trace
    if fields:
        entry.update(fields)
    _write_line(_encode(entry))
