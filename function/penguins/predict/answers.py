"""The answers: each penguin's species, probabilities and warnings (contributions when asked), in order."""

from __future__ import annotations

from ..features import EXPLAINED_FIELDS, FEATURE_NAMES, FIELD_OF_FEATURE, encode, measurements_of
from ..model.served import ServedModel
from .tree_tables import VECTORIZE_FROM_ROWS

PROBABILITY_SCALE = 1e6  # probabilities are answered to 6 decimal places


def _answer(model: ServedModel, measurements: list[float], probabilities: list[float]) -> dict:
    """One penguin's answer; measurements: its four, or its whole encoded row (which starts with them)."""
    classes = model.classes
    species = classes[probabilities.index(max(probabilities))]
    # To the nearest millionth: int(x + 0.5) does what round(p, 6) does at a quarter of its cost. The three
    # species (an artifact must have exactly SPECIES) are written out: a comprehension is one more frame.
    (first, second, third), (p0, p1, p2), scale = classes, probabilities, PROBABILITY_SCALE
    rounded = {
        first: int(p0 * scale + 0.5) / scale,
        second: int(p1 * scale + 0.5) / scale,
        third: int(p2 * scale + 0.5) / scale,
    }
    return {"prediction": species, "probabilities": rounded, "warnings": model.warnings(measurements, species)}


def _predict_penguin(model: ServedModel, penguin: dict) -> dict:
    """One penguin through the predictor's tables for its sex and island: the per-request path."""
    measurements = measurements_of(penguin)
    probabilities = model.predictor.predict_penguin(measurements, penguin.get("sex"), penguin["island"])
    return _answer(model, measurements, probabilities)


def predict(model: ServedModel, penguins: list[dict], explain: bool = False) -> list[dict]:
    """One prediction dict (species, probabilities, warnings; contributions if asked) per penguin, in order."""
    if len(penguins) == 1:
        answers = [_predict_penguin(model, penguins[0])]
    elif len(penguins) >= VECTORIZE_FROM_ROWS:
        from .batch import answers as batch_answers  # numpy's path: only batches import it

        answers = batch_answers(model, penguins, PROBABILITY_SCALE)
    else:
        rows = [encode(penguin) for penguin in penguins]
        probabilities = model.predictor.predict_proba(rows)
        answers = [_answer(model, row, row_probabilities) for row, row_probabilities in zip(rows, probabilities)]
    if explain:
        _explain(model, answers, penguins)
    return answers


def _explain(model: ServedModel, answers: list[dict], penguins: list[dict]) -> None:
    explainer = model.explainer
    for answer, penguin in zip(answers, penguins):
        answer["contributions"] = _by_field(model.classes, explainer.bias, explainer.contributions(encode(penguin)))


def _by_field(classes: tuple[str, ...], bias: tuple[float, ...], per_class: list[list[float]]) -> dict:
    """Contributions per species, one-hot columns summed back into the request's fields."""
    out = {}
    for name, class_bias, values in zip(classes, bias, per_class):
        fields = dict.fromkeys(EXPLAINED_FIELDS, 0.0)
        for feature, value in zip(FEATURE_NAMES, values):
            fields[FIELD_OF_FEATURE[feature]] += value
        out[name] = {"bias": class_bias, **fields}
    return out


def answer_rows(model: ServedModel, rows: list[dict | str], explain: bool = False) -> list[dict]:
    """One answer per row, in order: a prediction per penguin, {"error": sentence} per row that is a sentence.

    rows are what the one validation gives; the penguins are predicted together (numpy from 64 rows on).
    """
    if len(rows) == 1 and type(rows[0]) is dict:  # the common request, in the fewest calls
        answer = _predict_penguin(model, rows[0])
        if explain:
            _explain(model, [answer], rows)  # type: ignore[arg-type]
        return [answer]
    penguins = [row for row in rows if not isinstance(row, str)]
    if len(penguins) == len(rows):
        return predict(model, penguins, explain)
    predictions = iter(predict(model, penguins, explain) if penguins else ())
    return [{"error": row} if isinstance(row, str) else next(predictions) for row in rows]
