"""The process-wide model: loaded lazily and once, refreshed in the background, with a bundled fallback.

Requests never wait for storage once a model is served: when a check is due they start it in the
background and answer with the model they have. A new model replaces the old one by a single reference
swap, so a request that started on the old model finishes on it. The first request of a process starts one
loader thread and waits for it at most MODEL_LOAD_TIMEOUT_SECONDS; every other request that arrives meanwhile
waits on the same load (off the event loop: `ready()` waits in a worker thread).

With MODEL_EXPECTED_VERSION (deploy.sh sets it to the version current.json named at deploy) and a bundled
model of that version, the first request does not wait for storage at all: the bundled copy answers at
once, and the first attempt, started in the background, reads the pointer; if it still names that version
nothing is downloaded, otherwise the new version is fetched and swapped in like any refresh.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import threading
import time
from enum import Enum
from typing import NamedTuple

from .. import log
from ..errors import ModelUnavailable, PenguinError
from ..settings import BUNDLED_MODEL_DIR, Settings
from .served import ServedModel, load_served_model, serve_artifact
from .store import Known, Update, open_source

RETRY_AFTER_SECONDS = 5
MAX_BACKOFF_SECONDS = 30.0


class State(Enum):
    """What the cache serves, and so what /health says of it."""

    EMPTY = "no model yet: the first request loads one"
    FROM_SOURCE = "the model MODEL_URI names"
    DEPLOYED_COPY = "the bundled copy of MODEL_EXPECTED_VERSION, while the pointer is read in the background"
    FALLBACK = "the bundled model, because the model store failed (degraded)"


class ModelStatus(NamedTuple):
    """What /health reports."""

    model: ServedModel
    degraded_reason: str | None
    why: str


class ModelCache:
    """Holds the served model and keeps it current; see the module docstring for the rules."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._source = open_source(settings.model_uri, settings.model_cache_dir, settings.uses_bundled_model)
        self._fallback_enabled = settings.model_fallback == "bundled" and not settings.uses_bundled_model
        self._expected_version = settings.model_expected_version if self._source.refreshes else None
        self._lock = threading.Lock()  # guards every field below
        self._load_lock = threading.Lock()  # one bundled load at a time (deployed copy, fallback)
        self.state = State.EMPTY
        self._model: ServedModel | None = None
        self._known: Known | None = None  # what the source last named, when serving from it (or its deployed copy)
        self._why = ""
        self._problem: str | None = None  # why the last attempt failed, until one succeeds
        self._failures = 0
        self._deployed_copy_tried = False
        self._next_attempt: float | None = 0.0  # monotonic time a load or check is due; None: never
        self._attempt: threading.Event | None = None  # set when the running attempt ends

    def current(self) -> ServedModel | None:
        """The model to answer with, without waiting (None before the first load); starts a due check."""
        model = self._model
        if model is not None:
            due = self._next_attempt
            if due is not None and time.monotonic() >= due:
                self._start_attempt_if_due()
        return model

    async def ready(self) -> ServedModel:
        """The model to answer with; on a cold start, waits (in a worker thread) for the first load."""
        model = self.current()
        return model if model is not None else await asyncio.to_thread(self.get)

    def get(self) -> ServedModel:
        """The model to answer with, loading it first if needed (blocking); ModelUnavailable when there is none."""
        model = self.current()
        return model if model is not None else self._cold_start()

    async def status(self) -> ModelStatus:
        """The model (after a cold start if needed, off the event loop) and why it is degraded."""
        return self._status(await self.ready())

    def _status(self, model: ServedModel) -> ModelStatus:
        with self._lock:
            degraded = self._problem or ("serving the fallback" if self.state is State.FALLBACK else None)
            return ModelStatus(model, degraded, self._why)

    def _cold_start(self) -> ServedModel:
        if self._expected_version is not None:
            deployed = self._serve_deployed_copy(self._expected_version)
            if deployed is not None:
                self._start_attempt_if_due()  # the pointer is read in the background; this request goes on
                return deployed
        attempt = self._start_attempt_if_due()
        timeout = self._settings.model_load_timeout_seconds
        if attempt is not None:
            attempt.wait(timeout)
        model = self._model
        if model is not None:
            return model
        reason = self._problem or f"the model store did not answer within {timeout:g} s"
        if self._fallback_enabled:
            return self._serve_fallback(reason)
        raise _unavailable(reason)

    def _start_attempt_if_due(self) -> threading.Event | None:
        """Start the loader thread when an attempt is due; returns the running attempt's event, if any."""
        with self._lock:
            if self._attempt is not None and not self._attempt.is_set():
                return self._attempt
            if self._next_attempt is None or time.monotonic() < self._next_attempt:
                return None
            self._next_attempt = None
            self._attempt = attempt = threading.Event()
        threading.Thread(target=self._run_attempt, args=(attempt,), name="model-loader", daemon=True).start()
        return attempt

    def _run_attempt(self, attempt: threading.Event) -> None:
        try:
            self._apply(self._source.update(self._known))
        except PenguinError as exc:
            self._failed(str(exc))
        except Exception as exc:  # a bug in loading must not kill the thread silently or wedge the cache
            self._failed(f"unexpected {type(exc).__name__}: {exc}")
        finally:
            attempt.set()

    def _apply(self, update: Update) -> None:
        """Serve what the source named: a new artifact is loaded and swapped in; a known one stays."""
        current = self._model
        model: ServedModel | None = None
        confirmed = False
        if update.artifact is not None:
            model = serve_artifact(update.artifact, update.label)
        elif self.state is State.DEPLOYED_COPY and current is not None:
            # The bundled copy is the bucket's artifact byte for byte (versions are content hashes): relabel it.
            model, confirmed = dataclasses.replace(current, source=update.label), True
        refresh = self._settings.model_refresh_seconds
        with self._lock:
            if model is not None:
                self._model = model  # the atomic swap: requests holding the old model finish on it
                self.state = State.FROM_SOURCE
                self._why = update.why + (
                    " (still the version it named at deploy: the bundled copy answers, nothing was downloaded)"
                    if confirmed
                    else ""
                )
            self._known = update.known
            self._problem = None
            self._failures = 0
            self._next_attempt = time.monotonic() + refresh if self._source.refreshes and refresh > 0 else None
        if model is not None:
            # What is loaded now lives as long as the process: keep the cyclic collector from re-scanning it
            # on every full collection (about 2% of each request's CPU time, measured).
            gc.freeze()
            done = "confirmed by" if confirmed else "loaded from"  # confirmed: the bundled copy goes on answering
            log.emit("INFO", f"model {model.version} {done} {model.source}", model_version=model.version)

    def _failed(self, reason: str) -> None:
        with self._lock:
            self._problem = reason
            self._failures += 1
            backoff = min(2.0 ** (self._failures - 1), MAX_BACKOFF_SECONDS)
            if self._settings.model_refresh_seconds > 0:
                backoff = min(backoff, self._settings.model_refresh_seconds)
            self._next_attempt = time.monotonic() + backoff
            serving = self._model.version if self._model is not None else None
        what = f"still serving {serving}" if serving else "no model loaded yet"
        log.emit("ERROR", f"model store {self._settings.model_uri}: {reason}; {what}; retrying in {backoff:g} s")

    def _serve_deployed_copy(self, expected: str) -> ServedModel | None:
        """The bundled model, served at once, when it is the version the pointer named at deploy; else None."""
        with self._load_lock:
            if self._model is not None or self._deployed_copy_tried:
                return self._model
            self._deployed_copy_tried = True
            try:
                bundled = load_served_model(BUNDLED_MODEL_DIR)
            except PenguinError as exc:
                log.emit("WARNING", f"the bundled model cannot be read ({exc}); loading {expected} from storage")
                return None
            if bundled.version != expected:
                log.emit(
                    "INFO",
                    f"the bundled model is {bundled.version}, not MODEL_EXPECTED_VERSION {expected}: "
                    f"loading from {self._settings.model_uri}",
                )
                return None
            pointer = f"{self._settings.model_uri.rstrip('/')}/current.json"
            with self._lock:
                self._model = bundled
                self.state = State.DEPLOYED_COPY
                self._known = Known(expected, None)
                self._why = (
                    f"the bundled model is {expected}, the version {pointer} named at deploy "
                    "(MODEL_EXPECTED_VERSION): it answers while the pointer is read in the background"
                )
            gc.freeze()  # as for any loaded model (see _apply)
            log.emit(
                "INFO",
                f"model {expected} served from the bundled copy (the version {pointer} named at deploy); "
                "reading the pointer in the background",
                model_version=expected,
            )
            return bundled

    def _serve_fallback(self, reason: str) -> ServedModel:
        with self._load_lock:
            if self._model is not None:
                return self._model
            try:
                fallback = load_served_model(BUNDLED_MODEL_DIR)
            except PenguinError as exc:
                raise _unavailable(f"{reason}; the bundled fallback failed too: {exc}") from None
            with self._lock:
                if self._model is None:
                    self._model = fallback
                    self.state = State.FALLBACK
                    self._problem = self._problem or reason
                    self._why = "the model store failed (see reason), so the bundled model answers until it recovers"
            log.emit(
                "WARNING",
                f"serving the bundled model {fallback.version} (degraded): {reason}",
                model_version=fallback.version,
            )
            return self._model


def _unavailable(reason: str) -> ModelUnavailable:
    return ModelUnavailable(
        "No model can be served right now; try again shortly (the operator's logs say why).",
        [{"loc": [], "msg": reason, "type": "model_unavailable"}],
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
