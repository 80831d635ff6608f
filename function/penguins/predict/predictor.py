"""Turn a verified artifact into something that maps penguins and encoded rows to class probabilities."""

from __future__ import annotations

from ..errors import ArtifactError
from ..features import CATEGORY_COLUMNS, FEATURE_NAMES
from ..model.artifact import Artifact
from .tree_tables import Ensemble, TablePredictor, fix_features, parse_xgboost_json

# Tables specialized per sex and island hold at most this many cells in all (the bundled model: ~13,000):
# a model whose tables are larger is served by its general tables only, so memory stays bounded.
MAX_SPECIALIZED_CELLS = 500_000


class Predictor:
    """XGBoost's trees as lookup tables, and per (sex, island) tables with those columns folded in.

    A request names one sex and one island, so the specialized tables decide their splits once, ahead:
    a prediction reads the four measurements only, through fewer and merged tables. They are built the
    first time a combination is asked for (~3 ms), not at load, which stays on every cold start's path.
    """

    def __init__(self, tables: TablePredictor, ensemble: Ensemble) -> None:
        self.tables = tables
        self._ensemble = ensemble
        self._specialize = tables.total_cells * len(CATEGORY_COLUMNS) <= MAX_SPECIALIZED_CELLS
        self._by_category: dict[tuple[str | None, str], TablePredictor] = {}

    def predict_proba(self, rows: list[list[float]]) -> list[list[float]]:
        """Probabilities for encoded rows (FEATURE_NAMES order)."""
        return self.tables.predict_proba(rows)

    def predict_proba_array(self, rows):  # numpy arrays in and out, for batches
        """Probabilities for many encoded rows at once, as an array of shape (rows, classes)."""
        return self.tables.predict_proba_array(rows)

    def predict_penguin(self, measurements: list[float], sex: str | None, island: str) -> list[float]:
        """Probabilities for one penguin: its four measurements (MEASUREMENTS order), sex and island."""
        tables = self._by_category.get((sex, island))
        if tables is None:
            if not self._specialize:
                return self.tables.predict_one([*measurements, *CATEGORY_COLUMNS[sex, island].values()])
            tables = self._specialized(sex, island)
        return tables.predict_one(measurements)

    def _specialized(self, sex: str | None, island: str) -> TablePredictor:
        # Two threads may build the same tables at once: both are identical and either may win.
        tables = TablePredictor(fix_features(self._ensemble, CATEGORY_COLUMNS[sex, island]))
        self._by_category[sex, island] = tables
        return tables


def load_predictor(artifact: Artifact) -> Predictor:
    """The predictor for an artifact: XGBoost's trees, read as data into lookup tables (no xgboost import)."""
    ensemble = parse_xgboost_json(artifact.model_bytes)
    if ensemble.num_feature != len(FEATURE_NAMES):
        raise ArtifactError(f"the model reads {ensemble.num_feature} features; the encoding has {len(FEATURE_NAMES)}")
    return Predictor(TablePredictor(ensemble), ensemble)
