"""What Cloud Logging makes of the function's stdout lines, and the part of its filter language monitoring/ uses.

as_log_entry turns a structured JSON line into the LogEntry Cloud Run stores (the special fields lifted out
of jsonPayload, as Google's logging agent documents). matches and extract evaluate a log-based metric's
filter and value or label extractors on such an entry. The evaluator knows only the syntax monitoring/
uses (comparisons, AND, OR, NOT, parentheses; EXTRACT), and refuses anything else: a definition that
strays from it fails its test instead of passing blindly.
"""

from __future__ import annotations

import re

SPECIAL_FIELDS = {"severity", "httpRequest", "logging.googleapis.com/trace"}


def as_log_entry(line: dict, project: str, service: str, revision: str, region: str = "europe-west1") -> dict:
    """A stdout line as Cloud Run's LogEntry: severity, httpRequest and trace lifted out, the rest in jsonPayload."""
    entry = {
        "logName": f"projects/{project}/logs/run.googleapis.com%2Fstdout",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {
                "project_id": project,
                "service_name": service,
                "revision_name": revision,
                "location": region,
                "configuration_name": service,
            },
        },
        "severity": line.get("severity", "DEFAULT"),
        "jsonPayload": {key: value for key, value in line.items() if key not in SPECIAL_FIELDS},
    }
    if "httpRequest" in line:
        entry["httpRequest"] = line["httpRequest"]
    if "logging.googleapis.com/trace" in line:
        entry["trace"] = line["logging.googleapis.com/trace"]
    return entry


_MISSING = object()
_TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<op>AND|OR|NOT)\b|"
    r'(?P<field>[A-Za-z_][\w.]*)\s*(?P<cmp>=|!=|<=|>=|<|>|:)\s*(?P<value>"(?:[^"\\]|\\.)*"|\*|-?[\d.]+))'
)


def field_value(entry: dict, path: str) -> object:
    """The value at a dotted path (jsonPayload.input.island), or _MISSING."""
    value: object = entry
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _compare(value: object, cmp: str, raw: str) -> bool:
    if raw == "*":
        if cmp != ":":
            raise ValueError(f"only FIELD:* may use *, not {cmp}*")
        return value is not _MISSING
    if value is _MISSING:
        return cmp == "!="
    if raw.startswith('"'):
        text = raw[1:-1].replace('\\"', '"')
        if cmp == "=":
            return str(value) == text
        if cmp == "!=":
            return str(value) != text
        if cmp == ":":
            return text.lower() in str(value).lower()
        raise ValueError(f"a string compares with =, != or :, not {cmp}")
    number = float(raw)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False  # a number compared with a non-number does not match
    return {"=": value == number, "!=": value != number, "<": value < number, "<=": value <= number,
            ">": value > number, ">=": value >= number}[cmp]  # fmt: skip


def matches(log_filter: str, entry: dict) -> bool:
    """Whether entry matches the filter: comparisons joined by AND, OR, NOT and parentheses."""
    tokens, position = [], 0
    text = log_filter.strip()
    while position < len(text):
        token = _TOKEN.match(text, position)
        if token is None:
            raise ValueError(f"the test's filter evaluator does not know {text[position : position + 40]!r}")
        tokens.append(token)
        position = token.end()
    tokens.reverse()

    def peek(kind: str, word: str | None = None) -> bool:
        return bool(tokens) and tokens[-1].group(kind) is not None and (word is None or tokens[-1].group(kind) == word)

    def conjunction() -> bool:  # Cloud Logging's precedence: NOT, then OR, then AND (or a space)
        result = disjunction()
        while tokens and not peek("close"):
            if peek("op", "AND"):
                tokens.pop()
            result = disjunction() and result  # evaluate both: a syntax error anywhere must surface
        return result

    def disjunction() -> bool:
        result = negation()
        while peek("op", "OR"):
            tokens.pop()
            result = negation() or result
        return result

    def negation() -> bool:
        if peek("op", "NOT"):
            tokens.pop()
            return not negation()
        if peek("open"):
            tokens.pop()
            result = conjunction()
            if not peek("close"):
                raise ValueError(f"unbalanced parentheses in {log_filter!r}")
            tokens.pop()
            return result
        if not peek("field"):
            raise ValueError(f"expected a comparison in {log_filter!r}")
        token = tokens.pop()
        return _compare(field_value(entry, token.group("field")), token.group("cmp"), token.group("value"))

    result = conjunction()
    if tokens:
        raise ValueError(f"unparsed rest of {log_filter!r}")
    return result


_EXTRACT = re.compile(r"^EXTRACT\(([\w.]+)\)$")


def extract(extractor: str, entry: dict) -> object:
    """The value an EXTRACT(field) extractor takes from entry (None when the field is absent)."""
    match = _EXTRACT.match(extractor.strip())
    if match is None:
        raise ValueError(f"the test's evaluator does not know the extractor {extractor!r}")
    value = field_value(entry, match.group(1))
    return None if value is _MISSING else value
