"""What the loopback test servers (fake_gcp, fault_proxy, test_deploy's wrong function) share."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def send_json(handler: BaseHTTPRequestHandler, status: int, data: bytes, content_type="application/json") -> None:
    """Answer with a JSON body already encoded, its length declared."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, and no access log on stderr."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass


class LoopbackService:
    """A threaded server on a free loopback port, serving for the length of a `with` block."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
