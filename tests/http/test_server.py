"""The function in a real functions-framework process (gunicorn with uvicorn's worker) on a loopback port."""

from __future__ import annotations

import http.client
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tools.examples import ADELIE, SEED_EXAMPLES


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


@pytest.mark.parametrize("species", list(SEED_EXAMPLES))
def test_seed_examples(server, species):
    status, headers, body = server.post_json("/predict", SEED_EXAMPLES[species])
    assert status == 200
    assert body["prediction"] == species
    assert abs(sum(body["probabilities"].values()) - 1) < 1e-5
    assert headers["X-Model-Source"] == "bundled" and "X-Model-Version" not in headers


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [
        ("POST", "/predict", b"{not json", {"Content-Type": "application/json"}, 400),
        ("POST", "/predict", json.dumps(ADELIE).encode(), {"Content-Type": "text/plain"}, 415),
        (
            "POST",
            "/predict",
            json.dumps({**ADELIE, "island": "Mars"}).encode(),
            {"Content-Type": "application/json"},
            422,
        ),
        ("GET", "/nowhere", None, {}, 404),
        ("GET", "/favicon.ico", None, {}, 404),  # the framework's own route: JSON all the same (web/framework.py)
        ("GET", "/robots.txt", None, {}, 404),
        ("GET", "/v2/models/a%0Ab/ready", None, {}, 404),  # a line feed: no route of the framework matches it
        ("TRACE", "/predict", None, {}, 405),  # a method the framework does not route
        ("PROPFIND", "/", None, {}, 405),
        ("GET", "/predict", None, {}, 405),
    ],
)
def test_errors_are_json_from_the_real_server(server, method, path, body, headers, status):
    got, response_headers, payload = server.request(method, path, body, headers)
    assert got == status
    assert response_headers["Content-Type"] == "application/json"
    assert payload["error"] and isinstance(payload["detail"], list)


def test_chunked_body(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    payload = json.dumps({"instances": [ADELIE, SEED_EXAMPLES["Gentoo"]]}).encode()
    conn.request(
        "POST",
        "/predict",
        body=iter([payload[:50], payload[50:]]),
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = conn.getresponse()
    assert response.status == 200
    assert [p["prediction"] for p in json.loads(response.read())["predictions"]] == ["Adelie", "Gentoo"]
    conn.close()


def test_body_over_the_limit_is_413_and_the_server_keeps_answering(start_server):
    srv = start_server(MAX_BODY_BYTES="10000")
    payload = json.dumps({"instances": [ADELIE] * 200}).encode()
    status, _, body = srv.request("POST", "/predict", payload, {"Content-Type": "application/json"})
    assert status == 413
    assert "at most 10000 bytes" in body["error"]
    assert srv.post_json("/predict", ADELIE)[0] == 200


def test_fifty_concurrent_cold_requests_load_the_model_once(start_server):
    srv = start_server()
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda _: srv.post_json("/predict", ADELIE), range(50)))
    assert [r[0] for r in results] == [200] * 50
    assert {r[2]["model_version"] for r in results} == {results[0][2]["model_version"]}
    loads = [line for line in srv.log_lines() if line["message"].startswith("model ") and "loaded" in line["message"]]
    assert len(loads) == 1
    requests = [line for line in srv.log_lines() if "httpRequest" in line]
    assert len(requests) == 50
