"""Is this penguin like any species the model was trained on? A distance to each species' distribution."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain import MEASUREMENTS
from ..errors import ArtifactError


class Typicality:
    """Squared Mahalanobis distances to per-species Gaussians (from the manifest), against a held-out threshold."""

    def __init__(self, section: dict, classes: tuple[str, ...]):
        if section.get("fields") != list(MEASUREMENTS) or len(MEASUREMENTS) != 4:
            raise ArtifactError("the manifest's typicality is over other fields than the four measurements")
        self.threshold = float(section["threshold"])
        self._order = classes
        self._species = {}
        for name in classes:
            mean = [float(v) for v in section["species"][name]["mean"]]
            w = [[float(v) for v in row] for row in section["species"][name]["whitening"]]
            if any(w[i][j] != 0.0 for i in range(4) for j in range(i)):
                raise ArtifactError("the manifest's whitening matrices must be upper triangular")
            # Flattened in the order squared_distance reads them: mean, then W's upper triangle by rows.
            self._species[name] = (*mean, *(w[i][j] for i in range(4) for j in range(i, 4)))

    def squared_distance(self, species: str, x: Sequence[float]) -> float:
        """|W (x - mean)|^2 for one species, W upper triangular (unrolled: it runs on every request)."""
        m0, m1, m2, m3, w00, w01, w02, w03, w11, w12, w13, w22, w23, w33 = self._species[species]
        d0, d1, d2, d3 = x[0] - m0, x[1] - m1, x[2] - m2, x[3] - m3
        z0 = w00 * d0 + w01 * d1 + w02 * d2 + w03 * d3
        z1 = w11 * d1 + w12 * d2 + w13 * d3
        z2 = w22 * d2 + w23 * d3
        z3 = w33 * d3
        return z0 * z0 + z1 * z1 + z2 * z2 + z3 * z3

    def warnings_for_rows(self, columns, predicted) -> dict[int, str]:  # columns, predicted: numpy arrays
        """Many rows at once: the warning `warning` gives each row that gets one, by row index.

        columns are the four measurements' columns, predicted each row's class index. The distances come
        from squared_distance itself, on numpy columns: the same float operations in the same order, so each
        row is decided exactly as one request is (the nearest of equal distances is the first class, as
        min() over (distance, name) picks for classes in alphabetical order, as SPECIES are).
        """
        import numpy as np  # only batches come here

        distances = np.empty((len(columns[0]), len(self._order)))
        for index, name in enumerate(self._order):
            distances[:, index] = self.squared_distance(name, columns)  # the scalar code, on whole columns
        nearest = distances.argmin(axis=1)
        # Unusual when even the nearest species is beyond the threshold (the predicted one is then too).
        unusual = np.flatnonzero(distances[np.arange(len(distances)), nearest] > self.threshold).tolist()
        order, nearest_of, predicted_of = self._order, nearest.tolist(), predicted.tolist()
        return {i: self._sentence(order[nearest_of[i]], order[predicted_of[i]]) for i in unusual}

    def warning(self, x: Sequence[float], predicted: str) -> str | None:
        """A plain sentence when no species' training data has a bird like this one (x: the four measurements)."""
        if self.squared_distance(predicted, x) <= self.threshold:
            return None  # the usual case, decided by one distance
        distance, nearest = min((self.squared_distance(name, x), name) for name in self._order)
        if distance <= self.threshold:
            return None
        return self._sentence(nearest, predicted)

    @staticmethod
    def _sentence(nearest: str, predicted: str) -> str:
        if nearest == predicted:
            return (
                f"This combination of measurements is unlike any species in the training data (it is closest to "
                f"{predicted}); the model can only answer with one of its three species, so this answer may be wrong"
            )
        # The two checks look at the bird differently: the distance weighs all four measurements together,
        # the model the few that best tell the species apart. Say so, or the answer reads as a contradiction.
        return (
            f"This combination of measurements is unlike any species in the training data. Taken together, the "
            f"four measurements are closest to {nearest}, yet the model answers {predicted} because it decides on "
            "the few measurements that best tell the species apart; the two disagree, so this answer may be wrong"
        )
