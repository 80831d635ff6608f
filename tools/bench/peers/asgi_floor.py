"""The framework's fast-lane floor: an async (ASGI) function that reads the body and answers a constant.

Served by the same `functions-framework --target predict` command, under gunicorn with uvicorn's worker,
from the fastlane peer venv (httptools and uvloop installed): no function on this framework answers faster.
"""

import functions_framework.aio


@functions_framework.aio.http
async def predict(request):
    """Read the whole body (as every real function must), then answer one fixed species."""
    await request.body()
    return {"prediction": "Adelie"}
