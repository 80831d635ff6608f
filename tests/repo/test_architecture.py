"""docs/architecture.md's repository layout matches the folders that exist, both ways (two levels)."""

from __future__ import annotations

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
