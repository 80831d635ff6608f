"""JSON bodies parsed once: fast when the bytes allow it, carefully (duplicate keys refused) when asked or when not."""

from __future__ import annotations

import json

from ..domain import FIELDS
from ..errors import InvalidInput, MalformedJson
from ..rust_core import from_json

_SMALL_BODY_BYTES = 64 * 1024
_VALUES_PER_ROW = 2 * len(FIELDS)  # a key and a value per field: the budget of commas per row
EXAMPLE = (
    '{"bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181, "body_mass_g": 3750, '
    '"island": "Torgersen", "sex": "male"}'
)


class _DuplicateKey(ValueError):
    """A JSON object names the same key twice."""


def parse(raw: bytes, max_rows: int) -> object:
    """A JSON body: parsed in Rust when well formed, by the careful parser otherwise (a 400 saying what broke).

    pydantic-core's parser, not orjson's: orjson reads an integer past 64 bits as a float.
    """
    _refuse_oversized(raw, max_rows)
    try:
        return from_json(raw)
    except ValueError:  # malformed, or nested too deeply: the careful parser says what broke
        return parse_strictly(raw)


def keys_in_bytes(raw: bytes) -> int | None:
    """How many object keys the bytes hold, or None when they cannot be counted without parsing (escapes).

    Without escapes a string cannot hold a bare quote, so every '":' ends a key. A key written with space
    before its colon is not counted: the mismatch sends the body to the careful parser, slower but exact.
    """
    return None if b"\\" in raw else raw.count(b'":')


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise _DuplicateKey(f"the key {duplicate[:40]!r} appears twice in one object")
    return result


def parse_strictly(raw: bytes) -> object:
    """Parse UTF-8 JSON, refusing duplicate keys (parsers disagree on which wins); a 400 says what broke."""
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_object_without_duplicates)
    except UnicodeDecodeError as exc:
        reason = f"it is not UTF-8 (byte {exc.start})"
    except RecursionError:
        reason = "it is nested too deeply"
    except ValueError as exc:  # JSONDecodeError, _DuplicateKey, or an integer too long to parse
        reason = str(exc) if raw.strip() else "the body is empty"
    raise MalformedJson(
        f"The body is not valid JSON ({reason}); send one penguin as a JSON object, e.g. {EXAMPLE}",
        [{"loc": [], "msg": reason, "type": "json_invalid"}],
    )


def _refuse_oversized(raw: bytes, max_rows: int) -> None:
    # A valid body holds one object or array per row plus the wrapper, with a few values each. Counting bytes
    # before parsing keeps a large body of millions of tiny values (or of nested arrays) out of memory; the
    # margin of 2x leaves every near miss to the exact count check, which says more.
    if len(raw) <= _SMALL_BODY_BYTES:
        return
    containers = raw.count(b"{") + raw.count(b"[")
    if containers > 2 * (max_rows + 2) or raw.count(b",") > 2 * (max_rows + 1) * _VALUES_PER_ROW:
        raise InvalidInput.at(
            ["instances"],
            f"The body holds {containers} JSON objects and arrays and {raw.count(b',')} commas, more than "
            f"{max_rows} penguins (the limit per request) need: split the batch into several requests",
            "too_long",
        )
