"""One JSON line per event on stdout, in Cloud Logging's structured format."""

from __future__ import annotations

import json
import re
import sys
import threading

_TRACE_CONTEXT = re.compile(r"^([0-9a-fA-F]{32})(?:/|$)")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_write_lock = threading.Lock()


def trace_id(headers) -> str | None:
    """The trace id from X-Cloud-Trace-Context or W3C traceparent, when present and well formed."""
    cloud = headers.get("X-Cloud-Trace-Context")
    if cloud:
        match = _TRACE_CONTEXT.match(cloud)
        if match:
            return match.group(1).lower()
    parent = headers.get("traceparent")
    if parent:
        match = _TRACEPARENT.match(parent.strip())
        if match:
            return match.group(1)
    return None


def emit(severity: str, message: str, **fields: object) -> None:
    """Write one structured log entry; None-valued fields are left out."""
    entry = {"severity": severity, "message": message}
    entry.update((key, value) for key, value in fields.items() if value is not None)
    line = json.dumps(entry, default=str) + "\n"
    # One write per line under a lock, flushed, so lines from many threads never interleave or linger.
    with _write_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


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
    severity = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
    trace_field = None
    if trace:
        trace_field = f"projects/{project_id}/traces/{trace}" if project_id else trace
    emit(
        severity,
        f"{method} {path} {status}",
        httpRequest={"requestMethod": method, "requestUrl": path, "status": status, "latency": f"{latency_s:.6f}s"},
        **{"logging.googleapis.com/trace": trace_field},
        **fields,
    )
