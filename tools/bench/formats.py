"""`make bench`'s bulk formats: 10,000 rows as a JSON batch, a CSV file and a BigQuery request, side by side.

Two workloads: field penguins (real birds from the palmerpenguins data, drawn with replacement: what a
spreadsheet holds, a few rows warned) and random penguins (measurements drawn independently across the
training ranges: most combinations are unlike any species, so most rows carry a warning sentence).
Each is posted to one server (pinned to CPU 0) `repeats` + 1 times; the server-side time is the latency
the function logs for the request, the best of the repeats after the first (which imports numpy). The BigQuery
sizes sweep shows where rows/s levels off, which is how deploy/bigquery.sh chose max_batching_rows.

  python -m tools.bench.formats --lean .venv-lean/bin      (alone; make bench runs it too)
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
import urllib.request
from pathlib import Path

from tools.bench.benchmark import BATCH_SIZE, OURS_SOURCE, ROOT, Server
from tools.examples import field_penguins, random_penguins

SQL_ARGUMENTS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "island", "sex")
BIGQUERY_SIZES = (100, 500, 1000, 2500, 5000, 10_000)
WORKLOADS = {"field penguins": field_penguins, "random penguins": random_penguins}
JSON_HEADERS = {"Content-Type": "application/json"}


def csv_body(penguins: list[dict]) -> bytes:
    """The penguins as a spreadsheet would save them (an empty cell for an unknown sex)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SQL_ARGUMENTS)
    writer.writerows(
        [["" if penguin[name] is None else penguin[name] for name in SQL_ARGUMENTS] for penguin in penguins]
    )
    return out.getvalue().encode()


def bigquery_body(penguins: list[dict]) -> bytes:
    """The penguins as BigQuery sends them, in upper case as its public penguins table spells them."""
    calls = [
        [*(p[name] for name in SQL_ARGUMENTS[:4]), p["island"].upper(), (p["sex"] or ".").upper()] for p in penguins
    ]
    return json.dumps({"requestId": "bench", "caller": "bench", "sessionUser": "bench", "calls": calls}).encode()


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        return response.status


def _server_seconds(server: Server, body: bytes, headers: dict[str, str], repeats: int) -> list[float]:
    """Post the body repeats + 1 times; the latencies the function logged for them."""
    for _ in range(repeats + 1):
        assert _post(server.url, body, headers) == 200
    entries = [json.loads(line) for line in server.log_path.read_text().strip().split("\n") if '"httpRequest"' in line]
    return [float(entry["httpRequest"]["latency"].rstrip("s")) for entry in entries[-(repeats + 1) :]]


def _formats(penguins: list[dict]) -> dict[str, tuple[bytes, dict[str, str]]]:
    return {
        "json batch": (json.dumps({"instances": penguins}).encode(), JSON_HEADERS),
        "csv, answered as csv": (csv_body(penguins), {"Content-Type": "text/csv", "Accept": "text/csv"}),
        "csv, answered as json": (csv_body(penguins), {"Content-Type": "text/csv"}),
        "bigquery calls": (bigquery_body(penguins), JSON_HEADERS),
    }


def bulk_formats(lean_bin: Path, log_dir: Path, count: int = BATCH_SIZE, repeats: int = 5) -> dict:
    """Rows per second, server-side, for each bulk format and workload; and the BigQuery sizes sweep."""
    server = Server(lean_bin, OURS_SOURCE, {}, log_dir, "formats")
    try:
        server.first_correct_answer()
        results: dict[str, dict] = {}
        for workload, make in WORKLOADS.items():
            results[workload] = {}
            for name, (body, headers) in _formats(make(count)).items():
                best = min(_server_seconds(server, body, headers, repeats)[1:])
                results[workload][name] = {"rows": count, "server_s": round(best, 4), "rows_per_s": round(count / best)}
        sweep = {}
        penguins = field_penguins(count)
        for size in BIGQUERY_SIZES:
            best = min(_server_seconds(server, bigquery_body(penguins[:size]), JSON_HEADERS, repeats)[1:])
            sweep[size] = {"server_s": round(best, 4), "rows_per_s": round(size / best)}
    finally:
        server.stop()
    return {"formats": results, "bigquery_sizes": sweep}


def report(figures: dict) -> str:
    """The lines make bench prints."""
    lines = [f"bulk formats, {BATCH_SIZE:,} rows each, server-side (the function's own request log):"]
    for workload, formats in figures["formats"].items():
        lines.append(f"  {workload}:")
        json_rate = formats["json batch"]["rows_per_s"]
        for name, result in formats.items():
            lines.append(
                f"    {name:24} {result['server_s']:.4f} s = {result['rows_per_s']:>9,} rows/s "
                f"({result['rows_per_s'] / json_rate:.2f} x the JSON batch)"
            )
    sweep = ", ".join(f"{size:,}: {r['rows_per_s']:,}/s" for size, r in figures["bigquery_sizes"].items())
    lines.append(f"  BigQuery rows/s by calls per request (field penguins): {sweep}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lean", default=str(ROOT / ".venv-lean" / "bin"), help="bin folder of the deployable venv")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(
        report(bulk_formats(Path(args.lean), Path(tempfile.mkdtemp(prefix="penguin-formats-")), repeats=args.repeats))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
