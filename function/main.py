"""Cloud Function entry point `predict`: every path of the function's URL, on the framework's fast lane (ASGI)."""

from __future__ import annotations

import gc

# Importing builds thousands of objects that live as long as the process (the framework, the validators):
# collecting mid-import finds nothing to free and costs ~4 ms of every cold start.
gc.disable()

import functions_framework.aio  # noqa: E402

from penguins.model.cache import ModelCache  # noqa: E402
from penguins.settings import Settings  # noqa: E402
from penguins.web.framework import JsonErrors  # noqa: E402
from penguins.web.handlers import ROUTER  # noqa: E402
from penguins.web.pipeline import App  # noqa: E402

try:
    SETTINGS = Settings.from_env()
    APP = App(SETTINGS, ModelCache(SETTINGS), ROUTER)
finally:
    gc.enable()  # also when a setting is refused: a test process goes on after that
# A young-generation collection every 10,000 new containers, not every 700: a 10,000-row batch makes
# ~100,000 short-lived, acyclic dicts and lists, and collecting every 700 of them cost 40% of its time.
gc.set_threshold(10_000, *gc.get_threshold()[1:])
# The framework builds its app after loading this file, with the error middleware its aio module names:
# ours answers the framework's own errors (its 404s, a 405 for an unrouted method) in JSON (web/framework.py).
setattr(functions_framework.aio, "ExceptionHandlerMiddleware", JsonErrors)  # noqa: B010 (its type differs)


@functions_framework.aio.http
async def predict(request):
    """Answer every path of the function's URL."""
    return await APP(request.scope, request.receive)
