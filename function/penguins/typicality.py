"""Is this penguin like any species the model was trained on? A distance to each species' distribution."""

from __future__ import annotations

from .errors import ArtifactError
from .schema import MEASUREMENTS, Penguin


class Typicality:
    """Squared Mahalanobis distances to per-species Gaussians (from the manifest), against a held-out threshold."""

    def __init__(self, section: dict, classes: tuple[str, ...]):
        if section.get("fields") != list(MEASUREMENTS):
            raise ArtifactError("the manifest's typicality is over other fields than the four measurements")
        self.threshold = float(section["threshold"])
        self._species = {
            name: (
                tuple(map(float, section["species"][name]["mean"])),
                tuple(tuple(map(float, row)) for row in section["species"][name]["whitening"]),
            )
            for name in classes
        }
        self._order = classes

    def squared_distance(self, species: str, values: tuple[float, ...]) -> float:
        """|W (x - mean)|^2 for one species."""
        mean, whitening = self._species[species]
        centred = [v - m for v, m in zip(values, mean)]
        return sum(sum(w * c for w, c in zip(row, centred)) ** 2 for row in whitening)

    def warning(self, penguin: Penguin, predicted: str) -> str | None:
        """A plain sentence when no species' training data has a bird like this one; None when one does."""
        values = (penguin.bill_length_mm, penguin.bill_depth_mm, penguin.flipper_length_mm, penguin.body_mass_g)
        if self.squared_distance(predicted, values) <= self.threshold:
            return None  # the usual case, decided by one distance
        distances = {name: self.squared_distance(name, values) for name in self._order}
        nearest = min(distances, key=distances.get)
        if distances[nearest] <= self.threshold:
            return None
        return (
            "This combination of measurements is unlike any species in the training data (the nearest is "
            f"{nearest}); the model can only answer with one of its three species, so this answer may be wrong"
        )
