"""In-process figures for `make bench`, run inside the lean (deployable) venv: no socket, no server.

Each request goes through the ASGI app the Functions Framework builds, on one event loop. Prints JSON:
  request    p50/p99 us of one prediction through the app, and of the predictor alone
  ablation   us per request of ours over the fast-lane floor's function, and what each part of our path
             costs: ours measured whole, then with one more part replaced by a constant each time
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from functools import partial

import functions_framework

from tools.examples import ADELIE
from tools.procs import stdout_to_devnull

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BODY = json.dumps(ADELIE).encode()


def scope(body: bytes) -> dict:
    """The ASGI scope of a POST /predict carrying a JSON body."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/predict",
        "raw_path": b"/predict",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8080),
    }


async def post(app, body: bytes = BODY) -> int:
    """One POST /predict through the ASGI app, its body in one message (the seed's Adelie by default); the status."""
    sent: list[dict] = []
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict:
        return pending.pop() if pending else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope(body), receive, send)
    return sent[0]["status"]


async def _timed(app, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        await post(app)
        times.append(time.perf_counter() - started)
    return times


def _per_request_us(app, n: int) -> float:
    """The best of seven runs' mean, in microseconds per request."""
    return min(statistics.fmean(asyncio.run(_timed(app, n))) for _ in range(7)) * 1e6


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "p50_us": round(statistics.median(ordered) * 1e6, 1),
        "p99_us": round(ordered[int(len(ordered) * 0.99)] * 1e6, 1),
    }


def main(n: int = 20_000) -> None:
    floor = functions_framework.create_app("predict", os.path.join(ROOT, "tools", "bench", "peers", "asgi_floor.py"))
    app = functions_framework.create_app("predict", os.path.join(ROOT, "function", "main.py"))
    import main as function_main  # function/ is on sys.path: create_app put it there, as it serves

    from penguins.features import measurements_of
    from penguins.validation import PENGUIN

    with stdout_to_devnull():  # the function's request logs
        assert asyncio.run(post(app)) == 200
        request_times = asyncio.run(_timed(app, n))[1000:]
        predictor = function_main.APP.models.get().predictor
        penguin = PENGUIN.validate_python(ADELIE)
        measurements = measurements_of(penguin)
        predictor_times = []
        for _ in range(n):
            started = time.perf_counter()
            predictor.predict_penguin(measurements, penguin.get("sex"), penguin["island"])
            predictor_times.append(time.perf_counter() - started)

        # What each part costs: replace it by what it returned for this request, one more part each time.
        floor_us = _per_request_us(floor, n // 4)
        costs, previous = {}, _per_request_us(app, n // 4)
        costs["ours over the floor's function"] = round(previous - floor_us, 2)
        for name, replace in parts(function_main):
            replace()
            now = _per_request_us(app, n // 4)
            costs[name] = round(previous - now, 2)
            previous = now
        costs["the rest: routing, the call's headers, the answer's headers, less the floor's body and JSON"] = round(
            previous - floor_us, 2
        )
    print(
        json.dumps(
            {
                "request": percentiles(request_times),
                "predictor": percentiles(predictor_times),
                "ablation": {"floor_function_us": round(floor_us, 2), "costs_us": costs},
            }
        )
    )


def parts(function_main) -> list:
    """Our request path's parts in order, each (name, replace): replace() swaps the part, for good, for a
    stand-in that returns what it returned for this request, so what is left costs nothing of it."""
    from penguins import log
    from penguins.web import body, pipeline

    incoming = pipeline.Incoming(BODY, "application/json", "", 10_000)
    decoded = pipeline.decode_request("json_codec", incoming)
    model = function_main.APP.models.get()
    answered = pipeline.answer_request(*decoded, model, 1.0)
    rows = pipeline.answer_rows(model, decoded[2], False)
    stand_ins = [
        ("the request log line", log, "request_entry", lambda *a, **k: None),
        ("the prediction and its warnings", pipeline, "answer_rows", lambda *a: [dict(rows[0])]),
        ("encoding the answer, the log fields, the response", pipeline, "answer_request", lambda *a: answered),
        ("decoding and validating", pipeline, "decode_request", lambda *a: decoded),
        ("reading the body", body, "read", _constant_body),
    ]
    for _, module, attribute, _ in stand_ins:
        if not hasattr(module, attribute):  # renamed: replacing it would measure nothing
            raise SystemExit(f"{module.__name__}.{attribute} is gone: update tools/bench/inprocess.py")
    return [(name, partial(setattr, module, attribute, value)) for name, module, attribute, value in stand_ins]


async def _constant_body(*args: object) -> bytes:
    return BODY


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:2]))  # optional: requests to time
