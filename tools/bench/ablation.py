"""Where our time per request goes, against the floor's function; run by `make bench` in the lean venv.

Each request builds a werkzeug Request, calls the function and lets Flask make the response, in-process.
Ours is measured whole, then with one more part replaced by a constant each time; the differences are what
each part costs. Prints JSON: microseconds per request.
"""

import importlib.util
import io
import json
import os
import sys
import timeit

import functions_framework
from flask import Request, Response

from tools.examples import adelie_post_environ
from tools.procs import stdout_to_devnull

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _floor_function():
    """The floor's module, loaded from its file (peers/ is a folder of servers, not a package)."""
    path = os.path.join(ROOT, "tools", "bench", "peers", "floor_function.py")
    spec = importlib.util.spec_from_file_location("floor_function", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(requests: int = 20_000) -> None:
    app = functions_framework.create_app("predict", os.path.join(ROOT, "function", "main.py"))
    import main as function_main  # function/ is on sys.path: create_app put it there, as it serves

    from penguins import log, service

    body, environ = adelie_post_environ()

    def request() -> Request:
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body)
        return Request(env)

    def per_request_us(function) -> float:
        def once():
            app.make_response(function(request()))

        return min(timeit.timeit(once, number=requests) / requests for _ in range(7)) * 1e6

    with stdout_to_devnull():  # the function's request logs
        with app.app_context():
            model = function_main.MODELS.get()
            parsed = function_main.parse_predict_request(body, 100)
            answer, logged = service.predict_response(model, *parsed)
            floor = per_request_us(_floor_function().predict)
            steps = [("ours", None, None)]
            steps += [("the request log line", log, {"request_entry": lambda *a: None})]
            constant = {"predict_response": lambda *a: (dict(answer), dict(logged))}
            steps += [("the prediction, its warnings and its log fields", service, constant)]
            steps += [("validation", function_main, {"parse_predict_request": lambda *a: parsed})]
            steps += [("reading and checking the body", function_main, {"read_json_body": lambda r, m: r.get_data()})]
            bare = {
                "json_response": lambda *a, **k: Response(b'{"prediction":"Adelie"}', content_type="application/json")
            }
            steps += [("the answer's orjson and headers", function_main, bare)]
            costs, previous = {}, None
            for name, module, replacements in steps:
                for attribute, value in (replacements or {}).items():
                    if not hasattr(module, attribute):  # renamed: replacing it would measure nothing
                        raise SystemExit(f"{module.__name__}.{attribute} is gone: update tools/bench/ablation.py")
                    setattr(module, attribute, value)
                now = per_request_us(function_main.predict)
                if previous is None:
                    costs["ours over the floor's function"] = round(now - floor, 2)
                else:
                    costs[name] = round(previous - now, 2)
                previous = now
            costs["the rest: routing, less the floor's jsonify (ours builds its Response directly)"] = round(
                previous - floor, 2
            )
    print(json.dumps({"floor_function_us": round(floor, 2), "costs_us": costs}))


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:2]))  # optional: requests per measurement
