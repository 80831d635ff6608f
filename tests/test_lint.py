"""The code stays lint-clean and formatted (ruff), so reviews are about behaviour."""

import subprocess
import sys
from pathlib import Path

from conftest import ROOT

RUFF = Path(sys.executable).parent / "ruff"


def test_ruff_check():
    result = subprocess.run([str(RUFF), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_ruff_format():
    result = subprocess.run([str(RUFF), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_shellcheck_the_scripts_deploy_sh_sources():
    scripts = sorted(str(path) for path in (ROOT / "deploy").glob("*.sh"))
    assert scripts, "deploy/ holds the scripts deploy.sh sources"
    result = subprocess.run([str(RUFF.parent / "shellcheck"), *scripts], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
