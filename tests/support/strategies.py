"""Hypothesis strategies for penguins: valid ones and near-valid ones (one field off), and how many to try."""

from __future__ import annotations

from hypothesis import strategies as st

from penguins.domain import ISLANDS, LIMITS, SEXES
from tools.examples import ADELIE

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=20,
)

field_values = st.one_of(
    json_values, st.floats(min_value=0, max_value=8000), st.sampled_from(["Biscoe", "Dream", "Torgersen", "male"])
)

valid_penguin = st.fixed_dictionaries(
    {
        **{
            name: st.floats(limit.low, limit.high) | st.integers(int(limit.low), int(limit.high))
            for name, limit in LIMITS.items()
        },
        "island": st.sampled_from(ISLANDS),
    },
    optional={"sex": st.sampled_from([*SEXES, None]), "year": st.none() | st.integers(1900, 2100)},
)

# A valid penguin with one field replaced by anything, or removed: the edges of the rules.
near_valid_penguin = st.tuples(valid_penguin, st.sampled_from([*ADELIE, "extra"]), st.none() | field_values).map(
    lambda t: {**{k: v for k, v in t[0].items() if k != t[1]}, **({t[1]: t[2]} if t[2] is not None else {})}
)


def examples(long_run: bool) -> int:
    return 5000 if long_run else 200
