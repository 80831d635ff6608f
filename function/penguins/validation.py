"""Parse a request body into penguins, turning every problem into a sentence that says what to fix."""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .codecs.base import Decoded, Rule
from .codecs.json_document import EXAMPLE
from .domain import ISLANDS, LIMITS, SEXES
from .errors import InvalidInput
from .rust_core import SchemaValidator, ValidationError

# pydantic-core validators for schema.py's models, exported by `python -m penguins.schema` (see there):
# they validate exactly as the models do, to plain dicts, without importing pydantic on a cold start.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "request_schemas.json"), encoding="utf-8") as _f:
    _SCHEMAS = json.load(_f)
PENGUIN = SchemaValidator(_SCHEMAS["penguin"])
BATCH = SchemaValidator(_SCHEMAS["batch"])

MAX_DETAILS = 100
_FIELDS = tuple(_SCHEMAS["penguin"]["fields"])
_CHOICES = {"island": ISLANDS, "sex": SEXES}
# The validators check typed dicts where the models check models: errors keep the models' names.
_ERROR_TYPES = {"dict_type": "model_type"}


def validate(decoded: Decoded) -> tuple[list[dict | str], bool]:
    """The one validation of every format's rows: (penguins, or a sentence per bad row of a table; explain)."""
    rule, rows = decoded.rule, decoded.rows
    try:
        if rule is Rule.PENGUIN:
            if type(rows) is not dict:
                raise _not_a_penguin(rows)
            return [PENGUIN.validate_python(rows)], decoded.explain
        if rule is Rule.BATCH:
            batch = BATCH.validate_python(rows)
            return batch["instances"], decoded.explain or batch.get("explain", False)
        if rule is Rule.TABLE:
            return validate_rows(rows), False  # type: ignore[arg-type]
        _fold_categories(rows)  # type: ignore[arg-type]  # Rule.TENSORS
        if len(rows) == 1:  # type: ignore[arg-type]
            return [PENGUIN.validate_python(rows[0])], False  # type: ignore[index]
        return BATCH.validate_python({"instances": rows})["instances"], False
    except ValidationError as exc:
        raise invalid_input(exc, decoded.locate) from None


def _not_a_penguin(data: object) -> InvalidInput:
    hint = ' wrap a list of penguins as {"instances": [...]}' if isinstance(data, list) else ""
    example = hint or " e.g. " + EXAMPLE
    msg = f"The body must be a JSON object describing one penguin, not {json_kind(data)};{example}"
    return InvalidInput.at([], msg, "model_type")


def invalid_input(exc: ValidationError, locate: Callable[[tuple], list] | None = None) -> InvalidInput:
    """A 422 listing every violation (up to MAX_DETAILS), each with a sentence that says what to fix.

    locate maps a validator's loc to where the client put the value, for formats that name it otherwise.
    """
    errors = exc.errors(include_url=False, include_context=False)
    detail: list[dict[str, Any]] = []
    for err in errors[:MAX_DETAILS]:
        loc = locate(err["loc"]) if locate else list(err["loc"])
        detail.append(
            {"loc": loc, "msg": _message(err, _where(loc)), "type": _ERROR_TYPES.get(err["type"], err["type"])}
        )
    if len(errors) == 1:
        sentence = detail[0]["msg"]
    else:
        shown = "; ".join(d["msg"] for d in detail[:3])
        more = f"; and {len(errors) - 3} more (see detail)" if len(errors) > 3 else ""
        sentence = f"{len(errors)} problems with the request: {shown}{more}"
    if len(errors) > MAX_DETAILS:
        sentence += f" (detail lists the first {MAX_DETAILS} of {len(errors)})"
    return InvalidInput(sentence, detail)


def _message(err: Mapping[str, Any], where: str) -> str:
    loc = err["loc"]
    field = loc[-1] if loc else ""
    kind = err["type"]
    value: Any = err.get("input")
    if not isinstance(field, str):
        field = ""
    limit = LIMITS.get(field)
    if kind == "missing":
        if limit:
            return f"{where} is required: a number in {limit.unit_name} between {limit.low:g} and {limit.high:g}"
        if field in _CHOICES:
            return f"{where} is required: one of {_options(field)}"
        return f"{where} is required"
    if limit and kind in ("greater_than_equal", "less_than_equal"):
        hint = _unit_hint(field, value)
        return f"{where} must be between {limit.low:g} and {limit.high:g} {limit.unit}; got {value:g}{hint}"
    if limit and kind in ("float_type", "finite_number", "float_parsing"):
        if isinstance(value, float) and not math.isfinite(value):
            return f"{where} must be a finite number in {limit.unit_name}; got {value}"
        hint = " (send it without quotes)" if isinstance(value, str) and _is_number(value) else ""
        return f"{where} must be a JSON number in {limit.unit_name}, not {json_kind(value)}{hint}"
    if field in _CHOICES and kind in ("literal_error", "enum"):
        return f"{where} must be one of {_options(field)}; got {_short(value)}{_choice_hint(field, value)}"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(field), _FIELDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; the fields are {', '.join(_FIELDS)}"
        return f"{where} is not a known field{hint}"
    if field == "year" and kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{where} must be a whole number such as 2007, or absent; got {_short(value)}"
    if kind in ("model_type", "dict_type"):
        return f"{where or 'the body'} must be a JSON object describing one penguin, not {json_kind(value)}"
    if field == "instances" and kind == "list_type":
        return f"instances must be a JSON array of penguins, not {json_kind(value)}"
    if field == "instances" and kind == "too_short":
        return "instances must hold at least one penguin"
    return f"{where or 'the body'}: {err['msg']}"


def _where(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _options(field: str) -> str:
    options = ", ".join(repr(choice) for choice in _CHOICES[field])
    return options + (", or null when unknown" if field == "sex" else "")


def _choice_hint(field: str, value: object) -> str:
    if isinstance(value, str):
        for choice in _CHOICES[field]:
            if value.strip().casefold() == choice.casefold():
                return f"; did you mean {choice!r}? (the value is case-sensitive)"
        if not value.isascii():
            return "; it contains non-ASCII characters (a look-alike letter?): type it in plain ASCII"
    return ""


def _unit_hint(field: str, value: float) -> str:
    limit = LIMITS[field]
    if limit.unit == "g" and limit.low <= value * 1000 <= limit.high:
        return f"; was it sent in kilograms? Send {value * 1000:g} grams"
    if limit.unit == "mm" and limit.low <= value * 10 <= limit.high:
        return f"; was it sent in centimetres? Send {value * 10:g} millimetres"
    return ""


def json_kind(value: object) -> str:
    """A JSON value's kind as a sentence says it, with a short excerpt: 'a string ('1')', 'an array', 'null'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return f"a string ({_short(value)})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a number ({value})"


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


# The conventions of spreadsheets and BigQuery tables (ml_datasets.penguins says MALE, FEMALE and "."):
# categories in any case, and an empty cell, NA or "." for an unknown sex.
UNKNOWN_SEX = ("", "NA", ".")
ISLAND_BY_FOLDED: dict[str, str | None] = {island.casefold(): island for island in ISLANDS}
SEX_BY_FOLDED: dict[str, str | None] = {sex.casefold(): sex for sex in SEXES} | {
    t.casefold(): None for t in UNKNOWN_SEX
}
# The spellings tables use, looked up as they come; any other goes through strip and casefold.
_ISLAND_AS_WRITTEN = {spelling: island for island in ISLANDS for spelling in (island, island.upper(), island.lower())}
_SEX_AS_WRITTEN: dict[str | None, str | None] = {
    spelling: sex for folded, sex in SEX_BY_FOLDED.items() for spelling in (folded, folded.upper(), folded.title())
} | {None: None}


def validate_rows(rows: Sequence[dict | str]) -> list[dict | str]:
    """Penguins from another format's rows (CSV, BigQuery, ...): each one validated, or the sentence saying what to fix.

    A row maps field names to values as the format holds them (measurements as numbers, None for an empty
    cell), or is already a sentence (a row the format itself could not read), passed through. Island and sex
    are matched case-insensitively, and an empty, NA or "." sex is unknown. Everything else is the JSON
    penguin's validation, with its messages; one bad row does not spoil the others.
    """
    fields = [row for row in rows if not isinstance(row, str)]
    _fold_categories(fields)
    problems: dict[int, list[str]] = {}
    try:  # every row in one call: the common case of a clean file
        penguins = BATCH.validate_python({"instances": fields})["instances"] if fields else []
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_context=False):
            index, *loc = err["loc"][1:]  # ("instances", index, field)
            problems.setdefault(int(index), []).append(_row_message({**err, "loc": tuple(loc)}))
        good = [row for index, row in enumerate(fields) if index not in problems]
        valid = iter(BATCH.validate_python({"instances": good})["instances"] if good else ())
        penguins = ["; ".join(problems[index]) if index in problems else next(valid) for index in range(len(fields))]
    answers = iter(penguins)
    return [row if isinstance(row, str) else next(answers) for row in rows]


def _fold_categories(rows: Sequence[dict]) -> None:
    """Island and sex as the schema spells them: the spellings tables use in two lookups a row, others folded."""
    islands, sexes = _ISLAND_AS_WRITTEN, _SEX_AS_WRITTEN
    for row in rows:
        try:
            row["island"] = islands[row["island"]]
            if "sex" in row:  # a V2 request may leave sex out: absent stays absent
                row["sex"] = sexes[row["sex"]]
        except (KeyError, TypeError):  # any other spelling, a missing island, a value that is not text
            _match_categories(row)


def _match_categories(row: dict) -> None:
    island, sex = row.get("island"), row.get("sex")
    if isinstance(island, str):
        row["island"] = ISLAND_BY_FOLDED.get(island.strip().casefold(), island)
    if isinstance(sex, str):
        row["sex"] = SEX_BY_FOLDED.get(sex.strip().casefold(), sex)


def _row_message(err: dict) -> str:
    """A row's problem in the words of a table: a cell holds text or nothing rather than a JSON value."""
    field, value, kind = err["loc"][-1], err.get("input"), err["type"]
    limit = LIMITS.get(field)
    if limit and value is None and kind == "float_type":
        return f"{field} has no value: it needs a number in {limit.unit_name} between {limit.low:g} and {limit.high:g}"
    if limit and isinstance(value, str) and kind in ("float_type", "float_parsing"):
        if _is_number(value):
            hint = " (a number, not text)"
        elif _is_number(value.replace(",", ".", 1)):
            hint = " (write the decimal separator as a point)"
        else:
            hint = ""
        return f"{field} must be a number in {limit.unit_name}; got {_short(value)}{hint}"
    if field in _CHOICES and value is None:
        return f"{field} has no value: it needs one of {_options(field)}"
    return _message(err, _where(err["loc"]))


def parse_explain_flag(query_value: str | None) -> bool:
    """The ?explain= query parameter: true or false, as the OpenAPI document says; anything else is a 422."""
    if query_value is None:
        return False
    value = query_value.strip().lower()
    if value in ("true", "false"):
        return value == "true"
    msg = f"explain must be true or false; got {query_value[:40]!r}"
    raise InvalidInput.at(["query", "explain"], msg, "bool_parsing")
