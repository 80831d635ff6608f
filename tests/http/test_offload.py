"""A large request is worked in a worker thread, so the small ones sharing the event loop are answered meanwhile."""

from __future__ import annotations

import asyncio
import json

import functions_framework

from tests.support.paths import MAIN
from tools.bench.inprocess import post as send
from tools.examples import ADELIE, random_penguins


def test_a_single_is_answered_while_a_batch_is_worked_off_the_loop():
    app = functions_framework.create_app("predict", str(MAIN))
    batch = json.dumps({"instances": random_penguins(10_000)}).encode()
    single = json.dumps(ADELIE).encode()

    async def scenario() -> tuple[bool, int, int]:
        assert await send(app, batch) == 200  # numpy imported, tables built
        large = asyncio.create_task(send(app, batch))
        small = asyncio.create_task(send(app, single))
        status = await small
        # Worked on the loop, the batch would have run to its end before the single got a turn.
        batch_still_working = not large.done()
        return batch_still_working, status, await large

    batch_still_working, single_status, batch_status = asyncio.run(scenario())
    assert single_status == batch_status == 200
    assert batch_still_working


def test_a_small_batch_is_answered_on_the_loop():
    """Below OFFLOAD_FROM_BYTES the work is shorter than the two thread hops: the request never yields."""
    from penguins.web.pipeline import OFFLOAD_FROM_BYTES

    app = functions_framework.create_app("predict", str(MAIN))
    batch = json.dumps({"instances": [ADELIE] * 20}).encode()
    assert len(batch) < OFFLOAD_FROM_BYTES

    async def scenario() -> bool:
        assert await send(app, batch) == 200
        first = asyncio.create_task(send(app, batch))
        second = asyncio.create_task(send(app, json.dumps(ADELIE).encode()))
        await second
        return first.done()

    assert asyncio.run(scenario())
