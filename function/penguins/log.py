"""One JSON line per event on stdout, in Cloud Logging's structured format."""

from __future__ import annotations

import re
import sys
import threading

import orjson

_TRACE_CONTEXT = re.compile(r"^([0-9a-fA-F]{32})(?:/|$)")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_write_lock = threading.Lock()


def trace_id(environ: dict) -> str | None:
    """The trace id from X-Cloud-Trace-Context or W3C traceparent, when present and well formed."""
    cloud = environ.get("HTTP_X_CLOUD_TRACE_CONTEXT")
    if cloud:
        match = _TRACE_CONTEXT.match(cloud)
        if match:
            return match.group(1).lower()
    parent = environ.get("HTTP_TRACEPARENT")
    if parent:
        match = _TRACEPARENT.match(parent.strip())
        if match:
            return match.group(1)
    return None


def emit(severity: str, message: str, **fields: object) -> None:
    """Write one structured log entry; None-valued fields are left out."""
    entry = {"severity": severity, "message": message}
    entry.update((key, value) for key, value in fields.items() if value is not None)
    _write(entry)


def _write(entry: dict) -> None:
    line = orjson.dumps(entry, default=str, option=orjson.OPT_APPEND_NEWLINE)
    stream = sys.stdout
    # One write per line under a lock, flushed, so lines from many threads never interleave or linger.
    with _write_lock:
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            buffer.write(line)
            buffer.flush()
        else:
            stream.write(line.decode())
            stream.flush()


def request_entry(
    method: str,
    path: str,
    status: int,
    latency_s: float,
    trace: str | None,
    project_id: str | None,
    **fields: object,
) -> None:
    """Log one answered request."""
    entry = {
        "severity": "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO",
        "message": f"{method} {path} {status}",
        "httpRequest": {"requestMethod": method, "requestUrl": path, "status": status, "latency": f"{latency_s:.6f}s"},
    }
    if trace:
        entry["logging.googleapis.com/trace"] = f"projects/{project_id}/traces/{trace}" if project_id else trace
    entry.update(fields)
    _write(entry)
