"""The function's ASGI app in-process, through Starlette's TestClient, with the request and response API of Flask's.

The tests were written against Flask's test client (get_json, data, mimetype); this keeps them readable and
sends every request through the real app the framework builds, the ASGI way.
"""

from __future__ import annotations

import json as jsonlib

from starlette.testclient import TestClient


class Answer:
    """A response, read the way the tests read Flask's."""

    def __init__(self, response):
        self._response = response
        self.status_code = response.status_code
        self.status = f"{response.status_code} {response.reason_phrase}"
        self.headers = response.headers
        self.data = response.content

    @property
    def mimetype(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    def get_data(self, as_text: bool = False) -> bytes | str:
        return self.data.decode() if as_text else self.data

    @property
    def text(self) -> str:
        return self.data.decode()

    def get_json(self):
        return jsonlib.loads(self.data)

    @property
    def json(self):
        return self.get_json()


class AsgiClient:
    """Requests to an ASGI app: open(path, method, data, json, headers, content_type, query_string)."""

    def __init__(self, app):
        self._client = TestClient(app, base_url="http://localhost")

    def open(self, path: str, method: str = "GET", data=None, json=None, headers=None, content_type=None,
             query_string=None) -> Answer:  # fmt: skip
        headers = dict(headers or {})
        if json is not None:
            data = jsonlib.dumps(json).encode()
            headers.setdefault("Content-Type", "application/json")
        if isinstance(data, str):
            data = data.encode()
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = self._client.request(method, path, content=data, headers=headers, params=query_string)
        return Answer(response)

    def get(self, path: str, **kwargs) -> Answer:
        return self.open(path, "GET", **kwargs)

    def post(self, path: str, **kwargs) -> Answer:
        return self.open(path, "POST", **kwargs)

    def put(self, path: str, **kwargs) -> Answer:
        return self.open(path, "PUT", **kwargs)

    def delete(self, path: str, **kwargs) -> Answer:
        return self.open(path, "DELETE", **kwargs)

    def head(self, path: str, **kwargs) -> Answer:
        return self.open(path, "HEAD", **kwargs)

    def options(self, path: str, **kwargs) -> Answer:
        return self.open(path, "OPTIONS", **kwargs)
