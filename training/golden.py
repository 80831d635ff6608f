"""The golden set: real penguins with the species people recorded, that a release must still answer.

python -m training.golden writes golden/penguins.json: up to five birds from every (species, island, sex)
group of the Palmer data, drawn with a fixed seed, so every group the model serves is represented.
The canary (deploy.sh) and the promotion gate (training publish / promote) read the same file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
from palmerpenguins import load_penguins

from penguins.domain import MEASUREMENTS

GOLDEN_FILE = Path(__file__).resolve().parent.parent / "golden" / "penguins.json"
PER_GROUP = 5
SEED = 0


def golden_rows() -> list[dict]:
    """The golden penguins as {"row", "species", "penguin"} dicts, "penguin" being a valid request body."""
    frame = load_penguins().dropna(subset=list(MEASUREMENTS))
    frame = frame.assign(sex_group=frame["sex"].fillna("unknown"))
    picked = (
        frame.groupby(["species", "island", "sex_group"], sort=True, group_keys=False)
        .apply(lambda group: group.sample(min(PER_GROUP, len(group)), random_state=SEED), include_groups=False)
        .sort_index()
    )
    rows = []
    for index, r in picked.iterrows():
        penguin: dict[str, object] = {name: float(r[name]) for name in MEASUREMENTS}
        penguin["island"] = frame.at[index, "island"]
        sex = frame.at[index, "sex"]
        penguin["sex"] = None if pd.isna(sex) else sex
        rows.append({"row": int(index), "species": frame.at[index, "species"], "penguin": penguin})
    return rows


def main() -> int:
    """Write golden/penguins.json."""
    rows = golden_rows()
    document = {
        "source": "palmerpenguins penguins.csv (row = 0-based row of that file)",
        "per_group": PER_GROUP,
        "seed": SEED,
        "penguins": rows,
    }
    GOLDEN_FILE.parent.mkdir(exist_ok=True)
    GOLDEN_FILE.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {len(rows)} penguins to {GOLDEN_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
