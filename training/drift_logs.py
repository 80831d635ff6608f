"""Request lines for the drift report: the function's stdout (JSON lines) or `gcloud logging read --format=json`."""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from penguins.domain import MEASUREMENTS, SPECIES
from penguins.web.log_fields import CONFIDENCE_BIN_EDGES

from .profile import UNKNOWN_SEX, bin_counts

NOT_JSON = "not JSON (a server message, or a cut line)"
NOT_AN_OBJECT = "JSON, but not a log entry object"
NOT_A_REQUEST = "not a request line (another log entry)"
NO_PREDICTION = "a request without a prediction (health, page, errors)"
MALFORMED = "a prediction line with missing or malformed fields"


@dataclass
class Observations:
    """What the request lines say: predictions, confidence, inputs, and what was read or skipped."""

    lines_read: int = 0
    prediction_lines: int = 0
    predictions: Counter = field(default_factory=Counter)  # species -> answers
    confidence_counts: list[int] = field(default_factory=lambda: [0] * (len(CONFIDENCE_BIN_EDGES) + 1))
    confidence_sum: float = 0.0
    inputs: list[dict] = field(default_factory=list)  # {measurement: float, "island": str, "sex": str}
    skipped: Counter = field(default_factory=Counter)  # reason -> lines
    per_model_version: Counter = field(default_factory=Counter)  # model version -> predictions
    per_format: Counter = field(default_factory=Counter)  # format -> predictions

    @property
    def prediction_count(self) -> int:
        """Answers seen (a many-row line counts each row it predicted)."""
        return sum(self.predictions.values())


def read_sources(paths: Iterable[str], progress=print) -> Observations:
    """Read every source ("-" is stdin) into one Observations, printing a line per source."""
    seen = Observations()
    for path in paths:
        before = seen.lines_read, seen.prediction_count
        if path == "-":
            read_text(sys.stdin.read(), seen)
        else:
            with open(path, encoding="utf-8", errors="replace") as f:
                read_text(f.read(), seen)
        progress(
            f"read {'stdin' if path == '-' else path}: {seen.lines_read - before[0]} lines, "
            f"{seen.prediction_count - before[1]} predictions"
        )
    return seen


def read_text(text: str, seen: Observations | None = None) -> Observations:
    """Add one source's records to seen (a new Observations by default) and return it."""
    seen = Observations() if seen is None else seen
    for record in _records(text):
        seen.lines_read += 1
        if record is _UNPARSED:
            seen.skipped[NOT_JSON] += 1
        else:
            _take(record, seen)
    return seen


_UNPARSED = object()


def _records(text: str) -> Iterator[object]:
    """gcloud's JSON array of entries, or one JSON value per line (anything else on a line is _UNPARSED)."""
    if text.lstrip().startswith("["):
        try:
            whole = json.loads(text)
        except ValueError:  # a JSON-lines stream can start with "[" too: gunicorn's "[2026-...] [INFO] ..."
            whole = None
        if isinstance(whole, list):
            yield from whole
            return
    for line in text.splitlines():
        if line.strip():
            try:
                yield json.loads(line)
            except ValueError:
                yield _UNPARSED


def _take(record: object, seen: Observations) -> None:
    if not isinstance(record, dict):
        seen.skipped[NOT_AN_OBJECT] += 1
        return
    payload = record.get("jsonPayload", record)  # Cloud Logging keeps the line's fields under jsonPayload
    if not isinstance(payload, dict):
        seen.skipped[NOT_A_REQUEST] += 1
        return
    if "predicted_class" in payload:
        ok = _take_single(payload, seen)
    elif "predicted_classes" in payload:
        ok = _take_many(payload, seen)
    else:
        is_request = "httpRequest" in record or "httpRequest" in payload
        seen.skipped[NO_PREDICTION if is_request else NOT_A_REQUEST] += 1
        return
    if not ok:
        seen.skipped[MALFORMED] += 1
        return
    seen.prediction_lines += 1


def _take_single(payload: dict, seen: Observations) -> bool:
    species = payload.get("predicted_class")
    confidence: Any = payload.get("confidence")
    if species not in SPECIES or not _is_probability(confidence):
        return False
    penguin = _penguin(payload["input"]) if "input" in payload else None
    if "input" in payload and penguin is None:
        return False
    seen.predictions[species] += 1
    seen.confidence_counts[bin_counts([confidence], CONFIDENCE_BIN_EDGES).index(1)] += 1
    seen.confidence_sum += confidence
    if penguin is not None:
        seen.inputs.append(penguin)
    _count_source(payload, seen, 1)
    return True


def _take_many(payload: dict, seen: Observations) -> bool:
    counts = payload.get("predicted_classes")
    summary: dict = payload.get("confidence_summary") or {}
    if not isinstance(counts, dict) or not all(
        name in SPECIES and isinstance(n, int) and n >= 0 for name, n in counts.items()
    ):
        return False
    total = sum(counts.values())
    if total and not _usable_summary(summary, total):
        return False
    penguins = [_penguin(item) for item in payload.get("inputs_sample") or []]
    if None in penguins:
        return False
    seen.predictions.update(counts)
    if total:
        seen.confidence_counts = [a + b for a, b in zip(seen.confidence_counts, summary["counts"])]
        seen.confidence_sum += summary["mean"] * total
    seen.inputs.extend(p for p in penguins if p is not None)
    _count_source(payload, seen, total)
    return True


def _usable_summary(summary: object, total: int) -> bool:
    return (
        isinstance(summary, dict)
        and summary.get("bin_edges") == list(CONFIDENCE_BIN_EDGES)
        and isinstance(summary.get("counts"), list)
        and sum(summary["counts"]) == total
        and _is_probability(summary.get("mean"))
    )


def _count_source(payload: dict, seen: Observations, predictions: int) -> None:
    seen.per_model_version[str(payload.get("model_version", "unknown"))] += predictions
    seen.per_format[str(payload.get("format", "unknown"))] += predictions


def _is_probability(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


def _penguin(item: object) -> dict | None:
    """A logged input as the report counts it, or None when it is not one; unknown islands are kept as sent."""
    if not isinstance(item, dict):
        return None
    penguin: dict = {}
    for name in MEASUREMENTS:
        value = item.get(name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return None
        penguin[name] = float(value)
    island, sex = item.get("island"), item.get("sex")
    if not isinstance(island, str) or not (sex is None or isinstance(sex, str)):
        return None
    penguin["island"] = island[:40]  # an unknown island is counted as such, not refused
    penguin["sex"] = UNKNOWN_SEX if sex is None else sex[:40]
    return penguin
