"""CSV in, CSV (or JSON) out: a spreadsheet's rows as penguins, answered row for row with its other columns kept."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from operator import itemgetter
from typing import NamedTuple, cast

import orjson
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header, parse_options_header

from ..domain import INPUT_FIELDS, MEASUREMENTS, REQUIRED_FIELDS, SPECIES
from ..errors import InvalidInput, MalformedCsv, UnsupportedMediaType
from .base import Answered, Decoded, Encoded, Incoming, Rule

NAME = "csv"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"
# The names of the LTER's raw export, beside each field's own name.
_LTER_HEADERS = {
    "bill_length_mm": "Culmen Length (mm)",
    "bill_depth_mm": "Culmen Depth (mm)",
    "flipper_length_mm": "Flipper Length (mm)",
    "body_mass_g": "Body Mass (g)",
    "island": "Island",
    "sex": "Sex",
}
# Each field the model reads and the header names that give it.
FIELD_HEADERS: dict[str, tuple[str, ...]] = {field: (field, _LTER_HEADERS[field]) for field in INPUT_FIELDS}
ANSWER_COLUMNS = ("prediction", *(f"probability_{name}" for name in SPECIES), "warnings", "error")
WARNING_SEPARATOR = " | "  # warnings are sentences holding semicolons; one cell holds them all
_FIELD_OF_HEADER = {header.casefold(): field for field, headers in FIELD_HEADERS.items() for header in headers}
_MISSING_MEASUREMENT = ("", "na")
_OTHER_SEPARATORS = {";": "semicolons (;)", "\t": "tabs", "|": "vertical bars (|)"}
_EXAMPLE_HEADER = ",".join(INPUT_FIELDS)


class Table(NamedTuple):
    """A parsed CSV: its header as written, its records (cells padded or cut to the header) and their rows."""

    header: list[str]
    records: list[list[str]]
    lines: list[int]  # the line each record starts on (the header is line 1)
    rows: list[dict | str]  # per record: its fields for validation, or the sentence saying why it cannot be read


def decode(incoming: Incoming) -> Decoded:
    """A CSV body's rows, for the one validation; the table is kept to answer in kind."""
    charset = parse_options_header(incoming.content_type)[1].get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType.at(
            ["header", "Content-Type"],
            f"A CSV body must be UTF-8; got charset={charset}: save the file as 'CSV UTF-8' and send it again",
            "content_type",
        )
    table = read_table(incoming.body, incoming.max_rows)
    as_csv = parse_accept_header(incoming.accept, MIMEAccept).best_match(("application/json", "text/csv")) == "text/csv"
    return Decoded(table.rows, Rule.TABLE, many=True, context=(table, as_csv))


def encode(decoded: Decoded, answered: Answered) -> Encoded:
    """CSV with `Accept: text/csv` (the input's columns, then the answer's), JSON otherwise (with each error's line)."""
    table, as_csv = cast(tuple[Table, bool], decoded.context)
    answers = answered.answers
    if as_csv:
        return Encoded(encode_table(table, answers), CSV_CONTENT_TYPE)
    for answer_, line in zip(answers, table.lines):
        if "error" in answer_:
            answer_["line"] = line
    return Encoded(orjson.dumps({"predictions": answers, "model_version": answered.model_version}), JSON_CONTENT_TYPE)


def read_table(raw: bytes, max_rows: int) -> Table:
    """Read a CSV body into its records and rows; a file unusable as a whole raises a 4xx error."""
    text = _decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        while header == []:  # blank lines before the header
            header = next(reader, None)
        if header is None:
            raise MalformedCsv(
                *_whole("The CSV is empty: its first line must name the columns, e.g. " + _EXAMPLE_HEADER)
            )
        columns = _columns(header, text)
        first = reader.line_num  # the line the header ends on
        everything = list(reader)  # bounded: the body is at most MAX_BODY_BYTES
    except csv.Error as exc:
        raise MalformedCsv(*_whole(f"The CSV cannot be read at line {reader.line_num}: {exc}; {_QUOTING}")) from None
    # Each record's line, for the answers that name it: counted in one go when no record spans lines.
    if reader.line_num == first + len(everything):
        starts: Sequence[int] = range(first + 1, reader.line_num + 1)
    else:
        starts = _record_starts(text, first)
    if [] in everything:  # blank lines hold no row
        records = [record for record in everything if record]
        lines = [line for line, record in zip(starts, everything) if record]
    else:
        records, lines = everything, list(starts)
    if len(records) > max_rows:
        msg = f"The CSV holds more than {max_rows} rows, the limit per request: split it into several files"
        raise InvalidInput(msg, [{"loc": ["body"], "msg": msg, "type": "too_long"}])
    if not records:
        raise InvalidInput(*_whole("The CSV names its columns but holds no rows: add one row per penguin under them"))
    width = len(header)
    rows = _rows(records, lines, columns, width)
    cut = [record if len(record) == width else (record + [""] * width)[:width] for record in records]
    return Table(header, cut, lines, rows)


def _record_starts(text: str, first: int) -> list[int]:
    """The line each record after the header starts on, in a file where some record spans lines."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while reader.line_num < first:
        next(reader)
    starts, start = [], first + 1
    for _ in reader:
        starts.append(start)
        start = reader.line_num + 1
    return starts


_QUOTING = 'a cell holding a comma, a quote or a line break must be quoted ("like, this"), a quote inside doubled ("")'


def _whole(sentence: str) -> tuple[str, list[dict]]:
    return sentence, [{"loc": ["body"], "msg": sentence, "type": "csv_invalid"}]


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")  # a leading BOM (Excel's "CSV UTF-8") is dropped
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        msg = (
            f"The CSV is not UTF-8 (byte {exc.start}, line {line}): save it as 'CSV UTF-8' "
            "(Excel) or with the encoding UTF-8, and send it again"
        )
        raise MalformedCsv(*_whole(msg)) from None


def _columns(header: list[str], text: str) -> dict[str, int]:
    """The index of each field's column; a header missing a required one is refused, naming what to fix."""
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        field = _FIELD_OF_HEADER.get(name.strip().casefold())
        if field is None:
            continue
        if field in columns:
            msg = f"The CSV has two columns for {field} ({header[columns[field]]!r} and {name!r}): keep one"
            raise InvalidInput(*_whole(msg))
        columns[field] = index
    missing = [field for field in REQUIRED_FIELDS if field not in columns]
    if missing:
        first_line = text.split("\n", 1)[0]
        for separator, called in _OTHER_SEPARATORS.items():
            if first_line.count(separator) > first_line.count(","):
                msg = (
                    f"The CSV is separated by {called}, not commas: save it with commas as the separator "
                    f"(the first line should read like {_EXAMPLE_HEADER})"
                )
                raise MalformedCsv(*_whole(msg))
        names = "; ".join(f"{field} ({' or '.join(repr(h) for h in FIELD_HEADERS[field])})" for field in missing)
        shown = ", ".join(repr(name) for name in header[:20])
        msg = f"The CSV's first line must name the columns; missing: {names}; it names {shown}"
        raise InvalidInput(msg, [{"loc": ["header", field], "msg": msg, "type": "missing"} for field in missing])
    return columns


def _rows(records: list[list[str]], lines: list[int], columns: dict[str, int], width: int) -> list[dict | str]:
    """Each record's fields for validation (numbers parsed, empty cells as None), or why its shape is wrong."""
    i0, i1, i2, i3 = (columns[field] for field in MEASUREMENTS)
    bill_length, bill_depth, flipper, mass = MEASUREMENTS
    island = columns["island"]
    sex = columns.get("sex")
    has_sex = sex is not None
    sex = sex or 0
    rows: list[dict | str] = []
    append = rows.append
    for record, line in zip(records, lines):
        if len(record) != width:
            fix = "a cell holding a comma must be quoted" if len(record) > width else "a cell is missing"
            append(f"line {line} has {len(record)} cells where the header names {width} columns: {fix}")
            continue
        try:  # one dict display: this runs for every row
            append({bill_length: float(record[i0]), bill_depth: float(record[i1]), flipper: float(record[i2]),
                    mass: float(record[i3]), "island": record[island] or None,
                    "sex": record[sex] if has_sex else None})  # fmt: skip
        except ValueError:  # the rare row: cell by cell
            cells = (record[i0], record[i1], record[i2], record[i3])
            append({**dict(zip(MEASUREMENTS, map(_measurement, cells))), "island": record[island] or None,
                    "sex": record[sex] if has_sex else None})  # fmt: skip
    return rows


def _measurement(cell: str) -> float | str | None:
    """A number; None for an empty or NA cell; the text itself otherwise, for validation to explain."""
    try:
        return float(cell)
    except ValueError:
        return None if cell.strip().lower() in _MISSING_MEASUREMENT else cell


_PROBABILITIES_OF, _PROBABILITIES = itemgetter("probabilities"), itemgetter(*SPECIES)


class _Lines(list):
    """A file for csv.writer that keeps each row's text apart (the writer writes one row per call)."""

    write = list.append


def encode_table(table: Table, answers: list[dict]) -> bytes:
    """The answered CSV: the input's columns as they came (minus earlier answer columns), then the answer's."""
    kept = [index for index, name in enumerate(table.header) if name not in ANSWER_COLUMNS]
    records = table.records if len(kept) == len(table.header) else [[r[i] for i in kept] for r in table.records]
    lines = _Lines()
    writer = csv.writer(lines, lineterminator="")
    writer.writerow([table.header[index] for index in kept])  # never empty: the required columns are kept
    writer.writerows(records)
    # The answer's cells are written here: orjson formats all the probabilities in one call, ~5x faster than
    # csv's float repr, and they, like the species, never need quoting.
    no_answer = "," * (len(ANSWER_COLUMNS) - 1)
    answered = [answer_ for answer_ in answers if "error" not in answer_]
    probabilities = map(_PROBABILITIES, map(_PROBABILITIES_OF, answered))
    numbers = iter(orjson.dumps(list(probabilities)).decode()[2:-2].split("],["))
    suffixes = [",".join(ANSWER_COLUMNS)]
    for answer_ in answers:
        error = answer_.get("error")
        if error is None:
            warnings = _quoted(WARNING_SEPARATOR.join(answer_["warnings"]))
            suffixes.append(f"{answer_['prediction']},{next(numbers)},{warnings},")
        else:
            suffixes.append(no_answer + _quoted(error))
    return "".join(f"{line},{suffix}\n" for line, suffix in zip(lines, suffixes)).encode()


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if text else ""
