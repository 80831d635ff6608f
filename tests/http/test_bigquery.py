"""BigQuery remote-function requests through the real Functions Framework app: replies per call, errors per call."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penguins.codecs.bigquery import SQL_ARGUMENTS
from tools.examples import SEED_EXAMPLES

ADELIE_CALL = [39.1, 18.7, 181, 3750, "Torgersen", "male"]
GENTOO_CALL = [47.5, 15.0, 218, 4950, "Biscoe", "female"]
# BigQuery's envelope as its documentation shows it; the codec reads calls and ignores the rest.
ENVELOPE = {
    "requestId": "124ab1c",
    "caller": "//bigquery.googleapis.com/projects/p/jobs/j",
    "sessionUser": "analyst@example.com",
    "calls": [],
}


def call_function(client, calls, path="/", **extra):
    return client.post(path, json={**ENVELOPE, **extra, "calls": calls})


def replies(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert list(body) == ["replies"]
    return body["replies"]


# One call that cannot be predicted among good ones: its reply is {"error": ...}, the others predictions.
BAD_CALLS = {
    "a null measurement": ([None, 18.7, 181, 3750, "Torgersen", "male"], "bill_length_mm has no value"),
    "a string where a number belongs": (["39.1", 18.7, 181, 3750, "Torgersen", "male"], "a number, not text"),
    "NaN as BigQuery sends it": (["NaN", 18.7, 181, 3750, "Torgersen", "male"], "must be a number in millimetres"),
    "a boolean": ([True, 18.7, 181, 3750, "Torgersen", "male"], "not a boolean"),
    "kilograms": ([39.1, 18.7, 181, 3.75, "Torgersen", "male"], "was it sent in kilograms?"),
    "a null island": ([39.1, 18.7, 181, 3750, None, "male"], "island has no value"),
    "an unknown island": ([39.1, 18.7, 181, 3750, "Anvers", "male"], "island must be one of"),
    "an unknown sex": ([39.1, 18.7, 181, 3750, "Torgersen", "M"], "sex must be one of"),
    "too few arguments": ([39.1, 18.7, 181, 3750, "Torgersen"], "a call must hold 6 arguments"),
    "too many arguments": ([*ADELIE_CALL, 2007], "a call must hold 6 arguments"),
    "a huge integer": ([10**400, 18.7, 181, 3750, "Torgersen", "male"], "bill_length_mm"),
}


@pytest.mark.parametrize(("call", "says"), BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_a_bad_call_gets_its_error_and_a_200(client, call, says):
    answered = replies(call_function(client, [ADELIE_CALL, call, GENTOO_CALL]))
    assert len(answered) == 3
    assert [answered[0]["prediction"], answered[2]["prediction"]] == ["Adelie", "Gentoo"]
    assert list(answered[1]) == ["error"] and says in answered[1]["error"], answered[1]


@pytest.mark.parametrize("sex", ["MALE", "FEMALE", ".", None, "", "NA", "male", " Female "], ids=lambda s: repr(s))
def test_bigquery_spellings_of_sex_are_understood(client, sex):
    call = [*ADELIE_CALL[:5], sex]
    (reply,) = replies(call_function(client, [call]))
    expected_sex = {"m": "male", "f": "female"}.get((sex or ".").strip()[:1].lower())
    penguin = {**dict(zip(SQL_ARGUMENTS, ADELIE_CALL)), "sex": expected_sex}
    assert reply == client.post("/predict", json=penguin).get_json()


def test_a_reply_is_what_a_single_prediction_answers(client):
    calls = [list(example[name] for name in SQL_ARGUMENTS) for example in SEED_EXAMPLES.values()]
    answered = replies(call_function(client, [[*call[:4], call[4].upper(), call[5].upper()] for call in calls]))
    singles = [client.post("/predict", json=example).get_json() for example in SEED_EXAMPLES.values()]
    assert answered == singles
    assert [reply["prediction"] for reply in answered] == list(SEED_EXAMPLES)


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"userDefinedContext": {"mode": "strict"}},
        {"userDefinedContext": {}},
        {"somethingNew": [1, 2, 3]},
        {"caller": None, "sessionUser": None},
    ],
    ids=["plain", "userDefinedContext", "empty userDefinedContext", "an extra field", "null fields"],
)
@pytest.mark.parametrize("path", ["/", "/predict"])
def test_envelope_fields_besides_calls_are_accepted(client, extra, path):
    answered = replies(call_function(client, [ADELIE_CALL], path=path, **extra))
    assert answered[0]["prediction"] == "Adelie"


def test_empty_calls_get_empty_replies(client):
    assert replies(call_function(client, [])) == []


@pytest.mark.parametrize(
    ("calls", "says"),
    [
        ("not calls", "calls must be a JSON array of calls"),
        ({"0": ADELIE_CALL}, "calls must be a JSON array of calls"),
        (None, "calls must be a JSON array of calls"),
        ([ADELIE_CALL, {"bill_length_mm": 39.1}], "calls[1] must be an array of arguments"),
        ([ADELIE_CALL, "39.1,18.7"], "calls[1] must be an array of arguments"),
    ],
)
def test_an_unusable_envelope_is_a_400_with_error_message(client, calls, says):
    response = call_function(client, calls)
    assert response.status_code == 400
    body = response.get_json()
    assert list(body) == ["errorMessage"] and says in body["errorMessage"]


def test_more_calls_than_max_batch_size_is_a_400_naming_max_batching_rows(make_client):
    client = make_client(MAX_BATCH_SIZE="2")
    response = call_function(client, [ADELIE_CALL] * 3)
    assert response.status_code == 400
    assert "max_batching_rows <= 2" in response.get_json()["errorMessage"]
    assert len(replies(call_function(client, [ADELIE_CALL] * 2))) == 2


@pytest.mark.parametrize(
    "body",
    [
        {**SEED_EXAMPLES["Adelie"], "island": "calls"},
        {"instances": [SEED_EXAMPLES["Adelie"]], "note": "calls"},
        [{"calls": []}],
    ],
    ids=["a penguin naming calls", "a batch naming calls", "an array holding an envelope"],
)
def test_a_json_body_that_only_mentions_calls_stays_on_the_json_path(client, body):
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    assert "error" in response.get_json() and "errorMessage" not in response.get_json()


def test_the_request_log_line_says_bigquery_and_counts(client, capsys):
    call_function(client, [ADELIE_CALL, [None] * 6, GENTOO_CALL])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"httpRequest"' in line]
    entry = lines[-1]
    assert entry["format"] == "bigquery" and entry["httpRequest"]["status"] == 200
    assert entry["predicted_classes"] == {"Adelie": 1, "Gentoo": 1}
    assert entry["rows"] == 3 and entry["failed_rows"] == 1 and entry["model_version"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
arguments = st.one_of(
    st.floats(min_value=0, max_value=8000),
    st.sampled_from(["Biscoe", "dream", "TORGERSEN", "MALE", "FEMALE", ".", "", None]),
    json_values,
)
calls = st.lists(st.one_of(st.lists(arguments, min_size=6, max_size=6), st.lists(arguments), json_values), max_size=5)


def test_any_envelope_is_answered_or_a_4xx_never_a_5xx(client, long_run):
    counted = []

    @settings(max_examples=600 if long_run else 100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(calls=st.one_of(calls, json_values), extra=st.dictionaries(st.text(max_size=8), json_values, max_size=2))
    def check(calls, extra):
        counted.append(1)
        response = client.post("/", json={**extra, "calls": calls})
        assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
        body = response.get_json()
        if response.status_code == 400:
            assert list(body) == ["errorMessage"]
            return
        assert len(body["replies"]) == len(calls)
        for reply in body["replies"]:
            assert ("prediction" in reply and "model_version" in reply) or list(reply) == ["error"]

    check()
    print(f"\nhypothesis (BigQuery envelopes): {len(counted)} cases")


@pytest.mark.parametrize(("query", "status"), [("?explain=maybe", 422), ("?explain=false", 200)])
def test_the_query_is_held_to_the_contract(client, query, status):
    assert call_function(client, [ADELIE_CALL], path="/" + query).status_code == status


def test_the_openapi_document_describes_the_envelope_and_the_replies(client):
    from penguins.responses import BigQueryError, BigQueryResponse

    document = client.get("/openapi.json").get_json()
    envelope = document["components"]["schemas"]["BigQueryRequest"]
    assert envelope["required"] == ["calls"] and envelope["properties"]["calls"]["maxItems"] == 10000
    body = document["paths"]["/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/BigQueryRequest"} in body["oneOf"]
    BigQueryResponse.model_validate(call_function(client, [ADELIE_CALL, [None] * 6]).get_json())
    BigQueryError.model_validate(call_function(client, "not calls").get_json())
