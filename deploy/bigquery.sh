# shellcheck shell=bash
# deploy.sh --bigquery DATASET: the function as a BigQuery remote function, so a query scores a table:
#   SELECT `PROJECT.DATASET`.penguin_species(culmen_length_mm, ..., island, sex) FROM ...
# Sourced by deploy.sh after the function is deployed; uses its PROJECT, FUNCTION_NAME, REGION, PYTHON and
# its run/show/dry/die/retry helpers; bigquery_remote_function takes the function's URL.

# BigQuery runs a query where its tables are: bigquery-public-data.ml_datasets.penguins is in the US
# multi-region, so the dataset and the connection default to US (the function itself may be anywhere).
BIGQUERY_LOCATION="${BIGQUERY_LOCATION:-US}"
BIGQUERY_CONNECTION="${BIGQUERY_CONNECTION:-${FUNCTION_NAME:-penguin-species}}"
# Rows per request, from tools/bench/formats.py's sweep (make bench prints it) and the same requests' CPU time
# in-process (2026-12-01, a shared 2-CPU machine, so as ratios): rows/s at 100 calls per request is ~40% of the
# rate at 10,000, at 500 ~75-95%, at 1,000 ~80-95%, at 2,500 ~90-95%; beyond, no gain. Each request pays a
# fixed ~1-2 ms (the batch path's setup), then rows are nearly free. 2,500 keeps ~90% of the peak while a
# request stays small (~0.2 MB, ~15 ms of work on an idle CPU), so BigQuery spreads a big table over more
# requests in parallel, and is well under MAX_BATCH_SIZE (10,000), which the function refuses above.
BIGQUERY_MAX_BATCHING_ROWS="${BIGQUERY_MAX_BATCHING_ROWS:-2500}"
BIGQUERY_SIGNATURE="penguin_species(bill_length_mm FLOAT64, bill_depth_mm FLOAT64, flipper_length_mm FLOAT64, body_mass_g FLOAT64, island STRING, sex STRING) RETURNS JSON"

bigquery_create_function_sql() {  # bigquery_create_function_sql URL: the DDL, one statement
  printf '%s' "CREATE OR REPLACE FUNCTION \`$PROJECT.$BIGQUERY_DATASET\`.$BIGQUERY_SIGNATURE" \
    " REMOTE WITH CONNECTION \`$PROJECT.$BIGQUERY_LOCATION.$BIGQUERY_CONNECTION\`" \
    " OPTIONS (endpoint = '$1', max_batching_rows = $BIGQUERY_MAX_BATCHING_ROWS)"
}

bigquery_example_query() {
  cat <<EOF
SELECT
  species,
  JSON_VALUE(answer.prediction) AS predicted,
  CAST(JSON_VALUE(answer.probabilities[JSON_VALUE(answer.prediction)]) AS FLOAT64) AS probability,
  JSON_VALUE(answer.error) AS error
FROM (
  SELECT species, \`$PROJECT.$BIGQUERY_DATASET\`.penguin_species(
      culmen_length_mm, culmen_depth_mm, flipper_length_mm, body_mass_g, island, sex) AS answer
  FROM \`bigquery-public-data.ml_datasets.penguins\`
)
LIMIT 10
EOF
}

bigquery_remote_function() {  # bigquery_remote_function URL
  local endpoint=$1
  printf '\n==> BigQuery: the remote function %s.%s.penguin_species (%s)\n' "$PROJECT" "$BIGQUERY_DATASET" \
    "$BIGQUERY_LOCATION"
  if ! dry; then
    command -v bq >/dev/null || die "bq is not installed: it comes with the Google Cloud SDK (gcloud components install bq)"
  fi
  run gcloud services enable bigquery.googleapis.com bigqueryconnection.googleapis.com --project "$PROJECT"

  show bq show --project_id="$PROJECT" --dataset "$PROJECT:$BIGQUERY_DATASET"
  if ! dry && bq show --project_id="$PROJECT" --dataset "$PROJECT:$BIGQUERY_DATASET" >/dev/null 2>&1; then
    echo "dataset $PROJECT:$BIGQUERY_DATASET exists"
  else
    run bq mk --project_id="$PROJECT" --location="$BIGQUERY_LOCATION" --dataset "$PROJECT:$BIGQUERY_DATASET" ||
      die "could not create the dataset $PROJECT:$BIGQUERY_DATASET"
  fi

  # A CLOUD_RESOURCE connection: BigQuery calls the function as this connection's own service account.
  local connection="$PROJECT.$BIGQUERY_LOCATION.$BIGQUERY_CONNECTION" details account
  show bq show --format=json --connection "$connection"
  if ! dry && details=$(bq show --format=json --connection "$connection" 2>/dev/null); then
    echo "connection $connection exists"
  else
    run bq mk --connection --project_id="$PROJECT" --location="$BIGQUERY_LOCATION" \
      --connection_type=CLOUD_RESOURCE "$BIGQUERY_CONNECTION" || die "could not create the connection $connection"
    dry || details=$(bq show --format=json --connection "$connection") || die "could not read the connection $connection"
  fi
  if dry; then
    account="CONNECTION_SERVICE_ACCOUNT"
  else
    account=$("$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["cloudResource"]["serviceAccountId"])' \
      <<<"$details") || die "the connection $connection names no service account: $details"
  fi
  echo "the connection calls the function as $account"

  # Only this account may call the (private) function on BigQuery's behalf: roles/run.invoker on its service.
  local grant=(gcloud run services add-iam-policy-binding "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION"
    "--member=serviceAccount:$account" --role=roles/run.invoker --format=none)
  show "${grant[@]}"
  dry || retry 5 "${grant[@]}" || die "could not grant $account roles/run.invoker on $FUNCTION_NAME"

  local sql
  sql=$(bigquery_create_function_sql "$endpoint")
  run bq query --project_id="$PROJECT" --location="$BIGQUERY_LOCATION" --use_legacy_sql=false "$sql" ||
    die "could not create $PROJECT.$BIGQUERY_DATASET.penguin_species (bq's message is above)"

  printf '\nScore a table from BigQuery (one reply per row; a row that cannot be predicted has its error):\n'
  bigquery_example_query
  printf '\nRun it in the BigQuery console (location %s), or pass it to: bq query --location=%s --use_legacy_sql=false\n' \
    "$BIGQUERY_LOCATION" "$BIGQUERY_LOCATION"
}
