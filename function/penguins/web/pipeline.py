"""The one request path: route, read the body once, decode, validate, predict, encode, answer, log one line.

Every way in walks it the same way; a format differs only in its codec (codecs/). Errors become JSON here,
in one place: an ApiError its status and sentence, anything else a logged 500 that shows no traceback.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from urllib.parse import parse_qsl

import anyio.to_thread
from anyio.lowlevel import RunVar

from .. import codecs, log
from ..codecs.base import Answered, Decoded, Incoming
from ..errors import ApiError, NotFound
from ..model.cache import ModelCache
from ..model.served import ServedModel
from ..predict.answers import answer_rows
from ..settings import Settings
from ..validation import parse_explain_flag, validate
from . import body as bodies
from .log_fields import prediction_fields
from .responses import Response, answer, header_pairs, json_answer
from .routes import Router

# Bodies from this size on are decoded, predicted and encoded in a worker thread, so that a large batch
# (~70-100 ms for 10,000 rows) does not hold up the small requests sharing the event loop. Measured in-process:
# 32 KiB is ~240 penguins, ~1 ms of work, and each hop to a worker thread costs ~60 us; below it the work
# holds the loop for less than a millisecond, and the two hops would add 10% or more to it.
OFFLOAD_FROM_BYTES = 32 * 1024
# At most this many large requests (a declared length from OFFLOAD_FROM_BYTES on) are read and worked on at
# once, one per CPU the process may run on; the others wait before their bodies are read. The work is CPU-bound,
# so more at once would not answer sooner, only hold more in memory: 8 maximal requests in flight on one CPU
# peaked at 936 MiB with 4 worked on at once and all 8 bodies read, 733 MiB with 4 slots, 549 with 2, 463 with 1.
OFFLOAD_THREADS = len(os.sched_getaffinity(0))
_large_request_slots: RunVar[anyio.Semaphore] = RunVar("large_request_slots")  # one per event loop, as anyio's own
INTERNAL_ERROR = {"error": "Internal error; it has been logged.", "detail": []}


class Call:
    """One request as the handlers see it: method, path, headers (lower-case names), query, body, parameters."""

    __slots__ = ("method", "path", "headers", "query", "channel", "params")

    def __init__(self, scope: dict, receive: bodies.Receive):
        self.method: str = scope["method"]
        self.path: str = scope["path"].rstrip("/") or "/"
        self.headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        self.query: bytes = scope["query_string"]
        self.channel = bodies.BodyChannel(receive)
        self.params: dict[str, str] = {}

    def query_value(self, name: str) -> str | None:
        """The first value of a query parameter, or None."""
        for key, value in parse_qsl(self.query.decode("latin-1"), keep_blank_values=True):
            if key == name:
                return value
        return None


class App:
    """The function's state (settings, the model cache, the route table) and its request path."""

    def __init__(self, settings: Settings, models: ModelCache, router: Router):
        self.settings = settings
        self.models = models
        self.router = router

    async def __call__(self, scope: dict, receive: bodies.Receive) -> Response:
        """Answer one request and log one line for it."""
        started = time.perf_counter()
        call = Call(scope, receive)
        fields: dict | None = None
        try:
            handler, call.params = self.router.find(call.method, call.path)
            response, fields = await handler(self, call)
        except ApiError as exc:
            response = json_answer(exc.status, exc.body(), header_pairs(exc.headers.items()))
            fields = {"error": exc.error}
            # Refused before the body was read: drop it (bounded) so the client reads this answer, not a broken pipe.
            await bodies.drain(call.channel, call.headers.get("content-length"))
        except Exception:  # a bug, not bad input: log the traceback for the operator, never send it
            log.emit("ERROR", "unhandled exception\n" + traceback.format_exc())
            response = json_answer(500, INTERNAL_ERROR)
        headers = call.headers
        trace = log.trace_id(headers.get("x-cloud-trace-context"), headers.get("traceparent"))
        elapsed = time.perf_counter() - started
        log.request_entry(call.method, call.path, response.status, elapsed, trace, self.settings.project_id, fields)
        return response

    async def predict(
        self,
        call: Call,
        codec_module: str,
        explain_query: bool = True,
        check: Callable[[ServedModel], None] | None = None,
    ) -> tuple:
        """A prediction through a codec (explain_query: ?explain is read; check: the route's own test of the model)."""
        explain = parse_explain_flag(call.query_value("explain")) if explain_query and call.query else False
        declared = call.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) >= OFFLOAD_FROM_BYTES:
            async with _large_request_slot():  # its body is read only when it can be worked on
                return await self._predict(call, codec_module, explain, check)
        return await self._predict(call, codec_module, explain, check)

    async def _predict(
        self, call: Call, codec_module: str, explain: bool, check: Callable[[ServedModel], None] | None
    ) -> tuple:
        settings, headers = self.settings, call.headers
        body = await bodies.read(
            call.channel, headers.get("content-length"), headers.get("content-encoding"), settings.max_body_bytes
        )
        incoming = Incoming(
            body, headers.get("content-type", ""), headers.get("accept", ""), settings.max_batch_size, explain,
            headers=headers,
        )  # fmt: skip
        offload = len(body) >= OFFLOAD_FROM_BYTES  # the common request stays on the loop, in one go
        codec, decoded, rows, explain = await _work(offload, decode_request, codec_module, incoming)
        model = self.models.current() or await self.models.ready()  # no coroutine once a model is loaded
        if check is not None:
            check(model)
        return await _work(offload, answer_request, codec, decoded, rows, explain, model, settings.log_inputs_fraction)


async def _work(offload: bool, work: Callable, *args: object):
    """work(*args): in a worker thread when offload is set, else here on the event loop."""
    return await anyio.to_thread.run_sync(work, *args) if offload else work(*args)


def _large_request_slot() -> anyio.Semaphore:
    """This event loop's slots for large requests (OFFLOAD_THREADS of them), made on first use."""
    try:
        return _large_request_slots.get()
    except LookupError:
        slots = anyio.Semaphore(OFFLOAD_THREADS)
        _large_request_slots.set(slots)
        return slots


def decode_request(codec_module: str, incoming: Incoming) -> tuple:
    """The codec that reads this request, its reading, and the validated rows (with the explain flag)."""
    codec = codecs.pick(codec_module, incoming)
    decoded: Decoded = codec.decode(incoming)
    rows, explain = validate(decoded)
    return codec, decoded, rows, explain


def answer_request(
    codec, decoded: Decoded, rows: list, explain: bool, model: ServedModel, input_fraction: float
) -> tuple[Response, dict]:
    """The rows' answers, encoded by the codec, and the request line's monitoring fields."""
    answers = answer_rows(model, rows, explain)
    encoded = codec.encode(decoded, Answered(answers, model.version, model.classes))
    fields = prediction_fields(codec.NAME, rows, answers, decoded.many, input_fraction)
    fields["model_version"] = model.version
    extra = [*model.headers, *header_pairs(encoded.headers)] if encoded.headers else model.headers
    return answer(200, encoded.body, encoded.content_type.encode(), extra), fields


def not_found(path: str, paths: str) -> NotFound:
    """The 404 of a path that is not here, naming the ones that are."""
    return NotFound.at(["path"], f"There is no {path[:100]}; the paths are {paths}", "not_found")
