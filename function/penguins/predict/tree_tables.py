"""A fast, exact, pure-Python evaluator for XGBoost's multi-class trees: additive lookup tables.

The model is read as data (numbers from XGBoost's JSON model file), never as code. Each tree reads at
most a few features, so trees are grouped by the set of features they read; a group's summed
contribution is a small table indexed by which interval each of its features falls in. Predicting one
row is then a binary search per feature and one table lookup per group, instead of a walk through
every tree. Comparisons follow XGBoost exactly: inputs and thresholds as float32, `x < threshold` goes
left, a missing value (NaN) goes the node's default way.
"""

from __future__ import annotations

import itertools
import json
import math
import struct
import threading
from array import array
from bisect import bisect_right
from typing import NamedTuple

from ..errors import ArtifactError

# A group's table may hold at most this many cells; beyond it, trees get a group of their own. A model
# needing more than MAX_TOTAL_CELLS in all (a very deep ensemble, or a hostile file) is refused: memory
# and load time stay bounded whatever the bucket holds.
MAX_TABLE_CELLS = 200_000
MAX_TOTAL_CELLS = 2_000_000
# From this many rows on, numpy evaluates the same tables for all rows at once (imported on first use).
VECTORIZE_FROM_ROWS = 64


class Tree(NamedTuple):
    """One regression tree of the ensemble, as XGBoost stores it."""

    left: list[int]
    right: list[int]
    feature: list[int]
    threshold: list[float]  # float32 values; a leaf's value for leaves
    default_left: list[bool]
    class_index: int
    cover: list[float]  # the training data's weight (sum of hessians) under each node, for explanations

    def goes_left(self, node: int, value: float) -> bool:
        """XGBoost's rule: below the threshold goes left; a missing value goes the default way."""
        return value < self.threshold[node] if value == value else self.default_left[node]

    def features(self) -> frozenset[int]:
        """The features this tree splits on."""
        return frozenset(self.feature[node] for node in range(len(self.left)) if self.left[node] != -1)

    def leaves(self):
        """Each leaf with its path: (value, [(feature, threshold, went_left, default_left), ...])."""
        stack = [(0, [])]
        while stack:
            node, path = stack.pop()
            if self.left[node] == -1:
                yield self.threshold[node], path
                continue
            f, t, d = self.feature[node], self.threshold[node], self.default_left[node]
            stack.append((self.left[node], [*path, (f, t, True, d)]))
            stack.append((self.right[node], [*path, (f, t, False, d)]))


class Ensemble(NamedTuple):
    """The trees and what surrounds them: class count, feature count, base margins."""

    trees: list[Tree]
    num_class: int
    num_feature: int
    base_margin: list[float]


def parse_xgboost_json(model_bytes: bytes) -> Ensemble:
    """Read a multi:softprob gbtree model from XGBoost's JSON format; anything else is refused."""
    try:
        learner = json.loads(model_bytes)["learner"]
        objective = learner["objective"]["name"]
        booster = learner["gradient_booster"]
        params = learner["learner_model_param"]
        num_class = int(params["num_class"])
        num_feature = int(params["num_feature"])
        base = (
            json.loads(params["base_score"]) if params["base_score"].startswith("[") else [float(params["base_score"])]
        )
        if objective != "multi:softprob" or booster["name"] != "gbtree" or num_class < 2:
            raise ArtifactError(f"the model is {objective}/{booster['name']}; this code serves multi:softprob gbtree")
        if len(base) == 1:
            base = base * num_class
        model = booster["model"]
        trees = []
        for tree, class_index in zip(model["trees"], model["tree_info"], strict=True):
            if any(tree["split_type"]) or int(tree["tree_param"]["size_leaf_vector"]) > 1:
                raise ArtifactError("the model uses categorical or vector-leaf splits, which this code does not serve")
            trees.append(
                Tree(
                    left=[int(i) for i in tree["left_children"]],
                    right=[int(i) for i in tree["right_children"]],
                    feature=[int(i) for i in tree["split_indices"]],
                    threshold=array("f", [float(v) for v in tree["split_conditions"]]).tolist(),
                    default_left=[bool(d) for d in tree["default_left"]],
                    class_index=int(class_index),
                    cover=[float(h) for h in tree["sum_hessian"]],
                )
            )
    except ArtifactError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ArtifactError(f"the model file is not an XGBoost JSON model this code can read ({exc!r:.100})") from None
    for tree in trees:
        if not (0 <= tree.class_index < num_class) or any(
            tree.left[n] != -1 and not 0 <= tree.feature[n] < num_feature for n in range(len(tree.left))
        ):
            raise ArtifactError("the model file names a class or feature out of range")
    return Ensemble(trees, num_class, num_feature, [float(b) for b in base])


def fix_features(ensemble: Ensemble, values: dict[int, float]) -> Ensemble:
    """The ensemble with some features' values known: their splits are decided, the other features renumbered.

    Feature f keeps its order among those left, so a row for the result is the full row without the fixed
    features. Fixing a categorical column's value this way is exact: each split goes the way the value sends it.
    """
    kept = [f for f in range(ensemble.num_feature) if f not in values]
    renumber = {f: i for i, f in enumerate(kept)}
    trees = [_prune(tree, values, renumber) for tree in ensemble.trees]
    return Ensemble(trees, ensemble.num_class, len(kept), list(ensemble.base_margin))


def _prune(tree: Tree, values: dict[int, float], renumber: dict[int, int]) -> Tree:
    left: list[int] = []
    right: list[int] = []
    feature: list[int] = []
    threshold: list[float] = []
    default_left: list[bool] = []
    cover: list[float] = []
    stack = [(0, -1, False)]  # (node in the old tree, its parent in the new one, is it the left child)
    while stack:
        node, parent, is_left = stack.pop()
        while tree.left[node] != -1 and tree.feature[node] in values:
            node = tree.left[node] if tree.goes_left(node, values[tree.feature[node]]) else tree.right[node]
        index = len(left)
        if parent >= 0:
            (left if is_left else right)[parent] = index
        is_split = tree.left[node] != -1
        left.append(-1)
        right.append(-1)
        feature.append(renumber[tree.feature[node]] if is_split else 0)
        threshold.append(tree.threshold[node])
        default_left.append(tree.default_left[node])
        cover.append(tree.cover[node])
        if is_split:
            stack.append((tree.right[node], index, False))
            stack.append((tree.left[node], index, True))
    return Tree(left, right, feature, threshold, default_left, tree.class_index, cover)


class TablePredictor:
    """Predicts class probabilities from the ensemble's lookup tables; thread-safe (read-only after build)."""

    def __init__(self, ensemble: Ensemble):
        self._num_class = ensemble.num_class
        self._num_feature = ensemble.num_feature
        base = list(ensemble.base_margin)
        groups: dict[frozenset[int], list[Tree]] = {}
        for tree in ensemble.trees:
            features = tree.features()
            if not features:
                base[tree.class_index] += tree.threshold[0]  # a single leaf: a constant
                continue
            groups.setdefault(features, []).append(tree)
        self._base = tuple(base)
        chunks = _bounded_chunks(_merge_subsets(groups))
        # Per feature, every threshold any tree uses: one binary search per feature per row.
        self._cuts = [
            sorted(
                {
                    t.threshold[n]
                    for _, ts in chunks
                    for t in ts
                    for n in range(len(t.left))
                    if t.left[n] != -1 and t.feature[n] == f
                }
            )
            for f in range(self._num_feature)
        ]
        # The same thresholds on the float64 line: x >= bound exactly when float32(x) >= threshold, so a row
        # is binned as XGBoost reads it (rounded to float32) without converting it.
        self._bounds = [[_float32_bound(t) for t in cuts] for cuts in self._cuts]
        self._groups = [self._build_group(sorted(features), trees) for features, trees in chunks]
        self.total_cells = sum(len(table) for _, table in self._groups)
        self.group_trees = [(sorted(features), trees) for features, trees in chunks]  # for explanations
        # The common shape (3 classes, groups of at most 3 features) gets an unrolled loop: a missing
        # feature slot reads a constant bin (the extra last element of `bins`) through a one-entry map.
        self._unrolled = None
        if self._num_class == 3 and all(len(maps) <= 3 for maps, _ in self._groups):
            pad = (self._num_feature, [0])
            self._unrolled = [
                (*(item for f, mapping in (*maps, *[pad] * (3 - len(maps))) for item in (f, mapping)), table)
                for maps, table in self._groups
            ]
        self._vectorized: tuple | None = None
        self._vectorized_lock = threading.Lock()

    def _build_group(self, features: list[int], trees: list[Tree]) -> tuple:
        k = self._num_class
        cuts = {
            f: sorted(
                {t.threshold[n] for t in trees for n in range(len(t.left)) if t.left[n] != -1 and t.feature[n] == f}
            )
            for f in features
        }
        # Bins of feature f in this group: 0..len(cuts) by value, then one more for "missing".
        sizes = [len(cuts[f]) + 2 for f in features]
        strides, stride = [], k
        for size in reversed(sizes):
            strides.append(stride)
            stride *= size
        strides.reverse()
        table = [0.0] * stride
        for tree in trees:
            for value, path in tree.leaves():
                allowed = []
                for f, size, s in zip(features, sizes, strides):
                    low, high, missing = 0, size - 2, True  # value bins low..high, and the missing bin
                    for feature, threshold, went_left, default_left in path:
                        if feature == f:
                            edge = bisect_right(cuts[f], threshold) - 1  # bins <= edge hold values < threshold
                            low, high = (low, min(high, edge)) if went_left else (max(low, edge + 1), high)
                            missing = missing and went_left == default_left
                    allowed.append([b * s for b in range(low, high + 1)] + ([(size - 1) * s] if missing else []))
                for offsets in itertools.product(*allowed):
                    table[sum(offsets) + tree.class_index] += value
        # Map each feature's global bin (and its missing bin) to this group's bin, times the stride.
        maps = []
        for f, s in zip(features, strides):
            global_cuts = self._cuts[f]
            mapping = [bisect_right(cuts[f], global_cuts[g - 1]) * s if g else 0 for g in range(len(global_cuts) + 1)]
            mapping.append((len(cuts[f]) + 1) * s)
            maps.append((f, mapping))
        return tuple(maps), tuple(table)

    def bins(self, row: list[float]) -> list[int]:
        """Which interval of its thresholds each feature falls in (the last index: missing)."""
        bins = list(map(bisect_right, self._bounds, row))  # no Python frame per feature
        total = sum(row)
        if total != total:  # NaN: some value is missing (or inf - inf, which the loop also gets right)
            for f, value in enumerate(row):
                if value != value:
                    bins[f] = len(self._cuts[f]) + 1
        return bins

    @property
    def base_margin(self) -> tuple[float, ...]:
        """The margin every row starts from: XGBoost's base score plus the single-leaf trees."""
        return self._base

    @property
    def cuts(self) -> list[list[float]]:
        """Per feature, every threshold the trees use, sorted."""
        return self._cuts

    @property
    def groups(self) -> list[tuple]:
        """Each group's (maps, table): maps turn a row's bins into the group's table index."""
        return self._groups

    def margins(self, row: list[float]) -> list[float]:
        """Raw margins (before softmax) for one encoded row; NaN means missing."""
        bins = self.bins(row)
        margins = list(self._base)
        k = self._num_class
        for maps, table in self._groups:
            index = 0
            for f, mapping in maps:
                index += mapping[bins[f]]
            for c in range(k):
                margins[c] += table[index + c]
        return margins

    def predict_one(self, row: list[float]) -> list[float]:
        """Class probabilities (softmax of the margins) for one row: the per-request path."""
        if self._unrolled is None:
            margins = self.margins(row)
            top = max(margins)
            exps = [math.exp(m - top) for m in margins]
            total = sum(exps)
            return [e / total for e in exps]
        # The common shape, margins and softmax in one frame: 4.2 us a penguin against 9.3 us through
        # margins() (measured in-process on the bundled model's tables), about 8% of a request on the fast
        # lane. margins() stays the general path (any class count, wider groups) and the tests hold the two
        # to XGBoost's answers alike.
        bins = self.bins(row)
        bins.append(0)
        m0, m1, m2 = self._base
        for f1, a, f2, b, f3, c, table in self._unrolled:
            i = a[bins[f1]] + b[bins[f2]] + c[bins[f3]]
            m0 += table[i]
            m1 += table[i + 1]
            m2 += table[i + 2]
        top = max(m0, m1, m2)
        e0, e1, e2 = math.exp(m0 - top), math.exp(m1 - top), math.exp(m2 - top)
        total = e0 + e1 + e2
        return [e0 / total, e1 / total, e2 / total]

    def predict_proba(self, rows: list[list[float]]) -> list[list[float]]:
        """Class probabilities for each row."""
        if len(rows) >= VECTORIZE_FROM_ROWS:
            return self._predict_proba_numpy(rows)
        return [self.predict_one(row) for row in rows]

    def _numpy_tables(self) -> tuple:
        """The same cuts, maps and tables as numpy arrays, built once on the first large batch."""
        with self._vectorized_lock:
            if self._vectorized is None:
                import numpy as np  # only large batches pay for numpy

                cuts = [np.asarray(c, dtype=np.float64) for c in self._cuts]
                groups = [
                    (
                        tuple((f, np.asarray(m, dtype=np.intp)) for f, m in maps),
                        np.asarray(table, dtype=np.float64).reshape(-1, self._num_class),
                    )
                    for maps, table in self._groups
                ]
                self._vectorized = (np, cuts, groups)
            return self._vectorized

    def _predict_proba_numpy(self, rows: list[list[float]]) -> list[list[float]]:
        return self.predict_proba_array(rows).tolist()

    def predict_proba_array(self, rows):  # rows and the answer: numpy arrays (numpy is not imported up front)
        """Class probabilities for many rows at once, as an array of shape (rows, classes)."""
        np, cuts, groups = self._numpy_tables()
        x = np.asarray(rows, dtype=np.float32)
        bins = np.empty(x.shape, dtype=np.intp)
        for f, feature_cuts in enumerate(cuts):
            column = x[:, f]
            bins[:, f] = np.where(
                np.isnan(column), len(feature_cuts) + 1, np.searchsorted(feature_cuts, column, side="right")
            )
        margins = np.tile(np.asarray(self._base, dtype=np.float64), (len(rows), 1))
        for maps, table in groups:
            index = maps[0][1][bins[:, maps[0][0]]]
            for f, mapping in maps[1:]:
                index = index + mapping[bins[:, f]]
            margins += table[index // self._num_class]
        margins -= margins.max(axis=1, keepdims=True)
        exps = np.exp(margins)
        return exps / exps.sum(axis=1, keepdims=True)


def _float32_bound(threshold: float) -> float:
    """The least float64 x whose float32 rounding is >= threshold (a float32 value).

    Halfway between the threshold and the float32 below it, a tie rounds to the even significand: the
    bound is that midpoint when the threshold is even, and the next float64 up when it is odd.
    """
    bits = struct.unpack("<I", struct.pack("<f", threshold))[0]
    if threshold == 0:
        below = -struct.unpack("<f", struct.pack("<I", 1))[0]  # the negative float32 closest to zero
        bits = 0
    else:  # one step towards minus infinity, in the sign-magnitude encoding
        below = struct.unpack("<f", struct.pack("<I", bits - 1 if threshold > 0 else bits + 1))[0]
    middle = (below + threshold) / 2  # exact in float64: both are float32
    return middle if bits & 1 == 0 else math.nextafter(middle, math.inf)


def _merge_subsets(groups: dict[frozenset[int], list[Tree]]) -> dict[frozenset[int], list[Tree]]:
    """Fold each group into a group that reads a superset of its features: fewer lookups per row."""
    merged = {features: list(trees) for features, trees in groups.items()}
    for features in sorted(groups, key=len):
        supersets = [other for other in merged if other != features and features < other]
        if supersets and features in merged:
            target = min(supersets, key=len)
            if _cells(merged[target] + merged[features], target) <= MAX_TABLE_CELLS:
                merged[target].extend(merged.pop(features))
    return merged


def _bounded_chunks(groups: dict[frozenset[int], list[Tree]]) -> list[tuple[frozenset[int], list[Tree]]]:
    """Split each group so no table exceeds MAX_TABLE_CELLS; refuse a model that needs too many cells."""
    chunks, total = [], 0
    for features, trees in groups.items():
        chunk: list[Tree] = []
        cuts: dict[int, set[float]] = {f: set() for f in features}
        for tree in trees:
            own = _split_values(tree)
            grown = {f: cuts[f] | own.get(f, set()) for f in features}
            if chunk and _table_cells(grown) > MAX_TABLE_CELLS:
                chunks.append((features, chunk))
                total += _table_cells(cuts)
                chunk, grown = [], {f: own.get(f, set()) for f in features}
            chunk.append(tree)
            cuts = grown
        if _table_cells(cuts) > MAX_TABLE_CELLS:
            raise ArtifactError(
                "a tree of the model splits too finely for this evaluator (too deep or too many splits)"
            )
        chunks.append((features, chunk))
        total += _table_cells(cuts)
    if total > MAX_TOTAL_CELLS:
        raise ArtifactError(f"the model needs {total} table cells; this evaluator serves at most {MAX_TOTAL_CELLS}")
    return chunks


def _split_values(tree: Tree) -> dict[int, set[float]]:
    """Per feature, the thresholds this tree splits it at."""
    values: dict[int, set[float]] = {}
    for node in range(len(tree.left)):
        if tree.left[node] != -1:
            values.setdefault(tree.feature[node], set()).add(tree.threshold[node])
    return values


def _table_cells(cuts: dict[int, set[float]]) -> int:
    """Cells of a table over these features: each feature's intervals, plus one for missing."""
    count = 1
    for values in cuts.values():
        count *= len(values) + 2
    return count


def _cells(trees: list[Tree], features: frozenset[int]) -> int:
    cuts: dict[int, set[float]] = {f: set() for f in features}
    for tree in trees:
        for f, values in _split_values(tree).items():
            if f in cuts:
                cuts[f] |= values
    return _table_cells(cuts)
