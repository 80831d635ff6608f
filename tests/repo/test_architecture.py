"""docs/architecture.md matches the code: the layout (two levels) and the serving package's modules, both ways."""

from __future__ import annotations

import ast
import re
import subprocess

from tests.support.paths import ROOT

ARCHITECTURE = ROOT / "docs" / "architecture.md"


def listed_layout(text: str) -> list[str]:
    """The paths the layout block names: `name/` or `name.ext` before the description, nested by two spaces."""
    block = re.search(r"## Repository layout\n.*?```\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md has no '## Repository layout' section with a code block"
    paths, parent = [], ""
    for line in block.group(1).splitlines():
        indent = len(line) - len(line.lstrip(" "))
        names = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        for name in names.split(", "):
            if indent == 0:
                paths.append(name)
                parent = name if name.endswith("/") else ""
            else:
                assert parent, f"{line!r} is nested under no folder"
                paths.append(parent + name)
    return paths


def tracked_folders() -> set[str]:
    """Folders holding tracked files, to two levels, as `a/` and `a/b/`."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    folders = set()
    for path in files:
        parts = path.split("/")[:-1]
        folders.update("/".join(parts[: depth + 1]) + "/" for depth in range(min(len(parts), 2)))
    return folders


def test_every_listed_path_exists():
    missing = [path for path in listed_layout(ARCHITECTURE.read_text()) if not (ROOT / path).exists()]
    assert missing == [], f"docs/architecture.md lists paths that do not exist: {missing}"


def test_every_folder_is_listed():
    listed = set(listed_layout(ARCHITECTURE.read_text()))
    unlisted = sorted(folder for folder in tracked_folders() if folder not in listed)
    assert unlisted == [], f"add these folders to docs/architecture.md's layout: {unlisted}"


def test_the_parser_reads_nesting_and_lists():
    text = "## Repository layout\n\n```\ntools/   what\n  bench/   b\n  a.py, b.py   files\nMakefile  m\n```\n"
    assert listed_layout(text) == ["tools/", "tools/bench/", "tools/a.py", "tools/b.py", "Makefile"]


def listed_modules(text: str) -> set[str]:
    """The modules the serving-package table names, as paths under function/penguins/ without .py."""
    section = re.search(r"## The serving package, by concern\n(.*?)\n## ", text, re.S)
    assert section, "docs/architecture.md has no '## The serving package, by concern' section"
    names = set()
    for cell in re.findall(r"^\| (`[^|]+`) \|", section.group(1), re.M):
        names.update(re.findall(r"`([\w/.]+)`", cell))
    return {name.removesuffix("/__init__") for name in names}


def serving_modules() -> set[str]:
    """Every module, package and data file of the serving package, as a path under function/penguins/ without .py."""
    package = ROOT / "function" / "penguins"
    found = set()
    for path in package.rglob("*"):
        docstring_only = path.name == "__init__.py" and len(ast.parse(path.read_text()).body) <= 1
        if path.suffix in (".py", ".json", ".html") and not docstring_only:
            found.add(path.relative_to(package).as_posix().removesuffix(".py").removesuffix("/__init__"))
    return found


def test_the_serving_table_names_every_module_and_only_modules():
    listed, present = listed_modules(ARCHITECTURE.read_text()), serving_modules()
    assert sorted(present - listed) == [], "add these modules to docs/architecture.md's table"
    assert sorted(listed - present) == [], "docs/architecture.md's table names modules that do not exist"
