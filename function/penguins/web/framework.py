"""What the Functions Framework answers itself answers JSON too: its own 404s, a 405 for a method it does not
route, a crash outside our function.

The framework's ASGI app routes /robots.txt and /favicon.ico to a plain-text 404 of its own, answers methods
outside its list (TRACE, PROPFIND, ...) with Starlette's plain-text 405, and has no error handlers for ASGI
functions yet (functions-framework-python #401, PR #442). It builds its app after loading main.py, from the
middleware class its `aio` module names: main.py names this one instead, which passes our answers through
untouched and turns the framework's own into the contract's JSON errors.
"""

from __future__ import annotations

import contextlib
import traceback
from http import HTTPStatus

import orjson

from .. import log
from .responses import JSON, NOSNIFF

_OURS = NOSNIFF  # every answer of ours carries it; the framework's plain-text errors do not
_KEPT_HEADERS = (b"allow",)
# What the framework's app routes to our function (functions_framework.aio, _create_asgi_app_with_function):
# these methods on any path but the two it answers itself, and but a path holding a line feed (its pattern
# /{path:path} is a regular expression whose "." stops there). Anything else may get the framework's own answer.
_ROUTED_METHODS = frozenset(("GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"))
_FRAMEWORK_PATHS = frozenset(("/robots.txt", "/favicon.ico"))


class JsonErrors:
    """ASGI middleware: the framework's own error answers become {"error", "detail"} JSON; a crash a JSON 500."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state = None  # what the watched answer did: only a request the framework may answer itself is watched
        path = scope["path"]
        if scope["method"] in _ROUTED_METHODS and path not in _FRAMEWORK_PATHS and "\n" not in path:
            # Our function answers this request, and its answers are JSON already: nothing to watch on the way
            # out (watching every message cost each request 6,700 instructions of 370,000: make instructions).
            watched = send
        else:
            state = {"started": False, "replaced": False}
            watched = _replacing_plain_errors(send, state)
        try:
            await self.app(scope, receive, watched)
        except Exception:
            log.emit("ERROR", "unhandled exception in the framework\n" + traceback.format_exc())
            if state is None or not state["started"]:  # unwatched, it is not known: uvicorn refuses a second start
                with contextlib.suppress(RuntimeError):
                    await _send_error(send, 500, "Internal error; it has been logged.", [])


def _replacing_plain_errors(send, state: dict):
    """send, with the framework's own error answers (4xx and 5xx without our nosniff) replaced by JSON ones."""

    async def send_json_errors(message: dict) -> None:
        if message["type"] == "http.response.start":
            state["started"] = True
            if message["status"] >= 400 and _OURS not in message.get("headers", ()):
                state["replaced"] = True
                kept = [(n, v) for n, v in message.get("headers", ()) if n.lower() in _KEPT_HEADERS]
                return await _send_error(send, message["status"], HTTPStatus(message["status"]).phrase, kept)
        elif state["replaced"]:
            return None  # the framework's plain-text body: already answered
        await send(message)

    return send_json_errors


async def _send_error(send, status: int, sentence: str, headers: list) -> None:
    body = orjson.dumps({"error": sentence, "detail": []})
    start_headers = [(b"content-type", JSON), (b"content-length", b"%d" % len(body)), NOSNIFF, *headers]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})
