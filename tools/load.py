"""`make load`: Locust, headless, against HOST or a local function started here; writes Locust's HTML report.

With --profile, the load shape of that profile in locustfile.py drives the users, not --users and --time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tools.procs import free_port, function_command, stop_process_group

ROOT = Path(__file__).resolve().parent.parent

BIN = Path(sys.executable).parent


def start_local_function(log_path: Path) -> tuple[subprocess.Popen, str]:
    """The real function on a free loopback port, answering /health."""
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            function_command(port),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.05)
    stop_process_group(process)
    raise SystemExit(f"the local function did not answer /health; see {log_path}")


def run_locust(
    host: str,
    users: int,
    spawn_rate: int,
    run_time: str,
    html: Path | None,
    csv_prefix: Path | None,
    env: dict[str, str] | None = None,
    profile: str = "",
    timeout_s: float | None = None,
) -> int:
    """Run locustfile.py headless; its exit code says whether the run passed. A profile's shape sets the users."""
    command = [str(BIN / "locust"), "-f", str(ROOT / "locustfile.py"), "--headless", "--host", host]
    if not profile:
        command += ["--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", run_time]
    command += ["--only-summary", "--stop-timeout", "5"]
    if html:
        html.parent.mkdir(parents=True, exist_ok=True)
        command += ["--html", str(html)]
    if csv_prefix:
        command += ["--csv", str(csv_prefix)]
    env = {**os.environ, **(env or {}), **({"LOAD_PROFILE": profile} if profile else {})}
    return subprocess.run(command, cwd=ROOT, env=env, timeout=timeout_s).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="", help="URL of a deployed function; empty = start a local one")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--time", default="30s", help="how long to run, e.g. 30s, 2m")
    parser.add_argument("--html", default=str(ROOT / "reports" / "load.html"))
    parser.add_argument("--profile", default="", help="baseline, normal, stress or spike (locustfile.py's shapes)")
    parser.add_argument("--time-scale", default="", help="multiply the profile's phase lengths (LOAD_TIME_SCALE)")
    args = parser.parse_args()
    process = None
    host = args.host
    if not host:
        (ROOT / "reports").mkdir(exist_ok=True)
        process, host = start_local_function(ROOT / "reports" / "load-function.log")
    try:
        what = f"profile {args.profile}" if args.profile else f"{args.users} users for {args.time}"
        print(f"load: {what} against {host}; report in {args.html}", flush=True)
        env = {"LOAD_TIME_SCALE": args.time_scale} if args.time_scale else {}
        return run_locust(host, args.users, args.spawn_rate, args.time, Path(args.html), None, env, args.profile)
    finally:
        if process:
            stop_process_group(process)


if __name__ == "__main__":
    sys.exit(main())
