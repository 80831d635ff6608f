"""drift.html: one self-contained page (pictures inlined) showing reference against current on the same bins."""

from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

REFERENCE_COLOUR, CURRENT_COLOUR = "#9aa5b1", "#d9480f"
STATUS_COLOUR = {"ok": "#2b8a3e", "warn": "#e67700", "drift": "#c92a2a", "insufficient data": "#495057"}


def _bin_labels(edges: list[float]) -> list[str]:
    return [f"< {edges[0]:g}", *(f"{a:g}-{b:g}" for a, b in zip(edges, edges[1:])), f">= {edges[-1]:g}"]


def _bars(title: str, labels: list[str], reference: list[float], current: list[float]) -> str:
    """A grouped bar chart of shares as a data: URI."""
    figure, axes = plt.subplots(figsize=(5.2, 2.6), dpi=100)
    positions = range(len(labels))
    width = 0.4
    axes.bar([p - width / 2 for p in positions], reference, width, label="training", color=REFERENCE_COLOUR)
    axes.bar([p + width / 2 for p in positions], current, width, label="current", color=CURRENT_COLOUR)
    axes.set_xticks(list(positions), labels, rotation=35 if len(labels) > 4 else 0, ha="right", fontsize=7)
    axes.set_ylabel("share", fontsize=8)
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.subplots_adjust(left=0.11, right=0.98, top=0.88, bottom=0.3)  # fixed: tight_layout costs half the time
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _card(name: str, verdict: dict, picture: str, notes: list[str]) -> str:
    psi = ""
    if "psi" in verdict:
        psi = "<div class=psi>PSI " + ("-" if verdict["psi"] is None else f"{verdict['psi']:.3f}") + "</div>"
    status = verdict.get("status", "")
    colour = STATUS_COLOUR.get(status, "#495057")
    badge = f'<span class="badge" style="background:{colour}">{html.escape(status)}</span>' if status else ""
    note = "".join(f"<div class=note>{html.escape(n)}</div>" for n in notes)
    return (
        f"<section class=card><h2>{html.escape(name)} {badge}</h2>{psi}{note}"
        f'<img alt="{html.escape(name)}: training against current" src="{picture}"></section>'
    )


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def write_html(report: dict, path: str) -> None:
    """Write the page for a report as drift.py's compare returns it."""
    cards = []
    for name, feature in report["features"].items():
        if "bin_edges" in feature:
            picture = _bars(name, _bin_labels(feature["bin_edges"]), feature["reference"], feature["current"])
            low, high = feature["training_range"]
            notes = [
                f"{feature['count']} inputs; outside training ({low:g}-{high:g}): {_rate(feature['out_of_range_rate'])}"
            ]
        else:
            labels = list(feature["current"])
            reference = [feature["reference"].get(label, 0.0) for label in labels]
            picture = _bars(name, labels, reference, list(feature["current"].values()))
            notes = [f"{feature['count']} inputs; unknown categories: {_rate(feature['unknown_category_rate'])}"]
        cards.append(_card(name, feature, picture, notes))
    mix = report["prediction_mix"]
    labels = list(mix["current"])
    cards.append(
        _card(
            "predicted species",
            mix,
            _bars("predicted species", labels, [mix["reference"][n] for n in labels], list(mix["current"].values())),
            [", ".join(f"{n} {c}" for n, c in mix["counts"].items())],
        )
    )
    confidence = report["confidence"]
    cards.append(
        _card(
            "confidence (top probability)",
            {},
            _bars("confidence", _bin_labels(confidence["bin_edges"]), confidence["reference"], confidence["current"]),
            [
                f"mean {confidence['mean'] if confidence['mean'] is not None else '-'} (training "
                f"{confidence['reference_mean']}; the model on its own training rows, so somewhat higher)"
            ],
        )
    )
    lines = report["lines"]
    skipped = (
        "".join(f"<li>{n} {html.escape(reason)}</li>" for reason, n in lines["skipped"].items()) or "<li>none</li>"
    )
    versions = ", ".join(f"{html.escape(v)}: {n}" for v, n in lines["predictions_per_model_version"].items())
    formats = ", ".join(f"{html.escape(v)}: {n}" for v, n in lines["predictions_per_format"].items())
    verdict = report["status"]
    if report["drifted_features"]:
        verdict += ": " + ", ".join(report["drifted_features"])
    colour = STATUS_COLOUR["drift" if report["drifted"] else "ok" if verdict == "no drift" else "insufficient data"]
    thresholds = report["thresholds"]
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Penguin species: drift report</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #212529; max-width: 1180px; }}
h1 {{ font-size: 20px; margin: 0 0 4px; }} h2 {{ font-size: 15px; margin: 0; }}
.verdict {{ font-size: 18px; font-weight: 600; color: {colour}; margin: 8px 0; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 12px; }}
.card {{ border: 1px solid #dee2e6; border-radius: 6px; padding: 10px; }}
.card img {{ width: 100%; }} .psi {{ font-weight: 600; }} .note {{ color: #495057; font-size: 12px; }}
.badge {{ color: white; border-radius: 4px; padding: 1px 6px; font-size: 12px; }}
.meta {{ color: #495057; }} ul {{ margin: 2px 0 8px; }}
</style></head><body>
<h1>Penguin species: drift report</h1>
<div class=verdict>{html.escape(verdict)}</div>
<div class=meta>{report["predictions"]} predictions ({report["inputs"]} with inputs) against the reference of model
{html.escape(str(report.get("reference_model_version", "?")))}; PSI warns at {thresholds["psi_warn"]:g} and alerts at
{thresholds["psi_alert"]:g}; at least {report["minimum_predictions"]} predictions are needed to judge.</div>
<div class=meta>{lines["read"]} lines read, {lines["predictions"]} with predictions;
per model version: {versions or "none"}; per format: {formats or "none"}. Skipped:</div><ul class=meta>{skipped}</ul>
<div class=grid>{"".join(cards)}</div>
</body></html>
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
