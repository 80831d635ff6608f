"""The process-wide model: loaded lazily and once, refreshed in the background, with a bundled fallback.

The server runs many threads in one process. The first request starts one loader thread and waits for
it at most MODEL_LOAD_TIMEOUT_SECONDS; every other thread that arrives meanwhile waits on the same load.
Later requests never wait: when a pointer check is due they start it in the background and answer with
the model they have. A new model replaces the old one by a single reference swap, so a request that
started on the old model finishes on it.

With MODEL_EXPECTED_VERSION (deploy.sh sets it to the version current.json named at deploy) and a bundled
model of that version, the first request does not wait for storage at all: the bundled copy answers at
once, and the first attempt, started in the background, reads the pointer; if it still names that version
nothing is downloaded, otherwise the new version is fetched and swapped in like any refresh.
"""

from __future__ import annotations

import dataclasses
import gc
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from ..domain import MEASUREMENTS
from ..errors import ModelUnavailable, PenguinError
from ..predict.predictor import Predictor, load_predictor
from ..predict.typicality import Typicality
from ..settings import BUNDLED_MODEL_DIR, Settings
from ..web import log
from .artifact import Artifact
from .store import GcsSource, LocalSource, open_source

if TYPE_CHECKING:
    from ..predict.explain import Explainer

RETRY_AFTER_SECONDS = 5
MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class ServedModel:
    """A verified artifact ready to predict, with where and when it was loaded."""

    artifact: Artifact
    predictor: Predictor
    source: str
    loaded_at: str
    classes: tuple[str, ...] = field(init=False)
    typicality: Typicality | None = field(init=False)
    _ranges: tuple[tuple[str, float, float], ...] = field(init=False)

    def __post_init__(self) -> None:
        ranges = self.artifact.training_ranges
        object.__setattr__(self, "classes", tuple(self.artifact.manifest["classes"]))
        section = self.artifact.manifest.get("typicality")  # absent from artifacts made before it existed
        object.__setattr__(self, "typicality", Typicality(section, self.classes) if section else None)
        object.__setattr__(
            self, "_ranges", tuple((name, ranges[name]["min"], ranges[name]["max"]) for name in MEASUREMENTS)
        )

    @property
    def version(self) -> str:
        """The content version every response reports."""
        return self.artifact.version

    @property
    def public_source(self) -> str:
        """The source as response headers show it: a gs:// URI, 'bundled' or 'local' (no server paths)."""
        return self.source if self.source.startswith(("gs://", "bundled")) else "local"

    @cached_property
    def explainer(self) -> Explainer:
        """Built on the first request for explanations (~30 ms), not at load: most callers never ask."""
        from ..predict.explain import Explainer  # imported here too: cold starts skip it

        return Explainer(self.predictor.tables)

    @cached_property
    def headers(self) -> list[tuple[str, str]]:
        """The headers every answer from this model carries: its version is in the body already."""
        # One header: each costs about 1 us through werkzeug and gunicorn's checks, 1.5% of throughput.
        return [("X-Model-Source", self.public_source)]

    def warnings_for_rows(self, columns, predicted) -> dict[int, list[str]]:  # numpy arrays, for batches
        """Many rows at once: what `warnings` gives each row that gets any, by row index (exactly the same).

        columns: the four measurements' columns; predicted: each row's class index.
        """
        (_, low0, high0), (_, low1, high1), (_, low2, high2), (_, low3, high3) = self._ranges
        x0, x1, x2, x3 = columns
        outside = (x0 < low0) | (x0 > high0) | (x1 < low1) | (x1 > high1)
        outside |= (x2 < low2) | (x2 > high2) | (x3 < low3) | (x3 > high3)
        found = {}
        for i in outside.nonzero()[0].tolist():  # the rare rows with a value out of range: worded one by one
            found[i] = self.warnings([float(column[i]) for column in columns], self.classes[predicted[i]])
        if self.typicality is not None:
            for i, sentence in self.typicality.warnings_for_rows(columns, predicted).items():
                found.setdefault(i, [sentence])
        return found

    def warnings(self, measurements: Sequence[float], predicted: str) -> list[str]:
        """Plain sentences on when not to trust this answer: ranges, then the combination of measurements.

        `measurements` are the four of MEASUREMENTS, in order (an encoded row starts with them).
        """
        warnings = []
        (_, low0, high0), (_, low1, high1), (_, low2, high2), (_, low3, high3) = self._ranges
        x0, x1, x2, x3 = measurements[:4]
        if not (low0 <= x0 <= high0 and low1 <= x1 <= high1 and low2 <= x2 <= high2 and low3 <= x3 <= high3):
            for (name, low, high), value in zip(self._ranges, measurements):  # the rare case, spelled out
                if value < low or value > high:
                    warnings.append(
                        f"{name} = {value:g} is outside the training data's range ({low:g} to {high:g}); "
                        "the model has not seen such a penguin, so treat this prediction with caution"
                    )
        if self.typicality is not None:
            unusual = self.typicality.warning(measurements, predicted)
            if unusual:
                warnings.append(unusual)
        return warnings

    def info(self) -> dict:
        """What /health and / say about this model."""
        manifest = self.artifact.manifest
        return {
            "version": self.version,
            "source": self.source,
            "loaded_at": self.loaded_at,
            "classes": list(self.classes),
            "features": manifest["features"],
            "training_ranges": self.artifact.training_ranges,
            "metrics": manifest.get("metrics", {}),
            "xgboost_version": manifest.get("xgboost_version", "unknown"),
            "created_at": manifest.get("created_at", "unknown"),
        }


def serve_artifact(artifact: Artifact, source: str) -> ServedModel:
    """Load a verified artifact into a predictor."""
    return ServedModel(artifact, load_predictor(artifact), source, _now())


def load_served_model(uri: str) -> ServedModel:
    """Fetch, verify and load the model in a local folder (no fallback, no refresh)."""
    artifact, _ = LocalSource(uri).fetch()
    return serve_artifact(artifact, "bundled" if uri == BUNDLED_MODEL_DIR else uri)


class ModelStatus(NamedTuple):
    """What /health reports."""

    model: ServedModel
    degraded_reason: str | None
    why: str


class ModelCache:
    """Holds the served model and keeps it current; see the module docstring for the threading rules."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._source = open_source(settings.model_uri, settings.model_cache_dir)
        self._fallback_enabled = settings.model_fallback == "bundled" and not settings.uses_bundled_model
        gcs = isinstance(self._source, GcsSource)
        self._expected_version = settings.model_expected_version if gcs else None
        self._lock = threading.Lock()  # guards every field below
        self._fallback_lock = threading.Lock()
        self._model: ServedModel | None = None
        self._from_source = False
        self._deployed_copy = False  # serving the bundled copy of the expected version, pointer not read yet
        self._deployed_copy_tried = False
        self._why = ""
        self._generation: int | None = None
        self._problem: str | None = None
        self._failures = 0
        self._next_attempt: float | None = 0.0  # monotonic time a load or check is due; None: never
        self._attempt: threading.Event | None = None  # set when the running attempt ends

    def get(self) -> ServedModel:
        """The model to answer with; ModelUnavailable when there is none."""
        model = self._model
        if model is None:
            return self._cold_start()
        due = self._next_attempt
        if due is not None and time.monotonic() >= due:
            self._start_attempt_if_due()
        return model

    def status(self) -> ModelStatus:
        """The model (after a cold start if needed) and why it is degraded; ModelUnavailable when none."""
        model = self.get()
        with self._lock:
            trusted = self._from_source or self._deployed_copy
            degraded = self._problem if self._problem else None if trusted else "serving the fallback"
            why = self._why
        return ModelStatus(model, degraded, why)

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
            return self._load_fallback(reason)
        raise self._unavailable(reason)

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

    def _serve_deployed_copy(self, expected: str) -> ServedModel | None:
        """The bundled model, served at once, when it is the version the pointer named at deploy; else None."""
        with self._fallback_lock:
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
                self._deployed_copy = True
                self._why = (
                    f"the bundled model is {expected}, the version {pointer} named at deploy "
                    "(MODEL_EXPECTED_VERSION): it answers while the pointer is read in the background"
                )
            gc.freeze()  # as for any loaded model (see _succeeded)
            log.emit(
                "INFO",
                f"model {expected} served from the bundled copy (the version {pointer} named at deploy); "
                "reading the pointer in the background",
                model_version=expected,
            )
            return bundled

    def _run_attempt(self, attempt: threading.Event) -> None:
        try:
            if self._from_source and self._generation is not None:
                if self._source.pointer_generation() == self._generation:
                    self._succeeded(None, self._generation)  # the cheap check: nothing new
                    return
            current = self._model
            generation: int | None
            if self._deployed_copy and current is not None and isinstance(self._source, GcsSource):
                version, generation = self._source.read_pointer()
                if version == current.version:  # the pointer has not moved since the deploy: nothing to download
                    self._succeeded(self._confirmed_copy(current), generation)
                    return
                artifact = self._source.fetch_version(version)
            else:
                artifact, generation = self._source.fetch()
            current = self._model
            if self._from_source and current is not None and current.version == artifact.version:
                self._succeeded(None, generation)
            else:
                self._succeeded(serve_artifact(artifact, self._source_label(artifact)), generation)
        except PenguinError as exc:
            self._failed(str(exc))
        except Exception as exc:  # a bug in loading must not kill the thread silently or wedge the cache
            self._failed(f"unexpected {type(exc).__name__}: {exc}")
        finally:
            attempt.set()

    def _succeeded(self, model: ServedModel | None, generation: int | None) -> None:
        refresh = self._settings.model_refresh_seconds
        with self._lock:
            confirmed = model is not None and self._model is not None and model.artifact is self._model.artifact
            if model is not None:
                self._model = model  # the atomic swap: requests holding the old model finish on it
                self._why = self._why_from_pointer(model, confirmed)
                self._from_source = True
                self._deployed_copy = False
            self._generation = generation
            self._problem = None
            self._failures = 0
            pointer = isinstance(self._source, GcsSource)
            self._next_attempt = time.monotonic() + refresh if pointer and refresh > 0 else None
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

    def _confirmed_copy(self, copy: ServedModel) -> ServedModel:
        """The bundled copy, labelled as the bucket's artifact it is byte for byte (versions are content hashes)."""
        assert isinstance(self._source, GcsSource)
        return dataclasses.replace(copy, source=self._source.location.uri(copy.version))

    def _why_from_pointer(self, model: ServedModel, confirmed_copy: bool) -> str:
        if not isinstance(self._source, GcsSource):
            bundled = self._settings.uses_bundled_model
            return "MODEL_URI is unset: the bundled model" if bundled else "MODEL_URI names a local folder"
        why = f"{self._source.location.uri()}/current.json names {model.version}"
        if confirmed_copy:
            why += " (still the version it named at deploy: the bundled copy answers, nothing was downloaded)"
        return why

    def _load_fallback(self, reason: str) -> ServedModel:
        with self._fallback_lock:
            if self._model is not None:
                return self._model
            try:
                fallback = load_served_model(BUNDLED_MODEL_DIR)
            except PenguinError as exc:
                raise self._unavailable(f"{reason}; the bundled fallback failed too: {exc}") from None
            with self._lock:
                if self._model is None:
                    self._model = fallback
                    self._from_source = False
                    self._problem = self._problem or reason
                    self._why = "the model store failed (see reason), so the bundled model answers until it recovers"
            log.emit(
                "WARNING",
                f"serving the bundled model {fallback.version} (degraded): {reason}",
                model_version=fallback.version,
            )
            return self._model

    def _source_label(self, artifact: Artifact) -> str:
        if isinstance(self._source, GcsSource):
            return self._source.location.uri(artifact.version)
        return "bundled" if self._settings.uses_bundled_model else self._source.uri

    def _unavailable(self, reason: str) -> ModelUnavailable:
        return ModelUnavailable(
            "No model can be served right now; try again shortly (the operator's logs say why).",
            [{"loc": [], "msg": reason, "type": "model_unavailable"}],
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
