"""A loopback HTTP proxy in front of fake-gcs-server that can be told to fail, answer garbage or check tokens."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable

from tests.support.loopback_http import LoopbackService, QuietHandler, send_json


class FaultProxy(LoopbackService):
    """Forwards every request to the upstream server, unless told otherwise.

    failing: while set, every request gets a 500. scripted: (status, body) answers given first, one per
    request. require_token: a request whose Authorization it refuses gets a 401, as Cloud Storage's.
    rewrite(path, body): the upstream answer's body as the client gets it. after(path): called once upstream
    has answered and before the client gets that answer (to change the bucket between two requests).
    """

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.failing = threading.Event()
        self.requests_failed = 0
        self.scripted: list[tuple[int, bytes]] = []
        self.require_token: Callable[[str | None], bool] | None = None
        self.rewrite: Callable[[str, bytes], bytes] | None = None
        self.after: Callable[[str], None] | None = None
        self.seen: list[tuple[str, str | None]] = []  # (path, Authorization) of every request
        proxy = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.seen.append((self.path, self.headers.get("Authorization")))
                if proxy.failing.is_set():
                    proxy.requests_failed += 1
                    send_json(self, 500, b'{"error": {"code": 500, "message": "injected failure"}}')
                    return
                if proxy.scripted:
                    status, data = proxy.scripted.pop(0)
                    proxy.requests_failed += 1
                    send_json(self, status, data)
                    return
                if proxy.require_token and not proxy.require_token(self.headers.get("Authorization")):
                    send_json(self, 401, b'{"error": {"code": 401, "message": "Invalid Credentials"}}')
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                upstream.close()
                if proxy.rewrite is not None:
                    data = proxy.rewrite(self.path, data)
                if proxy.after is not None:
                    proxy.after(self.path)
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        super().__init__(Handler)
