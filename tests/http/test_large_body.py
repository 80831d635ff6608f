"""A body over MAX_BODY_BYTES reaches every client as the 413 JSON error, even clients that send it all first."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

TRIES = 5
MIB = 1024 * 1024
OVER_LIMIT = 20 * MIB  # over the default 10 MiB limit, within Cloud Run's 32 MiB: read and dropped


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def test_urllib_gets_the_413_json_error_every_time(server):
    body = b" " * OVER_LIMIT
    answers = []
    for _ in range(TRIES):
        request = urllib.request.Request(
            server.url + "/predict", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            urllib.request.urlopen(request, timeout=60)
        except urllib.error.HTTPError as exc:
            answers.append((exc.code, exc.headers["Content-Type"], json.loads(exc.read())["error"]))
    assert len(answers) == TRIES  # a broken pipe is a URLError, not an HTTPError: it would be missing here
    for status, content_type, error in answers:
        assert (status, content_type) == (413, "application/json")
        assert f"at most {10 * MIB} bytes" in error


NODE_CLIENT = """
const body = new Uint8Array(Number(process.argv[3])).fill(32);
const answers = [];
for (let i = 0; i < Number(process.argv[4]); i++) {
  try {  // one fetch after another: undici reuses the keep-alive connection
    const headers = {"Content-Type": "application/json"};
    const r = await fetch(process.argv[2] + "/predict", {method: "POST", body, headers});
    answers.push({status: r.status, type: r.headers.get("content-type"), body: await r.json()});
  } catch (e) {
    answers.push({failure: String(e.cause?.code ?? e.message)});
  }
}
console.log(JSON.stringify(answers));
"""


def test_node_fetch_on_a_reused_connection_gets_the_413_json_error_every_time(server, tmp_path):
    node = shutil.which("node")
    assert node, "Node is needed for this test: scripts/test-tools.sh installs it (apt-get install nodejs)"
    script = tmp_path / "client.mjs"
    script.write_text(NODE_CLIENT)
    out = subprocess.run(
        [node, str(script), server.url, str(OVER_LIMIT), str(TRIES)], capture_output=True, text=True, timeout=120
    )
    answers = json.loads(out.stdout)
    assert [a.get("status") for a in answers] == [413] * TRIES, answers
    assert all(a["type"] == "application/json" and "at most" in a["body"]["error"] for a in answers)


def test_a_chunked_body_over_the_limit_is_dropped_and_the_connection_kept(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    chunks = (b" " * MIB for _ in range(12))  # 12 MiB: past the limit, no length declared
    conn.request("POST", "/predict", body=chunks, headers={"Content-Type": "application/json"}, encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 413 and "at most" in json.loads(response.read())["error"]
    conn.request("GET", "/health")  # the same connection still answers: the body was read to its end
    assert conn.getresponse().status == 200
    conn.close()


def test_a_body_beyond_cloud_runs_limit_is_answered_without_being_read(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest("POST", "/predict")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(64 * MIB))
    conn.endheaders()
    conn.send(b" " * 1024)  # the server must not wait for the other 64 MiB
    response = conn.getresponse()
    assert response.status == 413 and f"got {64 * MIB} bytes" in json.loads(response.read())["error"]
    conn.close()
