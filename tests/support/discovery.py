"""Google's own API definitions, to hold the fakes to: every request and response body checked against its method.

The discovery documents in tests/support/discovery/ come from google-api-python-client (see the README there). A call
is matched to its method by HTTP method and path (the document's flatPath); its body is checked against the
method's request schema, the answer against its response schema: a field the schema does not have is an
error, int64 values are strings, enums are their listed values. Paths no document knows are errors too.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

DOCUMENTS = Path(__file__).resolve().parent / "discovery"
# fake_gcp's API prefix -> the discovery document's name (its version is the path's first segment)
NAMES = {"run": "run", "cloudbuild": "cloudbuild", "artifactregistry": "artifactregistry", "logging": "logging",
         "monitoring": "monitoring", "storage": "storage", "serviceusage": "serviceusage", "iam": "iam",
         "cloudresourcemanager": "cloudresourcemanager", "bigquery": "bigquery",
         "bigqueryconnection": "bigqueryconnection"}  # fmt: skip
INT64 = {"int64", "uint64"}


@functools.cache
def document(name: str) -> dict:
    return json.loads((DOCUMENTS / f"{name}.json").read_text())


def _methods(resources: dict):
    for resource in resources.values():
        yield from resource.get("methods", {}).values()
        yield from _methods(resource.get("resources", {}))


@functools.cache
def _routes(name: str) -> list[tuple[str, re.Pattern, dict]]:
    """(HTTP method, full-path regex, method) of every method in a document, the most literal first."""
    doc = document(name)
    routes = []
    for method in _methods(doc["resources"]):
        template = doc["servicePath"] + method.get("flatPath", method["path"])
        pattern = re.sub(r"\{\+?[^}]+\}", lambda m: ".+" if m.group(0).startswith("{+") else "[^/]+", template)
        literal = len(re.sub(r"\{[^}]+\}", "", template))
        routes.append((literal, method["httpMethod"], re.compile(pattern), method))
    # the most literal template first: ...services/{s}:getIamPolicy before ...services/{s}
    return [(method, pattern, spec) for _, method, pattern, spec in sorted(routes, key=lambda r: -r[0])]


def find_method(api: str, http_method: str, path: str) -> tuple[str, dict] | None:
    """The document and method a fake_gcp.Call is to (api, method, path without the API's prefix), or None."""
    if api == "storage-upload":  # the simple/multipart media upload of objects.insert
        return "storage.v1", document("storage.v1")["resources"]["objects"]["methods"]["insert"]
    if api not in NAMES:
        return None
    full = path.lstrip("/")
    if api in ("storage", "bigquery"):  # their servicePath holds the version: storage/v1/, bigquery/v2/
        full = f"{api}/{full}"
    version = "v1" if full.startswith("apis/") else full.split("/")[1 if api in ("storage", "bigquery") else 0]
    name = f"{NAMES[api]}.{version}"
    if not (DOCUMENTS / f"{name}.json").exists():
        return None
    for method, pattern, spec in _routes(name):
        if method == http_method and pattern.fullmatch(full):
            return name, spec
    return None


def check(name: str, ref: str | None, value: object, where: str) -> list[str]:
    """Every way value differs from the schema ref of document name (none when ref is None and value is empty)."""
    if ref is None:
        return [] if value in (None, {}, b"") else [f"{where}: the method takes no body, got {str(value)[:80]}"]
    return _check(document(name), {"$ref": ref}, value, where)


def _check(doc: dict, schema: dict, value: object, where: str) -> list[str]:
    if "$ref" in schema:
        schema = doc["schemas"][schema["$ref"]]
    kind = schema.get("type")
    if kind == "any" or (kind is None and "properties" not in schema):
        return []
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        errors = []
        properties, extra = schema.get("properties", {}), schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                errors += _check(doc, properties[key], item, f"{where}.{key}")
            elif extra is not None:
                errors += _check(doc, extra, item, f"{where}.{key}")
            else:
                errors.append(f"{where}.{key}: no such field in {schema.get('id', 'the schema')}")
        return errors
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected an array, got {type(value).__name__}"]
        return [error for i, item in enumerate(value) for error in _check(doc, schema["items"], item, f"{where}[{i}]")]
    if kind == "string":
        if not isinstance(value, str):
            kind_of = "an int64, which JSON carries as a string" if schema.get("format") in INT64 else "a string"
            return [f"{where}: expected {kind_of}, got {value!r}"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where}: {value!r} is not one of {schema['enum']}"]
        return []
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected an integer, got {value!r}"]
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected a number, got {value!r}"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected true or false, got {value!r}"]
    return [f"{where}: the validator does not know the type {kind!r}"]


def check_exchange(api: str, http_method: str, path: str, request: object, status: int, response: object) -> list[str]:
    """Everything wrong with one exchange of a fake: an unknown method, or a body unlike Google's definition."""
    found = find_method(api, http_method, path)
    if found is None:
        return [f"{http_method} {api}{path}: no method of Google's APIs has this path"]
    name, method = found
    where = f"{method['id']}"
    errors = []
    if not isinstance(request, bytes):  # a media upload's bytes are not JSON
        errors += check(name, method.get("request", {}).get("$ref"), request, f"{where} request")
    if 200 <= status < 300:
        errors += check(name, method.get("response", {}).get("$ref"), response, f"{where} response")
    else:
        errors += _check_error(response, f"{where} error")
    return errors


def _check_error(body: object, where: str) -> list[str]:
    """Google's JSON error: {"error": {"code", "message", "status"}}."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(error) - {"code", "message", "status", "details", "errors"}:
        return [f"{where}: not Google's error shape: {str(body)[:120]}"]
    return []
