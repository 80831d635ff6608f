"""One JSON line per event on stdout, in Cloud Logging's structured format."""

from __future__ import annotations

import atexit
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
    with _write_lock:
        _REQUEST_LINES.append(line)
        _flush_locked()


# Request lines wait here while other requests are in flight, and go out in one write when the last one
# finishes (or MAX_PENDING_LINES wait). A write to stdout is a system call that releases the GIL: one
# per request means one more hand-over of the interpreter per request under load, which cost more than
# everything else the function adds to the framework (py-spy, under wrk). An idle instance has nothing
# waiting, so no line is ever late by more than the requests it shared the instance with.
MAX_PENDING_LINES = 64
_REQUEST_LINES: list[bytes] = []
_in_flight = 0


def request_started() -> None:
    """Count a request in: its log line may wait for the others in flight."""
    global _in_flight
    with _write_lock:
        _in_flight += 1


def _flush_locked() -> None:
    if not _REQUEST_LINES:
        return
    data = b"".join(_REQUEST_LINES)
    _REQUEST_LINES.clear()
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:  # a text-only stream (a test's capture, say)
        stream.write(data.decode())
        stream.flush()


def flush() -> None:
    """Write every waiting line now."""
    with _write_lock:
        _flush_locked()


atexit.register(flush)


# The start of a request line, up to its latency, per (method, path, status): encoded once by orjson
# (so escaped), instead of building and encoding the same nested object on every request. Paths come
# from clients, so only the first MAX_LINE_STARTS are kept.
MAX_LINE_STARTS = 256
_LINE_STARTS: dict[tuple[str, str, int], bytes] = {}


def _line_start(method: str, path: str, status: int) -> bytes:
    key = (method, path, status)
    start = _LINE_STARTS.get(key)
    if start is None:
        http_request = {"requestMethod": method, "requestUrl": path, "status": status, "latency": ""}
        severity = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
        message = f"{method} {path} {status}"
        encoded = orjson.dumps({"severity": severity, "message": message, "httpRequest": http_request})
        start = encoded[: -len(b'"}}')]  # open: the latency's value follows
        if len(_LINE_STARTS) < MAX_LINE_STARTS:
            _LINE_STARTS[key] = start
    return start


def request_entry(
    method: str,
    path: str,
    status: int,
    latency_s: float,
    trace: str | None,
    project_id: str | None,
    fields: dict | None = None,
) -> None:
    """Log one answered request (counted in by request_started); fields are added to the line."""
    if trace:
        trace = f"projects/{project_id}/traces/{trace}" if project_id else trace
        fields = {"logging.googleapis.com/trace": trace, **(fields or {})}
    end = b"," + orjson.dumps(fields, default=str)[1:] + b"\n" if fields else b"}\n"
    line = b"".join((_line_start(method, path, status), b'%.6fs"}' % latency_s, end))
    global _in_flight
    with _write_lock:
        if _in_flight:  # not counted in: a test calling this directly
            _in_flight -= 1
        _REQUEST_LINES.append(line)
        if _in_flight == 0 or len(_REQUEST_LINES) >= MAX_PENDING_LINES:
            _flush_locked()
