"""web/framework.py's JsonErrors: the framework's own answers and crashes become JSON; ours pass untouched."""

from __future__ import annotations

import asyncio
import json

import pytest

from penguins.web.framework import JsonErrors


def _run(app, method: str = "POST", path: str = "/predict") -> list[dict]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if sent and sent[0]["type"] == "http.response.start" and message["type"] == "http.response.start":
            raise RuntimeError("Expected ASGI message 'http.response.body'")  # as uvicorn refuses it
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": []}
    asyncio.run(JsonErrors(app)(scope, receive, send))
    return sent


async def _crash_before_answering(scope, receive, send):
    raise ValueError("a bug in a layer of the framework")


async def _crash_after_starting(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise ValueError("a bug after the answer began")


async def _plain_text_404(scope, receive, send):
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"Not Found"})


@pytest.mark.parametrize(("method", "path"), [("POST", "/predict"), ("TRACE", "/predict"), ("GET", "/robots.txt")])
def test_a_crash_before_any_answer_is_a_json_500_on_every_path(method, path, capsys):
    start, body = _run(_crash_before_answering, method, path)
    assert start["status"] == 500
    assert json.loads(body["body"]) == {"error": "Internal error; it has been logged.", "detail": []}
    assert "a bug in a layer of the framework" in capsys.readouterr().out  # the traceback is logged, not sent


def test_a_crash_after_the_answer_began_is_logged_and_raises_nothing(capsys):
    assert [m["status"] for m in _run(_crash_after_starting)] == [200]
    assert "a bug after the answer began" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("method", "path", "replaced"),
    [("GET", "/favicon.ico", True), ("GET", "/v2/models/a\nb/ready", True), ("POST", "/x", False)],
)
def test_the_framework_s_own_plain_text_answers_are_replaced_and_ours_are_not(method, path, replaced):
    start, body = _run(_plain_text_404, method, path)
    assert start["status"] == 404
    assert (body["body"] != b"Not Found") == replaced
