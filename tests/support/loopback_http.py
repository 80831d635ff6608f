"""What the loopback test servers (fake_gcp, fault_proxy, test_deploy's wrong function) share."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler


def send_json(handler: BaseHTTPRequestHandler, status: int, data: bytes, content_type="application/json") -> None:
    """Answer with a JSON body already encoded, its length declared."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
