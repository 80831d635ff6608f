"""Every command answers a user's mistake with one sentence naming what to fix and a non-zero exit, never a traceback.

A missing file, a folder where a file belongs, a malformed input, an output it cannot write, a bad argument:
for `python -m training`, the tools and deploy.sh. Usage mistakes exit 2 (argparse's and deploy.sh's
convention); a problem found once the command runs exits 1. Nothing here reaches the network or gcloud.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.paths import ROOT

PY = sys.executable
# /proc refuses new entries even to root, so this is an output no user can write (tests may run as root,
# where a read-only folder is still writable).
UNWRITABLE = "/proc/penguins-cannot-write-here"

# (id, argv with {missing} {folder} {malformed} {file} placeholders, exit status, words the sentence holds)
TABLE = [
    # python -m training
    ("training-no-command", [PY, "-m", "training"], 2, ["required", "command"]),
    ("training-unknown-command", [PY, "-m", "training", "trian"], 2, ["invalid choice", "trian"]),
    ("train-out-unwritable", [PY, "-m", "training", "train", "--out", UNWRITABLE], 2, ["--out", "cannot create"]),
    ("train-out-a-file", [PY, "-m", "training", "train", "--out", "{file}"], 2, ["--out", "is a file"]),
    ("train-seed-not-a-number", [PY, "-m", "training", "train", "--out", "{folder}", "--seed", "x"], 2, ["--seed"]),
    ("drift-missing-log", [PY, "-m", "training", "drift", "{missing}", "--out", "{folder}"], 2, ["does not exist"]),
    ("drift-folder-as-log", [PY, "-m", "training", "drift", "{folder}", "--out", "{folder}"], 2, ["is a folder"]),
    ("drift-out-unwritable", [PY, "-m", "training", "drift", "{file}", "--out", UNWRITABLE], 2, ["--out", "create"]),
    ("drift-out-a-file", [PY, "-m", "training", "drift", "{file}", "--out", "{file}"], 2, ["--out", "is a file"]),
    (
        "drift-reference-missing",
        [PY, "-m", "training", "drift", "{file}", "--reference", "{missing}", "--out", "{folder}"],
        2,
        ["--reference", "does not exist"],
    ),
    (
        "drift-reference-not-an-artifact",
        [PY, "-m", "training", "drift", "{file}", "--reference", "{folder}", "--out", "{folder}"],
        1,
        ["manifest.json"],
    ),
    (
        "drift-min-predictions-zero",
        [PY, "-m", "training", "drift", "{file}", "--min-predictions", "0"],
        2,
        ["--min-predictions", "at least 1"],
    ),
    ("tune-one-fold", [PY, "-m", "training", "tune", "--outer-folds", "1"], 2, ["--outer-folds", "at least 2"]),
    ("compare-missing", [PY, "-m", "training", "compare", "{missing}", "function/model"], 1, ["cannot read"]),
    ("compare-a-file", [PY, "-m", "training", "compare", "{malformed}", "function/model"], 1, ["cannot read"]),
    ("publish-missing", [PY, "-m", "training", "publish", "{missing}", "gs://b/p"], 2, ["does not exist"]),
    ("publish-bad-uri", [PY, "-m", "training", "publish", "function/model", "bucket/p"], 1, ["gs://BUCKET/PREFIX"]),
    ("promote-bad-uri", [PY, "-m", "training", "promote", "bucket", "v1"], 1, ["gs://BUCKET/PREFIX"]),
    ("versions-bad-uri", [PY, "-m", "training", "versions", "s3://b/p"], 1, ["gs://BUCKET/PREFIX"]),
    # the tools
    ("bench-lean-missing", [PY, "-m", "tools.bench", "--lean", "{missing}"], 2, ["--lean", "does not exist"]),
    ("bench-lean-not-a-venv", [PY, "-m", "tools.bench", "--lean", "{folder}"], 2, ["--lean", "holds no python"]),
    (
        "bench-json-in-a-missing-folder",
        [PY, "-m", "tools.bench", "--lean", os.path.dirname(PY), "--json", "{missing}/figures.json"],
        2,
        ["--json", "does not exist"],
    ),
    (
        "bench-duration-zero",
        [PY, "-m", "tools.bench", "--lean", os.path.dirname(PY), "--duration", "0"],
        2,
        ["--duration", "at least 1"],
    ),
    ("instructions-too-few", [PY, "-m", "tools.bench.instructions", "--requests", "100"], 2, ["--requests", "300"]),
    ("ab-no-old", [PY, "-m", "tools.bench.ab", "--lean", os.path.dirname(PY)], 2, ["--old"]),
    (
        "ab-unknown-measure",
        [PY, "-m", "tools.bench.ab", "--lean", os.path.dirname(PY), "--old", "HEAD", "--measure", "speed"],
        2,
        ["--measure", "speed"],
    ),
    ("ab-lean-a-file", [PY, "-m", "tools.bench.ab", "--lean", "{file}", "--old", "HEAD"], 2, ["--lean", "is a file"]),
    ("compare-json-a-folder", [PY, "-m", "tools.bench.compare", "--json", "{folder}"], 2, ["--json", "is a folder"]),
    ("compare-unknown-system", [PY, "-m", "tools.bench.compare", "--only", "nginx"], 2, ["--only", "nginx"]),
    ("load-unknown-profile", [PY, "-m", "tools.load", "--profile", "spik"], 2, ["--profile", "spik"]),
    ("load-no-users", [PY, "-m", "tools.load", "--users", "0"], 2, ["--users", "at least 1"]),
    ("load-html-unwritable", [PY, "-m", "tools.load", "--html", "{missing}/l.html"], 2, ["--html", "does not exist"]),
    ("capacity-report-missing", [PY, "-m", "tools.capacity", "--report-from", "{missing}"], 2, ["does not exist"]),
    ("capacity-report-malformed", [PY, "-m", "tools.capacity", "--report-from", "{malformed}"], 1, ["past run"]),
    ("capacity-out-a-folder", [PY, "-m", "tools.capacity", "--out", "{folder}"], 2, ["--out", "is a folder"]),
    ("capacity-lean-missing", [PY, "-m", "tools.capacity", "--lean", "{missing}"], 2, ["--lean", "does not exist"]),
    ("serve-gcs-port-too-big", [PY, "-m", "tools.serve_gcs", "--port", "70000"], 2, ["--port", "65535"]),
    ("serve-gcs-same-ports", [PY, "-m", "tools.serve_gcs", "--port", "9", "--gcs-port", "9"], 2, ["both 9"]),
    ("lock-unknown-argument", [PY, "-m", "tools.lock", "--bogus"], 2, ["unrecognized", "--bogus"]),
    ("lock-missing-file", [PY, "-m", "tools.lock", "--requirements", "{missing}"], 2, ["does not exist"]),
    ("lock-no-marker", [PY, "-m", "tools.lock", "--requirements", "{malformed}"], 1, ["no line starting"]),
    ("drift-traffic-out-unwritable", [PY, "-m", "tools.drift_traffic", "--out", UNWRITABLE], 2, ["--out", "create"]),
    ("drift-traffic-too-few", [PY, "-m", "tools.drift_traffic", "--penguins", "0"], 2, ["--penguins", "at least 4"]),
    # deploy.sh and its subcommands (argument checks run before any gcloud call)
    ("deploy-unknown-option", ["./deploy.sh", "--bogus"], 2, ["unknown option", "--bogus"]),
    ("deploy-unknown-command", ["./deploy.sh", "deploy-now"], 2, ["unknown option", "deploy-now"]),
    ("deploy-option-without-value", ["./deploy.sh", "--dry-run", "--region"], 2, ["--region", "needs a value"]),
    ("deploy-bad-project", ["./deploy.sh", "--project", "My Project"], 2, ["--project", "project ID"]),
    ("deploy-bad-memory", ["./deploy.sh", "--project", "my-proj", "--memory", "lots"], 2, ["--memory", "lots"]),
    ("deploy-bad-max", ["./deploy.sh", "--project", "my-proj", "--max-instances", "-3"], 2, ["MAX_INSTANCES"]),
    (
        "deploy-artifact-missing",
        ["./deploy.sh", "--dry-run", "--project", "my-proj", "--artifact", "{missing}"],
        2,
        ["--artifact", "folder"],
    ),
    (
        "deploy-artifact-a-file",
        ["./deploy.sh", "--dry-run", "--project", "my-proj", "--artifact", "{file}"],
        2,
        ["--artifact", "folder"],
    ),
    ("rollback-bad-project", ["./deploy.sh", "rollback", "--project", "p"], 2, ["--project", "project ID"]),
    ("status-bad-region", ["./deploy.sh", "status", "--project", "my-proj", "--region", "mars"], 2, ["--region"]),
    ("smoke-unknown-option", ["./deploy.sh", "smoke", "--fast"], 2, ["unknown option", "--fast"]),
]


@pytest.fixture
def places(tmp_path) -> dict[str, str]:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"not": "what this command reads"\n')
    log = tmp_path / "requests.log"
    log.write_text('{"message": "a log line"}\n')
    return {"missing": str(tmp_path / "missing"), "folder": str(folder), "malformed": str(malformed), "file": str(log)}


@pytest.mark.parametrize(("argv", "status", "words"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_a_mistake_is_one_sentence_and_a_non_zero_exit_never_a_traceback(argv, status, words, places, tmp_path):
    argv = [part.format(**places) for part in argv]
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    (tmp_path / "gcloud").write_text("#!/bin/sh\necho 'gcloud must not be called' >&2\nexit 99\n")
    (tmp_path / "gcloud").chmod(0o755)
    result = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-2000:]
    assert "gcloud must not be called" not in result.stderr
    assert result.returncode == status, result.stderr[-1000:]
    sentence = [line for line in result.stderr.splitlines() if "error:" in line][-1]
    assert all(word in sentence for word in words), sentence
    assert len(sentence) < 400, sentence
