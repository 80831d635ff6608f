"""Request log lines: every one written, in order, together when requests overlap, at once when alone."""

from __future__ import annotations

import json

import pytest

from penguins import log


@pytest.fixture(autouse=True)
def _no_requests_in_flight():
    log.flush()
    log._in_flight = 0
    yield
    log._in_flight = 0


def request_lines(out: str) -> list[str]:
    return [json.loads(line)["message"] for line in out.splitlines() if line]


def entry(path: str) -> None:
    log.request_entry("GET", path, 200, 0.001, None, None)


def test_a_request_alone_is_written_at_once(capsys):
    log.request_started()
    entry("/alone")
    assert request_lines(capsys.readouterr().out) == ["GET /alone 200"]


def test_overlapping_requests_are_written_together_in_order_when_the_last_ends(capsys):
    for _ in range(3):
        log.request_started()
    entry("/a")
    entry("/b")
    assert capsys.readouterr().out == ""  # one still in flight: the lines wait
    entry("/c")
    assert request_lines(capsys.readouterr().out) == ["GET /a 200", "GET /b 200", "GET /c 200"]


def test_lines_never_wait_in_numbers(capsys):
    for _ in range(log.MAX_PENDING_LINES + 1):
        log.request_started()
    for i in range(log.MAX_PENDING_LINES):
        entry(f"/{i}")
    assert len(request_lines(capsys.readouterr().out)) == log.MAX_PENDING_LINES


def test_an_event_is_written_at_once_after_the_lines_waiting(capsys):
    log.request_started()
    log.request_started()
    entry("/first")
    log.emit("ERROR", "model store down")
    assert request_lines(capsys.readouterr().out) == ["GET /first 200", "model store down"]


def test_lines_are_the_same_json_whatever_the_path_and_the_cache_stays_bounded(capsys):
    paths = [f'/odd "path" \\ {i} \u00e9\n' for i in range(log.MAX_LINE_STARTS + 50)]
    for path in paths:
        log.request_started()
        log.request_entry("GET", path, 404, 0.25, "a" * 32, "proj", {"error": f"no {path}"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["httpRequest"]["requestUrl"] for line in lines] == paths
    assert lines[-1] == {
        "severity": "WARNING",
        "message": f"GET {paths[-1]} 404",
        "httpRequest": {"requestMethod": "GET", "requestUrl": paths[-1], "status": 404, "latency": "0.250000s"},
        "logging.googleapis.com/trace": f"projects/proj/traces/{'a' * 32}",
        "error": f"no {paths[-1]}",
    }
    assert len(log._LINE_STARTS) <= log.MAX_LINE_STARTS
