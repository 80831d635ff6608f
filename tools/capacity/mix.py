"""The realistic mix of client calls (locustfile.py's shares), as our API and as the seed's API take it.

A call is what a client wants done: one prediction, a batch, a health check, or a mistake. Our API does
each in one request; the seed's has no batch, so a batch is one request per penguin there.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from tools.examples import random_penguins

# Shares of calls, as in locustfile.py's tasks: single prediction, batch of 2-20, GET /health, invalid body.
SHARES = {"one": 70, "batch": 15, "health": 10, "invalid": 5}
BATCH_SIZES = (2, 20)
KILOGRAMS = {"body_mass_g": 3.75}  # the mistake both APIs refuse with a 422


@dataclass(frozen=True)
class Request:
    """One HTTP request and the statuses that count as a correct answer."""

    method: str
    path: str
    body: bytes | None
    ok_statuses: tuple[int, ...]
    predictions: int


@dataclass(frozen=True)
class Call:
    """What a client wants done, as the requests one API needs for it."""

    kind: str
    requests: tuple[Request, ...]


def _seed_penguin(penguin: dict) -> dict:
    """A penguin as the seed's API requires it: a year, and a sex (it has no unknown)."""
    return {**penguin, "year": 2008, "sex": penguin["sex"] or "female"}


def _post(body: object, predictions: int, ok: tuple[int, ...] = (200,)) -> Request:
    return Request("POST", "/predict", json.dumps(body).encode(), ok, predictions)


def calls(api: str, count: int, seed: int = 0) -> list[Call]:
    """`count` calls of the mix for api "ours" or "seed", the same calls for both with the same seed."""
    rng = random.Random(seed)
    penguins = iter(random_penguins(count * BATCH_SIZES[1]))
    kinds = rng.choices(list(SHARES), weights=list(SHARES.values()), k=count)
    out = []
    for kind in kinds:
        if kind == "one":
            penguin = next(penguins)
            requests: tuple[Request, ...] = (_post(penguin if api == "ours" else _seed_penguin(penguin), 1),)
        elif kind == "batch":
            batch = [next(penguins) for _ in range(rng.randint(*BATCH_SIZES))]
            if api == "ours":
                requests = (_post({"instances": batch}, len(batch)),)
            else:
                requests = tuple(_post(_seed_penguin(p), 1) for p in batch)
        elif kind == "health":
            requests = (Request("GET", "/health", None, (200,), 0),)
        else:
            wrong = {**next(penguins), **KILOGRAMS}
            requests = (_post(wrong if api == "ours" else _seed_penguin(wrong), 0, (422,)),)
        out.append(Call(kind, requests))
    return out


def singles(count: int) -> list[Call]:
    """`count` single predictions of the seed's Adelie: the request the seed's loads are made of."""
    from tools.examples import ADELIE

    return [Call("one", (_post(ADELIE, 1),)) for _ in range(count)]
