"""Every request example in README.md and docs/*.md is run against a real server and must answer what it shows.

An example is a ```bash block holding a `curl` to http://127.0.0.1:8080 (the local `make serve`), followed
by the block with its answer (```json, ```csv or ```text). The command runs in bash, as a reader would
paste it, with the server's address swapped in. JSON answers compare as values: a number matches to the
decimals it is shown with, and the string "..." stands for a value the text says varies (the model
version). Other answers compare as text. A curl example without its answer fails here too, unless an
HTML comment right above it says why it is not run (`<!-- not run: ... -->`).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import ROOT

LOCAL_URL = "http://127.0.0.1:8080"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n?", re.S | re.M)
ANSWER_KINDS = ("json", "csv", "text")
VARIES = "..."


@dataclass(frozen=True)
class Example:
    """One curl command as a document shows it, with the answer shown below it."""

    document: str
    line: int
    command: str
    kind: str
    answer: str

    def __str__(self) -> str:
        return self.document  # "README.md:59"


def examples_in(path: Path) -> tuple[list[Example], list[str]]:
    """The examples of one document, and the places of curl blocks that show no answer."""
    text = path.read_text()
    blocks = list(FENCE.finditer(text))
    found, unanswered = [], []
    for block, following in zip(blocks, [*blocks[1:], None]):
        if block.group(1) != "bash" or "curl" not in block.group(2) or LOCAL_URL not in block.group(2):
            continue
        line = text.count("\n", 0, block.start()) + 1
        where = f"{path.relative_to(ROOT)}:{line}"
        adjacent = following is not None and not text[block.end() : following.start()].strip()
        if adjacent and following.group(1) in ANSWER_KINDS:
            found.append(Example(where, line, block.group(2), following.group(1), following.group(2)))
        elif "<!-- not run:" not in text[max(0, block.start() - 300) : block.start()]:
            unanswered.append(where)
    return found, unanswered


ALL = [example for path in DOCUMENTS for example in examples_in(path)[0]]


def test_the_documents_have_examples_and_each_shows_its_answer():
    assert len(ALL) >= 5  # the README's own: a prediction, a batch, warnings, an explanation, errors
    missing = [where for path in DOCUMENTS for where in examples_in(path)[1]]
    assert missing == [], f"curl examples without a shown answer (or a <!-- not run: why --> note): {missing}"


def matches(shown: object, got: object, path: str = "$") -> list[str]:
    """Where got differs from what the document shows (numbers to the shown decimals, "..." anything)."""
    if shown == VARIES:
        return []
    if isinstance(shown, dict) and isinstance(got, dict):
        if list(shown) != list(got):
            return [f"{path}: keys {list(got)}, shown {list(shown)}"]
        return [d for key in shown for d in matches(shown[key], got[key], f"{path}.{key}")]
    if isinstance(shown, list) and isinstance(got, list):
        if len(shown) != len(got):
            return [f"{path}: {len(got)} items, shown {len(shown)}"]
        return [d for i, (s, g) in enumerate(zip(shown, got)) for d in matches(s, g, f"{path}[{i}]")]
    if isinstance(shown, float | int) and isinstance(got, float | int) and not isinstance(shown, bool):
        return [] if math.isclose(got, shown, abs_tol=_half_unit(shown)) else [f"{path}: {got}, shown {shown}"]
    return [] if shown == got else [f"{path}: {got!r}, shown {shown!r}"]


def _half_unit(number: float | int) -> float:
    """Half a unit of the last decimal a number is written with: 0.534 matches 0.5335 to 0.5345."""
    written = repr(number)
    decimals = len(written.split(".")[1]) if "." in written and "e" not in written else 0
    return 0.5 * 10.0**-decimals + 1e-12


def test_the_number_rule_is_the_shown_rounding():
    assert matches({"a": 0.534, "b": [1, "x"], "v": VARIES}, {"a": 0.53449, "b": [1, "x"], "v": "2f0c"}) == []
    assert matches({"a": 0.534}, {"a": 0.5346}) == ["$.a: 0.5346, shown 0.534"]
    assert matches({"a": 1}, {"a": 1, "b": 2}) and matches(["x"], ["y"]) and matches({"v": "x"}, {"v": "..."})


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


@pytest.mark.parametrize("example", ALL, ids=str)
def test_the_example_answers_what_the_document_shows(server, example):
    command = example.command.replace(LOCAL_URL, server.url)
    run = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 0, f"{example}: the command failed: {run.stderr}"
    if example.kind == "json":
        differences = matches(json.loads(example.answer), json.loads(run.stdout))
        assert differences == [], f"{example} answers otherwise now: {differences}\nthe answer: {run.stdout}"
    else:
        assert run.stdout.strip() == example.answer.strip(), f"{example} answers otherwise now:\n{run.stdout}"
