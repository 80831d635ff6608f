"""CSV in, CSV or JSON out, through the real Functions Framework app: dialects, bad files, per-row errors."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import palmerpenguins
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penguins.codecs import csv_codec
from penguins.errors import ApiError
from penguins.responses import ErrorResponse
from tools.examples import SEED_EXAMPLES

CSV_IN = {"Content-Type": "text/csv"}
CSV_IN_OUT = {"Content-Type": "text/csv", "Accept": "text/csv"}
PACKAGE_DATA = Path(palmerpenguins.__file__).parent / "data"
HEADER = "bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,island,sex"
ADELIE_ROW = "39.1,18.7,181,3750,Torgersen,male"
GENTOO_ROW = "47.5,15.0,218,4950,Biscoe,female"
CHINSTRAP_ROW = "49.5,19.0,200,3800,Dream,male"
SEED_CSV = "\n".join([HEADER, ADELIE_ROW, GENTOO_ROW, CHINSTRAP_ROW]) + "\n"


def post_csv(client, text: str | bytes, headers=CSV_IN_OUT, path="/predict"):
    return client.post(path, data=text.encode() if isinstance(text, str) else text, headers=headers)


def answered_rows(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def assert_csv_error(response, status: int, says: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    ErrorResponse.model_validate(body)
    assert says in body["error"], body["error"]
    return body


# Dialects a spreadsheet or a script writes: each is the seed's three penguins, answered Adelie, Gentoo, Chinstrap.
DIALECTS = {
    "LF": SEED_CSV,
    "CRLF": SEED_CSV.replace("\n", "\r\n"),
    "BOM (Excel's CSV UTF-8)": "\ufeff" + SEED_CSV,
    "no final newline": SEED_CSV.rstrip("\n"),
    "blank lines around": "\n" + SEED_CSV + "\n\n",
    "upper-case island and sex": SEED_CSV.replace("Torgersen", "TORGERSEN").replace("male", "MALE"),
    "columns in another order": "sex,island,body_mass_g,flipper_length_mm,bill_depth_mm,bill_length_mm\n"
    "male,Torgersen,3750,181,18.7,39.1\nfemale,Biscoe,4950,218,15.0,47.5\nmale,Dream,3800,200,19.0,49.5\n",
    "LTER raw export names": "Culmen Length (mm),Culmen Depth (mm),Flipper Length (mm),Body Mass (g),Island,Sex\n"
    + "\n".join([ADELIE_ROW, GENTOO_ROW, CHINSTRAP_ROW]).replace("male", "MALE"),
    "header names with spaces and case": " Bill_Length_MM , bill_depth_mm,flipper_length_mm,body_mass_g,Island,SEX\n"
    + "\n".join([ADELIE_ROW, GENTOO_ROW, CHINSTRAP_ROW]),
    "quoted cells": HEADER
    + "\n"
    + '"39.1","18.7","181","3750","Torgersen","male"\n'
    + GENTOO_ROW
    + "\n"
    + CHINSTRAP_ROW,
    "numbers with spaces": HEADER + "\n 39.1 , 18.7,181 ,3750,Torgersen,male\n" + GENTOO_ROW + "\n" + CHINSTRAP_ROW,
    "no sex column": "bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,island\n"
    "39.1,18.7,181,3750,Torgersen\n47.5,15.0,218,4950,Biscoe\n49.5,19.0,200,3800,Dream\n",
}


@pytest.mark.parametrize("text", DIALECTS.values(), ids=DIALECTS.keys())
def test_csv_dialects_are_answered_row_for_row(client, text):
    rows = answered_rows(post_csv(client, text))
    assert [row["prediction"] for row in rows] == ["Adelie", "Gentoo", "Chinstrap"]
    assert all(row["error"] == "" for row in rows)
    for row in rows:
        total = sum(float(row[f"probability_{name}"]) for name in SEED_EXAMPLES)
        assert abs(total - 1) < 1e-5


def test_other_columns_come_back_unchanged_and_in_order(client):
    text = (
        "id,bill_length_mm,bill_depth_mm,note,flipper_length_mm,body_mass_g,island,sex,recorded\n"
        'N1,39.1,18.7,"tagged, then released",181,3750,Torgersen,male,Adelie\n'
        'N2,47.5,15.0,"two lines\nof notes, ""quoted""",218,4950,Biscoe,female,Gentoo\n'
    )
    response = post_csv(client, text)
    rows = answered_rows(response)
    assert list(rows[0])[:9] == [
        "id",
        "bill_length_mm",
        "bill_depth_mm",
        "note",
        "flipper_length_mm",
        "body_mass_g",
        "island",
        "sex",
        "recorded",
    ]
    assert list(rows[0])[9:] == list(csv_codec.ANSWER_COLUMNS)
    assert [row["note"] for row in rows] == ["tagged, then released", 'two lines\nof notes, "quoted"']
    assert [row["recorded"] for row in rows] == [row["prediction"] for row in rows]


def test_an_answered_csv_posted_again_gets_one_set_of_answer_columns(client):
    first = post_csv(client, SEED_CSV).get_data(as_text=True)
    again = answered_rows(post_csv(client, first))
    assert list(again[0]) == [*HEADER.split(","), *csv_codec.ANSWER_COLUMNS]
    assert [row["prediction"] for row in again] == ["Adelie", "Gentoo", "Chinstrap"]


def test_csv_answers_equal_the_json_batch_answers(client):
    json_answers = client.post("/predict", json={"instances": list(SEED_EXAMPLES.values())}).get_json()
    csv_answers = post_csv(client, SEED_CSV, headers=CSV_IN).get_json()
    assert csv_answers == json_answers


# Rows that cannot be predicted: their error cell says why, and every other row is still answered.
BAD_ROWS = {
    "a bad number": ("abc", "bill_length_mm must be a number in millimetres; got 'abc'"),
    "a decimal comma": ('"39,1"', "write the decimal separator as a point"),
    "an empty measurement": ("", "bill_length_mm has no value"),
    "NA": ("NA", "bill_length_mm has no value"),
    "kilograms": ("39.1,18.7,181,3.75,Torgersen,male", "was it sent in kilograms?"),
    "impossible": ("390,18.7,181,3750,Torgersen,male", "bill_length_mm must be between 30 and 60"),
    "not finite": ("nan", "bill_length_mm must be a finite number"),
    "an unknown island": ("39.1,18.7,181,3750,Anvers,male", "island must be one of 'Biscoe', 'Dream', 'Torgersen'"),
    "a NUL byte": ("39.1,18.7,181,3750,Torger\x00sen,male", "island must be one of"),
    "no island": ("39.1,18.7,181,3750,,male", "island has no value"),
    "an unknown sex": ("39.1,18.7,181,3750,Torgersen,M", "sex must be one of 'female', 'male'"),
    "a cell too many": ("39.1,18.7,181,3750,Torgersen,male,tagged, released", "has 8 cells where the header names 6"),
    "a cell too few": ("39.1,18.7,181,3750,Torgersen", "has 5 cells where the header names 6"),
}


@pytest.mark.parametrize(("cells", "says"), BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_a_bad_row_gets_its_error_and_the_others_are_answered(client, cells, says):
    row = cells if "," in cells and not cells.startswith('"') else cells + ADELIE_ROW[ADELIE_ROW.index(",") :]
    text = "\n".join([HEADER, ADELIE_ROW, row, CHINSTRAP_ROW])
    rows = answered_rows(post_csv(client, text))
    assert len(rows) == 3
    assert [rows[0]["prediction"], rows[2]["prediction"]] == ["Adelie", "Chinstrap"]
    assert rows[1]["prediction"] == "" and rows[1]["probability_Adelie"] == ""
    assert says in rows[1]["error"], rows[1]["error"]


def test_the_json_answer_names_the_line_of_a_bad_row(client):
    text = HEADER + "\n" + ADELIE_ROW + '\n"39.1, a note",18.7,181,3750,Torgersen,male\n' + CHINSTRAP_ROW
    body = post_csv(client, text, headers=CSV_IN).get_json()
    predictions = body["predictions"]
    assert [p.get("prediction") for p in predictions] == ["Adelie", None, "Chinstrap"]
    assert predictions[1]["line"] == 3 and "bill_length_mm must be a number" in predictions[1]["error"]
    assert "warnings" in predictions[0] and "model_version" in body


def test_lines_count_from_the_header_across_quoted_line_breaks(client):
    text = "note," + HEADER + '\n"one\ntwo",' + ADELIE_ROW + "\n\nx,abc" + ADELIE_ROW[4:] + "\n"
    body = post_csv(client, text, headers=CSV_IN).get_json()
    assert body["predictions"][1]["line"] == 5


# Files unusable as a whole: a 4xx JSON error saying what to fix.
BAD_FILES = {
    "empty": (b"", 400, "The CSV is empty"),
    "only blank lines": (b"\n\r\n\n", 400, "The CSV is empty"),
    "a header only": (HEADER.encode() + b"\n", 422, "holds no rows"),
    "a missing column": (
        b"bill_length_mm,bill_depth_mm,body_mass_g,island\n39.1,18.7,3750,Torgersen\n",
        422,
        "missing: flipper_length_mm ('flipper_length_mm' or 'Flipper Length (mm)')",
    ),
    "no header": (ADELIE_ROW.encode() + b"\n" + GENTOO_ROW.encode(), 422, "first line must name the columns"),
    "semicolons": (SEED_CSV.replace(",", ";").replace(".", ",").encode(), 400, "separated by semicolons (;)"),
    "tabs": (SEED_CSV.replace(",", "\t").encode(), 400, "separated by tabs"),
    "two columns for one field": (
        b"bill_length_mm,Culmen Length (mm),bill_depth_mm,flipper_length_mm,body_mass_g,island\n",
        422,
        "two columns for bill_length_mm",
    ),
    "not UTF-8": (SEED_CSV.replace("Torgersen", "T\u00f8rgersen").encode("latin-1"), 400, "not UTF-8 (byte"),
    "an unclosed quote": ((SEED_CSV + '"39.1,18.7,181,3750,Torgersen,male\n').encode(), 400, "cannot be read at line"),
    "a stray quote": ((HEADER + '\n39.1,18.7,181,3750,"Torg"ersen,male\n').encode(), 400, "cannot be read at line 2"),
}


@pytest.mark.parametrize(("raw", "status", "says"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_file_unusable_as_a_whole_is_a_4xx_saying_what_to_fix(client, raw, status, says):
    assert_csv_error(post_csv(client, raw), status, says)


def test_rows_over_max_batch_size_are_refused(make_client):
    client = make_client(MAX_BATCH_SIZE="2")
    assert_csv_error(post_csv(client, SEED_CSV), 422, "more than 2 rows")
    assert answered_rows(post_csv(client, "\n".join([HEADER, ADELIE_ROW, GENTOO_ROW])))


def test_bytes_over_max_body_bytes_are_refused(make_client):
    client = make_client(MAX_BODY_BYTES="100")
    assert_csv_error(post_csv(client, SEED_CSV), 413, "at most 100 bytes")


@pytest.mark.parametrize("content_type", ["text/csv; charset=latin-1", "text/csv; charset=utf-16"])
def test_a_charset_other_than_utf8_is_refused(client, content_type):
    assert_csv_error(post_csv(client, SEED_CSV, {"Content-Type": content_type}), 415, "must be UTF-8")


@pytest.mark.parametrize("content_type", ["text/csv; charset=utf-8", "application/csv", "TEXT/CSV"])
def test_csv_content_types(client, content_type):
    response = post_csv(client, SEED_CSV, {"Content-Type": content_type, "Accept": "text/csv"})
    assert [row["prediction"] for row in answered_rows(response)] == ["Adelie", "Gentoo", "Chinstrap"]


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json, text/csv;q=0.5"])
def test_without_accept_text_csv_the_answer_is_json(client, accept):
    headers = {**CSV_IN, **({"Accept": accept} if accept else {})}
    response = post_csv(client, SEED_CSV, headers)
    assert response.mimetype == "application/json"
    assert [p["prediction"] for p in response.get_json()["predictions"]] == ["Adelie", "Gentoo", "Chinstrap"]


@pytest.mark.parametrize(("name", "species_column"), [("penguins.csv", "species"), ("penguins-raw.csv", "Species")])
@pytest.mark.parametrize("path", ["/predict", "/"])
def test_palmerpenguins_files_as_they_are_are_answered_row_for_row(client, name, species_column, path):
    raw = (PACKAGE_DATA / name).read_bytes()
    originals = list(csv.DictReader(io.StringIO(raw.decode())))
    rows = answered_rows(post_csv(client, raw, path=path))
    assert len(rows) == len(originals) == 344
    assert [{k: row[k] for k in originals[0]} for row in rows] == originals  # every input cell, in order
    failed = [row for row in rows if row["error"]]
    assert len(failed) == 2 and all(row["prediction"] == "" for row in failed)
    assert all("bill_length_mm has no value" in row["error"] for row in failed)
    predicted = [row for row in rows if not row["error"]]
    correct = sum(row[species_column].startswith(row["prediction"]) for row in predicted)
    assert correct / len(predicted) >= 0.98


def test_the_request_log_line_says_csv_and_counts(client, capsys):
    post_csv(client, "\n".join([HEADER, ADELIE_ROW, "abc" + ADELIE_ROW[4:], CHINSTRAP_ROW]))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"httpRequest"' in line]
    entry = lines[-1]
    assert entry["format"] == "csv" and entry["httpRequest"]["status"] == 200
    assert entry["predicted_classes"] == {"Adelie": 1, "Chinstrap": 1}
    assert entry["rows"] == 3 and entry["failed_rows"] == 1 and entry["model_version"]
    assert len(entry["inputs_sample"]) == 2 and entry["confidence_summary"]["counts"]


cells = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["39.1", "NA", "", ".", "MALE", "female", "Dream", '"', ",", "\n", "\r", ";", "1e400", "-0"]),
)
csv_texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.lists(cells, max_size=8), max_size=6).map(
        lambda rows: "\n".join([HEADER] + [",".join(row) for row in rows])
    ),
)


def test_any_csv_body_parses_or_is_a_4xx_never_an_exception(long_run):
    counted = []

    @settings(max_examples=2000 if long_run else 300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=csv_texts, bom=st.booleans())
    def check(text, bom):
        counted.append(1)
        try:
            table = csv_codec.parse((("\ufeff" if bom else "") + text).encode("utf-8", "surrogatepass"), 5)
        except ApiError as exc:
            assert 400 <= exc.status < 500 and exc.error
            return
        assert len(table.rows) == len(table.records) == len(table.lines) <= 5
        assert all(isinstance(row, str) or set(row) >= set(csv_codec.REQUIRED_FIELDS) for row in table.rows)

    check()
    print(f"\nhypothesis (CSV bodies): {len(counted)} cases")


@pytest.mark.parametrize(("query", "status"), [("?explain=maybe", 422), ("?explain=true", 200), ("?x=1", 200)])
def test_the_query_is_held_to_the_contract(client, query, status):
    response = post_csv(client, SEED_CSV, headers=CSV_IN, path="/predict" + query)
    assert response.status_code == status
    if status == 200:  # contributions are for JSON penguins: a CSV's answer has none
        assert all("contributions" not in p for p in response.get_json()["predictions"])


def test_the_openapi_document_describes_csv_in_and_out(client):
    from penguins.responses import CsvPredictionResponse

    operation = client.get("/openapi.json").get_json()["paths"]["/predict"]["post"]
    request = operation["requestBody"]["content"]["text/csv"]["schema"]
    assert re.search(request["pattern"], SEED_CSV) and not re.search(request["pattern"], HEADER + "\n")
    assert "Culmen Length (mm)" in request["description"]
    assert "warnings, error" in operation["responses"]["200"]["content"]["text/csv"]["schema"]["description"]
    bad = post_csv(client, SEED_CSV.replace(GENTOO_ROW, "abc" + GENTOO_ROW[4:]), headers=CSV_IN).get_json()
    CsvPredictionResponse.model_validate(bad)  # the documented shape, rows in error included
