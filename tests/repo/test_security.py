"""Security promises that a test can hold: no credential can be committed, none is tracked, deploys are private."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.support.paths import ROOT

CREDENTIAL_NAMES = [
    "service-account.json",
    "my-service-account-key.json",
    "sa-key.json",
    "deployer_sa_key.json",
    "credentials.json",
    "gcp-credentials.json",
    "application_default_credentials.json",
    "key.pem",
    "cert.p12",
    "server.key",
    "project-1234-key.json",
    ".env",
    ".env.production",
    "function/model/credentials.json",
]
CREDENTIAL_PATTERN = re.compile(r"(service[-_]?account|credentials|sa[-_]key).*\.json$|\.pem$|\.p12$|\.key$|(^|/)\.env")


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
def test_credential_files_are_ignored_by_git(name):
    assert git("check-ignore", "--no-index", "-q", name).returncode == 0, f"{name} could be committed"


def test_no_tracked_file_looks_like_a_credential():
    tracked = git("ls-files").stdout.splitlines()
    assert tracked, "not a git checkout"
    assert [path for path in tracked if CREDENTIAL_PATTERN.search(path)] == []


def test_no_tracked_file_holds_key_material():
    # Spelled in pieces so that this file does not match itself.
    pattern = "-----BEGIN [A-Z ]*" + "PRIVATE KEY-----" + '|"private' + '_key"' + r"\s*:"
    found = git("grep", "-l", "-I", "-E", pattern, "--", ":!*.md")
    assert found.stdout.strip() == ""
