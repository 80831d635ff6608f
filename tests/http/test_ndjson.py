"""JSON Lines in and out: the same answers as the JSON batch, a bad line answered alone, the limits as for any body."""

from __future__ import annotations

import json

import pytest

from tests.support.data import penguin_rows

NDJSON = {"Content-Type": "application/x-ndjson"}


def lines(penguins: list) -> bytes:
    return b"".join(json.dumps(p).encode() + b"\n" for p in penguins)


def answers(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    return [json.loads(line) for line in response.data.split(b"\n") if line]


def test_every_penguin_of_the_data_gets_the_json_batchs_answer(client):
    penguins = penguin_rows()
    batch = client.post("/predict", json={"instances": penguins}).get_json()
    got = answers(client.post("/predict", data=lines(penguins), headers=NDJSON))
    assert got == [{**answer, "model_version": batch["model_version"]} for answer in batch["predictions"]]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (b"not json", "line 2 is not valid JSON"),
        (b"[1, 2]", "line 2 must be a JSON object"),
        (b'{"bill_length_mm": 39.1}', "bill_depth_mm is required"),
        (
            b'{"bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181, "body_mass_g": 3.75, '
            b'"island": "Dream"}',
            "kilograms",
        ),  # fmt: skip
    ],
)
def test_a_bad_line_gets_its_error_and_the_others_their_answers(client, line, says):
    good = json.dumps(penguin_rows()[0]).encode()
    got = answers(client.post("/predict", data=b"\n".join([good, line, good]) + b"\n", headers=NDJSON))
    assert [("error" in answer) for answer in got] == [False, True, False]
    assert says in got[1]["error"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [(b"", 422, "holds no penguin"), (b"\n\n", 422, "holds no penguin"), (lines([{}] * 3), 422, "more than 2 lines")],
)
def test_a_body_unusable_as_a_whole_is_a_4xx(make_client, body, status, says):
    response = make_client(MAX_BATCH_SIZE="2").post("/predict", data=body, headers=NDJSON)
    assert response.status_code == status and says in response.get_json()["error"]
