"""The layout's rules, held: nothing edits sys.path, no test imports another, nothing outside tests/ uses tests/."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

from tests.support.paths import ROOT


def tracked(*patterns: str) -> list[str]:
    """Tracked files matching git pathspecs."""
    return subprocess.run(
        ["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()


def imported_modules(path: str) -> set[str]:
    """Every module a Python file imports, at any depth, as written."""
    tree = ast.parse((ROOT / path).read_text(), path)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def is_sys_path(node: ast.AST) -> bool:
    """`sys.path`, or a slice or item of it."""
    if isinstance(node, ast.Subscript):
        node = node.value
    return isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", None) == "sys"


def edits_sys_path(source: str) -> bool:
    """Code (not text) that changes sys.path: a call of one of its methods, or an assignment to it or into it."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and is_sys_path(node.func.value):
            if node.func.attr in {"insert", "append", "extend", "remove", "pop", "clear"}:
                return True
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if isinstance(node, (ast.Assign, ast.AugAssign)) and any(is_sys_path(target) for target in targets):
            return True
    return False


def test_no_python_file_edits_sys_path():
    """Packages import because the project is installed (make venv), never because a file pointed sys.path at them."""
    offenders = [path for path in tracked("*.py") if edits_sys_path((ROOT / path).read_text())]
    assert offenders == [], f"these files edit sys.path; install what they need instead: {offenders}"


def test_the_rule_finds_a_sys_path_edit_when_there_is_one():
    for line in ("sys.path.insert(0, 'x')", "sys.path[:0] = ['x']", "sys.path.append(d)", "sys.path = []"):
        assert edits_sys_path(line), line
    assert not edits_sys_path("print(sys.path)\nnote = 'sys.path.insert(0, here)'")


def test_no_test_module_imports_another_test_module():
    """Shared helpers live in tests/support (or a conftest.py as fixtures), so any test file can move alone."""
    offenders = {
        path: sorted(m for m in imported_modules(path) if re.match(r"(tests\.(\w+\.)*)?(test_\w+|conftest)$", m))
        for path in tracked("tests/*.py")
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def python_uses_tests(source: str) -> bool:
    """An import of tests, or a string naming tests/ (docstrings aside: they may cite a test as evidence)."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "tests" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "tests":
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value == "tests" or re.search(r"(^|[\s/])tests/\w", node.value):
                return True
    return False


def shell_uses_tests(source: str) -> bool:
    """A command (comments aside) that names a file under tests/."""
    return any(re.search(r"(^|[\s/])tests/\w", line.split("#", 1)[0]) for line in source.splitlines())


def test_the_rules_catch_a_use_of_tests():
    assert python_uses_tests("from tests.support.paths import ROOT")
    assert python_uses_tests("import tests.support")
    assert python_uses_tests("subprocess.run(['python', 'tests/fake_gcs.py'])")
    assert python_uses_tests("SOURCE = ROOT / 'tests' / 'floor_function.py'")
    assert not python_uses_tests('"""Checked by tests/repo/test_lint.py."""\nx = 1  # tests/test_x.py too')
    assert shell_uses_tests("serve:\n\t$(BIN)/python tests/fake_gcs.py")
    assert not shell_uses_tests("# tests/repo/test_lint.py checks this file\nshellcheck deploy.sh")


def test_nothing_outside_tests_runs_or_imports_a_file_of_tests():
    """Tools, deploy scripts, the Makefile and the function stand without the tests beside them."""
    outside = [path for path in tracked() if not path.startswith(("tests/", "docs/"))]
    offenders = [path for path in outside if path.endswith(".py") and python_uses_tests((ROOT / path).read_text())]
    shell = [path for path in outside if path.endswith(".sh") or path in ("Makefile", ".ci/run")]
    offenders += [path for path in shell if shell_uses_tests((ROOT / path).read_text())]
    assert offenders == [], f"these files use tests/; move what they need to tools/ or golden/: {offenders}"


def test_the_function_imports_nothing_from_outside_function():
    """function/ is exactly what a deploy uploads: it cannot import training, tools or tests."""
    for path in tracked("function/*.py"):
        outside = {m for m in imported_modules(path) if m.split(".")[0] in {"training", "tools", "tests"}}
        assert outside == set(), f"{path} imports {outside}"


def test_training_imports_serving_never_the_reverse():
    for path in tracked("training/*.py"):
        assert not {m for m in imported_modules(path) if m.split(".")[0] in {"tools", "tests"}}, path


def test_the_installed_packages_import_from_another_folder(tmp_path):
    """make venv installs the project editable: penguins, training and tools import from anywhere."""
    script = (
        "import penguins, training, tools, tools.bench; print(penguins.__file__, training.__file__, tools.__file__)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    penguins_file, training_file, tools_file = result.stdout.split()
    assert penguins_file == str(ROOT / "function" / "penguins" / "__init__.py")
    assert training_file == str(ROOT / "training" / "__init__.py")
    assert tools_file == str(ROOT / "tools" / "__init__.py")


def test_test_file_names_are_unique():
    """conftest.py's LONGEST_FILES matches files by name, and pytest reports them by name: no two alike."""
    names = [path.rsplit("/", 1)[-1] for path in tracked("tests/*test_*.py")]
    assert sorted(names) == sorted(set(names))
