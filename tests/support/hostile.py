"""What hostile-client tests share: a big body, the patterns no answer may leak, a body in chunks."""

from __future__ import annotations

import re

BIG = 100 * 1024 * 1024
# What no error answer may show: paths, file names, tracebacks, library names and versions.
SECRETS = re.compile(
    r"/work|/tmp|/home|site-packages|\.py\b|Traceback|pydantic|werkzeug|flask|gunicorn|orjson|jiter|"
    r"python|\b3\.11|\b2\.14",
    re.I,
)


def chunks(total: int, size: int = 1 << 20):
    """total bytes of spaces in pieces of size: a body sent chunked."""
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size
