"""In-process latency of one prediction, run inside the lean (deployable) venv by `make bench`.

Prints JSON: p50/p99 in microseconds of (a) the whole request through the Functions Framework app, without
a socket, and (b) the predictor alone on one penguin.
"""

import io
import json
import os
import statistics
import sys
import time

import functions_framework

from tools.examples import ADELIE, adelie_post_environ
from tools.procs import stdout_to_devnull

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "p50_us": round(statistics.median(ordered) * 1e6, 1),
        "p99_us": round(ordered[int(len(ordered) * 0.99)] * 1e6, 1),
    }


def main(n: int = 20000) -> None:
    app = functions_framework.create_app("predict", os.path.join(ROOT, "function", "main.py"))
    import main as function_main

    from penguins.features import measurements_of
    from penguins.validation import PENGUIN

    body, environ = adelie_post_environ()
    with stdout_to_devnull():  # the function's request logs
        request_times = []
        for i in range(n + 1000):
            env = dict(environ)
            env["wsgi.input"] = io.BytesIO(body)
            started = time.perf_counter()
            response = app(env, lambda *args: None)
            b"".join(response)
            response.close()
            if i >= 1000:
                request_times.append(time.perf_counter() - started)
        predictor = function_main.MODELS.get().predictor
        penguin = PENGUIN.validate_python(ADELIE)
        measurements = measurements_of(penguin)
        predictor_times = []
        for _ in range(n):
            started = time.perf_counter()
            predictor.predict_penguin(measurements, penguin.get("sex"), penguin["island"])
            predictor_times.append(time.perf_counter() - started)
    print(json.dumps({"request": percentiles(request_times), "predictor": percentiles(predictor_times)}))


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:2]))  # optional: requests (and predictions) to time
