"""A loopback stand-in for the metadata server (and an OAuth token endpoint): tokens with expiry, refusals, a hang."""

from __future__ import annotations

import json
import secrets
import threading
import time

from tests.support.loopback_http import LoopbackService, QuietHandler, send_json

TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"
HANG_SECONDS = 30.0  # a hung answer is released by then at the latest, so no server thread outlives a test long


class FakeMetadata(LoopbackService):
    """Answers as the metadata server does (only requests with Metadata-Flavor: Google): the probe, the token."""

    def __init__(self, expires_in: float = 3600):
        self.expires_in = expires_in
        self.refuse_status: int | None = None  # answer the token request with this status instead
        self.garbage: bytes | None = None  # answer the token request with these bytes (status 200)
        self.hanging = threading.Event()  # while set, the token request is never answered
        self.issued: dict[str, float] = {}  # token -> wall-clock expiry
        self.token_requests = 0
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                if self.headers.get("Metadata-Flavor") != "Google":  # as the real one: refused without it
                    send_json(self, 403, b'{"error": "Missing Metadata-Flavor:Google header."}')
                elif self.path == "/computeMetadata/v1/":  # the reader's probe
                    self._send_flavored(200, b"instance/\nproject/\n", "application/text")
                elif self.path.split("?")[0] == TOKEN_PATH:
                    fake.token_requests += 1
                    self._answer_token()
                else:
                    self._send_flavored(404, b"not found", "text/html")

            def do_POST(self) -> None:  # an OAuth token endpoint: a service account key file's token_uri
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.token_requests += 1
                self._answer_token()

            def _answer_token(self) -> None:
                deadline = time.monotonic() + HANG_SECONDS
                while fake.hanging.is_set() and time.monotonic() < deadline:
                    time.sleep(0.05)
                if fake.refuse_status is not None:
                    self._send_flavored(fake.refuse_status, b"refused", "text/html")
                elif fake.garbage is not None:
                    self._send_flavored(200, fake.garbage, "application/json")
                else:
                    token = fake.issue()
                    body = {"access_token": token, "expires_in": fake.expires_in, "token_type": "Bearer"}
                    self._send_flavored(200, json.dumps(body).encode(), "application/json")

            def _send_flavored(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Metadata-Flavor", "Google")
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"

    def issue(self) -> str:
        """A new token, valid for expires_in seconds."""
        token = "ya29.fake-" + secrets.token_hex(8)
        self.issued[token] = time.time() + self.expires_in
        return token

    def valid(self, authorization: str | None) -> bool:
        """True for `Bearer <a token this server issued and that has not expired>`."""
        token = (authorization or "").removeprefix("Bearer ")
        return token in self.issued and time.time() < self.issued[token]

    def __exit__(self, *exc) -> None:
        self.hanging.clear()  # a hung answer ends now, so shutting down does not wait for it
        super().__exit__(*exc)
