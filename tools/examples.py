"""Penguins every test and tool uses: the seed's examples (golden/seed_examples.json), random and field birds."""

import json
import random
from pathlib import Path

# The seed README's three examples, unchanged, keyed by the species it says they are: data, read by the tests,
# the tools and deploy/rollout.py alike.
SEED_EXAMPLES_FILE = Path(__file__).resolve().parent.parent / "golden" / "seed_examples.json"
SEED_EXAMPLES: dict[str, dict] = json.loads(SEED_EXAMPLES_FILE.read_text())
ADELIE = SEED_EXAMPLES["Adelie"]


def adelie_post_environ() -> tuple[bytes, dict]:
    """The seed's Adelie as a JSON body, and a WSGI environ POSTing it to /predict (give each use its own input)."""
    from werkzeug.test import EnvironBuilder  # the in-process benchmarks have it; the rest need not

    body = json.dumps(ADELIE).encode()
    headers = {"Content-Type": "application/json"}
    return body, EnvironBuilder(path="/predict", method="POST", data=body, headers=headers).get_environ()


def random_penguins(count: int, seed: int = 0) -> list[dict]:
    """Penguins across the training ranges, the same ones for the same seed."""
    rng = random.Random(seed)
    return [
        {
            "bill_length_mm": round(rng.uniform(32, 59), 1),
            "bill_depth_mm": round(rng.uniform(13, 21), 1),
            "flipper_length_mm": rng.randint(172, 231),
            "body_mass_g": rng.randint(2700, 6300),
            "island": rng.choice(["Biscoe", "Dream", "Torgersen"]),
            "sex": rng.choice(["male", "female", None]),
        }
        for _ in range(count)
    ]


def field_penguins(count: int, seed: int = 0) -> list[dict]:
    """Real birds: the palmerpenguins rows with all four measurements, drawn with replacement (same seed, same rows).

    What a researcher's spreadsheet holds, unlike random_penguins, whose combinations are mostly unlike
    any species (most of them get a warning).
    """
    from palmerpenguins import load_penguins  # the development set has it; the function's own does not

    frame = load_penguins().dropna(subset=["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"])
    birds = [
        {
            "bill_length_mm": float(row.bill_length_mm),
            "bill_depth_mm": float(row.bill_depth_mm),
            "flipper_length_mm": float(row.flipper_length_mm),
            "body_mass_g": float(row.body_mass_g),
            "island": row.island,
            "sex": row.sex if isinstance(row.sex, str) else None,
        }
        for row in frame.itertuples(index=False)
    ]
    rng = random.Random(seed)
    return [dict(rng.choice(birds)) for _ in range(count)]
