"""Standing promises about what the deployed folder contains and imports."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys

import pytest
from packaging.requirements import Requirement

from tests.support.paths import FUNCTION_DIR, ROOT
from tools.examples import ADELIE
from tools.lock import REQUIREMENTS, canonical, pins

SOURCES = sorted(FUNCTION_DIR.rglob("*.py"))


def imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_function_imports_nothing_from_training_and_nothing_heavy_or_unsafe(path):
    forbidden = {"training", "xgboost", "sklearn", "pandas", "pickle", "joblib", "dill", "cloudpickle", "marshal"}
    assert imported_modules(path).isdisjoint(forbidden)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_read_from_an_artifact_is_executed(path):
    tree = ast.parse(path.read_text())
    calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert calls.isdisjoint({"eval", "exec", "compile", "__import__"})


def test_runtime_requirements_are_pinned_and_lean():
    lines = [line.strip() for line in (FUNCTION_DIR / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", line) for line in requirements), requirements
    names = {line.split("==")[0].lower() for line in requirements}
    assert names.isdisjoint({"pandas", "scikit-learn", "sklearn", "xgboost", "xgboost-cpu"})


def test_every_runtime_dependency_is_pinned_and_the_tests_run_on_those_pins():
    """A deploy installs exactly what was tested: each pinned package's own requirements are pinned too."""
    pinned = pins(REQUIREMENTS.read_text())
    for name, line in pinned.items():
        assert importlib.metadata.version(name) == line.split("==")[1], f"{line}: run `make venv`"
        for requirement in map(Requirement, importlib.metadata.requires(name) or []):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                assert canonical(requirement.name) in pinned, f"{name} needs {requirement}: run `make lock`"


def test_serving_a_prediction_imports_neither_pydantic_nor_numpy_nor_another_format():
    """pydantic (~35 ms), pydantic-core's Python layer (~25 ms, penguins/rust_core.py), numpy and the other
    formats' codecs load only on the paths that need them."""
    code = f"""
import json, sys
import functions_framework
from starlette.testclient import TestClient
app = functions_framework.create_app("predict", "main.py")
response = TestClient(app).post("/predict", json={ADELIE!r})
assert response.status_code == 200, response.content
other_codecs = ("csv_codec", "bigquery", "v2", "v2_binary")  # the JSON codec reads this request; no other is loaded
loaded = sorted(
    name for name in sys.modules
    if name.split(".")[0] in ("pydantic", "numpy") or name.split(".")[-1] in other_codecs
    or name in ("pydantic_core", "pydantic_core.core_schema")
)
assert "pydantic_core._pydantic_core" in sys.modules  # the compiled validators, alone
print(json.dumps(loaded))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=FUNCTION_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_pydantic_imported_after_the_function_shares_its_compiled_validators():
    """/openapi.json imports pydantic: it must reuse the compiled module rust_core loaded, not a second one."""
    code = """
import main, penguins.rust_core as core, pydantic_core, pydantic
assert pydantic_core.SchemaValidator is core.SchemaValidator and pydantic_core.ValidationError is core.ValidationError
class Penguin(pydantic.BaseModel):
    island: str
try:
    Penguin(island=1)
except core.ValidationError as exc:  # pydantic's error is the class the function catches
    print(exc.error_count())
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=FUNCTION_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "1"


def test_rust_core_falls_back_to_the_plain_import_when_the_compiled_module_is_not_where_it_looks():
    code = """
import os, sys
listdir = os.listdir
os.listdir = lambda path: [] if str(path).endswith("pydantic_core") else listdir(path)  # another layout
import penguins.rust_core as core
import pydantic_core
assert "pydantic_core.core_schema" in sys.modules  # the package's own way ran
assert core.SchemaValidator is pydantic_core.SchemaValidator and core.from_json is pydantic_core.from_json
print(core.from_json(b'{"ok": 1}'))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=FUNCTION_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "{'ok': 1}"
