"""Re-pin the function's transitive dependencies: `make lock` after changing a direct pin.

Installs the direct pins of function/requirements.txt (the part above LOCK_MARKER) into a fresh venv and
writes what pip resolved below the marker, so a deploy installs exactly the set the tests ran against.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "function" / "requirements.txt"
LOCK_MARKER = "# Everything the above install, resolved once and pinned"


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def split(text: str) -> tuple[str, str]:
    """The direct part of the file and the locked part (from LOCK_MARKER on)."""
    index = text.find(LOCK_MARKER)
    if index < 0:
        raise SystemExit(f"{REQUIREMENTS} has no line starting {LOCK_MARKER!r}")
    return text[:index], text[index:]


def pins(text: str) -> dict[str, str]:
    """Canonical name -> the line pinning it, for every requirement line."""
    lines = (line.strip() for line in text.splitlines())
    return {canonical(line.split("==")[0]): line for line in lines if line and not line.startswith("#")}


def main() -> None:
    direct, locked = split(REQUIREMENTS.read_text())
    header = "".join(line + "\n" for line in locked.splitlines() if line.startswith("#"))
    with tempfile.TemporaryDirectory() as folder:
        venv = Path(folder) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        direct_file = Path(folder) / "direct.txt"
        direct_file.write_text(direct)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        subprocess.run([*pip, "install", "--quiet", "-r", str(direct_file)], check=True)
        frozen = subprocess.run([*pip, "freeze"], check=True, capture_output=True, text=True).stdout
    direct_names = pins(direct)
    resolved = [line for name, line in sorted(pins(frozen).items()) if name not in direct_names]
    REQUIREMENTS.write_text(direct + header + "\n".join(resolved) + "\n")
    print(f"{REQUIREMENTS}: {len(resolved)} transitive dependencies pinned")


if __name__ == "__main__":
    main()
