"""The HTML page for people with a browser: self-contained, its inline script and style allowed by their hashes."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from functools import cache

from .responses import Response, answer, header_pairs

PAGE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "page.html")
# One inline script and one inline style, each allowed by its own sha256 in the Content-Security-Policy
# (no 'unsafe-inline': an injected script or style would not run), talking only to us.
_INLINE_BLOCK = re.compile(rb"<(script|style)>(.*?)</\1>", re.S)
_CSP = (
    "default-src 'none'; script-src {script}; style-src {style}; connect-src 'self'; img-src data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _sha256_source(content: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(content).digest()).decode() + "'"


@cache
def _page() -> tuple[bytes, tuple[tuple[str, str], ...]]:
    with open(PAGE_FILE, "rb") as f:
        page = f.read()
    sources: dict[bytes, list[str]] = {b"script": [], b"style": []}
    for tag, content in _INLINE_BLOCK.findall(page):
        sources[tag].append(_sha256_source(content))
    script, style = (" ".join(sources[tag]) or "'none'" for tag in (b"script", b"style"))
    headers = (
        ("Content-Security-Policy", _CSP.format(script=script, style=style)),
        ("Referrer-Policy", "no-referrer"),
    )
    return page, headers


def page_headers() -> tuple[tuple[str, str], ...]:
    """The page's security headers (beside nosniff), its CSP naming the hashes of its inline script and style."""
    return (("X-Content-Type-Options", "nosniff"), *_page()[1])


def page_response() -> Response:
    """The page, with its security headers."""
    page, headers = _page()
    return answer(200, page, b"text/html; charset=utf-8", header_pairs(headers))
