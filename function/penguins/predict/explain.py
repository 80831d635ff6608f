"""Exact TreeSHAP contributions of the raw margin, read from the same trees and tabulated like the margins.

For each species the contributions of the features plus a bias add up to that species' margin, and the
softmax of the margins is the reported probabilities: XGBoost's `pred_contribs`, computed here with the
path-dependent TreeSHAP algorithm (Lundberg et al., 2018). A tree's contributions depend only on which
way the row goes at each of its splits, so, as for the margins, each group's summed contributions are a
table indexed by the row's intervals: explaining a row is one lookup per group.
"""

from __future__ import annotations

import itertools
import math

from .tree_tables import TablePredictor, Tree


def expected_value(tree: Tree) -> float:
    """The tree's mean output over the training data (cover-weighted leaves): its share of the bias."""
    total, stack = 0.0, [0]
    while stack:
        node = stack.pop()
        if tree.left[node] == -1:
            total += tree.threshold[node] * tree.cover[node]
        else:
            stack += [tree.left[node], tree.right[node]]
    return total / tree.cover[0]


def tree_shap(tree: Tree, x: dict[int, float]) -> dict[int, float]:
    """Path-dependent TreeSHAP of one tree for one row; x maps feature index -> value (NaN: missing)."""
    phi: dict[int, float] = {}

    def extend(path: list[list], zero: float, one: float, feature: int) -> list[list]:
        path = [p[:] for p in path] + [[feature, zero, one, 1.0 if not path else 0.0]]
        depth = len(path) - 1
        for i in range(depth - 1, -1, -1):
            path[i + 1][3] += one * path[i][3] * (i + 1) / (depth + 1)
            path[i][3] = zero * path[i][3] * (depth - i) / (depth + 1)
        return path

    def unwind(path: list[list], i: int) -> list[list]:
        path = [p[:] for p in path]
        depth = len(path) - 1
        one, zero, n = path[i][2], path[i][1], path[depth][3]
        for j in range(depth - 1, -1, -1):
            if one != 0:
                t = path[j][3]
                path[j][3] = n * (depth + 1) / ((j + 1) * one)
                n = t - path[j][3] * zero * (depth - j) / (depth + 1)
            else:
                path[j][3] = path[j][3] * (depth + 1) / (zero * (depth - j))
        for j in range(i, depth):
            path[j][:3] = path[j + 1][:3]
        path.pop()
        return path

    def unwound_sum(path: list[list], i: int) -> float:
        depth = len(path) - 1
        one, zero, n, total = path[i][2], path[i][1], path[depth][3], 0.0
        for j in range(depth - 1, -1, -1):
            if one != 0:
                t = n * (depth + 1) / ((j + 1) * one)
                total += t
                n = path[j][3] - t * zero * (depth - j) / (depth + 1)
            else:
                total += path[j][3] / (zero * (depth - j) / (depth + 1))
        return total

    def recurse(node: int, path: list[list], zero: float, one: float, feature: int) -> None:
        path = extend(path, zero, one, feature)
        if tree.left[node] == -1:
            for i in range(1, len(path)):
                weight = unwound_sum(path, i)
                f = path[i][0]
                phi[f] = phi.get(f, 0.0) + weight * (path[i][2] - path[i][1]) * tree.threshold[node]
            return
        split = tree.feature[node]
        hot, cold = (tree.left[node], tree.right[node])
        if not tree.goes_left(node, x[split]):
            hot, cold = cold, hot
        incoming_zero, incoming_one = 1.0, 1.0
        seen = next((i for i in range(1, len(path)) if path[i][0] == split), None)
        if seen is not None:  # the feature split before on this path: undo its earlier share
            incoming_zero, incoming_one = path[seen][1], path[seen][2]
            path = unwind(path, seen)
        cover = tree.cover[node]
        recurse(hot, path, incoming_zero * tree.cover[hot] / cover, incoming_one, split)
        recurse(cold, path, incoming_zero * tree.cover[cold] / cover, 0.0, split)

    recurse(0, [], 1.0, 1.0, -1)
    return phi


class Explainer:
    """Per-row contributions for every class, from tables built once from the predictor's groups."""

    def __init__(self, predictor: TablePredictor):
        self._predictor = predictor
        self._k = len(predictor.base_margin)
        bias = list(predictor.base_margin)
        self._tables = []
        for (maps, _), (features, trees) in zip(predictor.groups, predictor.group_trees):
            for tree in trees:
                bias[tree.class_index] += expected_value(tree)
            self._tables.append((maps, features, self._build_table(features, trees, maps)))
        self.bias = tuple(bias)

    def _build_table(self, features: list[int], trees: list[Tree], maps: tuple) -> list[float]:
        k, width = self._k, len(features)
        sizes = [len(mapping) for _, mapping in maps]  # every global bin of each feature, missing last
        table: dict[int, list[float]] = {}
        cuts = [self._predictor.cuts[f] for f in features]
        memo: list[dict] = [{} for _ in trees]
        for global_bins in itertools.product(*(range(size) for size in sizes)):
            index = sum(mapping[b] for (_, mapping), b in zip(maps, global_bins))
            if index in table:
                continue  # another global cell falls in the same group cell
            x = {f: _representative(c, b) for f, c, b in zip(features, cuts, global_bins)}
            cell = [0.0] * (k * width)
            for tree, seen in zip(trees, memo):
                # The contributions depend only on the way taken at each split: memoize on that.
                key = tuple(tree.goes_left(n, x[tree.feature[n]]) for n in range(len(tree.left)) if tree.left[n] != -1)
                phi = seen.get(key)
                if phi is None:
                    phi = seen[key] = tree_shap(tree, x)
                for f, value in phi.items():
                    cell[tree.class_index * width + features.index(f)] += value
            table[index] = cell
        flat = [0.0] * ((max(table) // k + 1) * k * width)
        for index, cell in table.items():
            flat[index * width : index * width + k * width] = cell
        return flat

    def contributions(self, row: list[float]) -> list[list[float]]:
        """For each class: the contribution of every feature (FEATURE_NAMES order) to its margin."""
        k = self._k
        out = [[0.0] * len(row) for _ in range(k)]
        bins = self._predictor.bins(row)
        for maps, features, table in self._tables:
            width = len(features)
            start = sum(mapping[bins[f]] for f, mapping in maps) * width
            for c in range(k):
                values = table[start + c * width : start + (c + 1) * width]
                for f, value in zip(features, values):
                    out[c][f] += value
        return out


def _representative(cuts: list[float], global_bin: int) -> float:
    """A value that falls in the given interval of a feature's thresholds (the last interval: missing)."""
    if global_bin == len(cuts) + 1:
        return math.nan
    return cuts[global_bin - 1] if global_bin else (cuts[0] - 1.0 if cuts else 0.0)
