#!/usr/bin/env bash
# Deploy the penguin species function to Cloud Run functions in your own Google Cloud project, through the
# Cloud Run Admin API (`gcloud run deploy --source function --function predict --base-image ...`): APIs,
# a model bucket, the bundled model published to it, a least-privilege service account, the function,
# its URL, and a smoke test against it. Safe to run again: each step keeps what exists, and on a
# function that serves the new revision goes out as a canary. `./deploy.sh --help` lists the options.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/rollout.sh
source "$ROOT/deploy/rollout.sh"  # canary rollouts, rollback, status
# shellcheck source=deploy/errors.sh
source "$ROOT/deploy/errors.sh"  # gcloud failures explained in one sentence

usage() {
  cat <<EOF
Usage: ./deploy.sh [options]
       ./deploy.sh rollback [--to REVISION] [options]   100% back on the previous revision, then a smoke test
       ./deploy.sh status [options]                     revisions, their traffic and tags, each one's /health
       ./deploy.sh smoke [options]                      the smoke test against the function as it is deployed now

Deploys function/ as a Cloud Run function (gcloud run deploy --source function --function predict
--base-image BASE_IMAGE) that serves the model published to gs://BUCKET/PREFIX, then smoke-tests its URL.
On an existing function the new revision is made with no traffic (--no-traffic --tag candidate),
validated through its tagged URL, then given 10%, 50%, 100% of the traffic, rolled back by itself on a
breach; after every deploy and traffic change the service's actual split is read back and compared
with what was asked (docs/rollout.md). Every option can also be given as the environment variable in brackets.

  --project ID          Google Cloud project [PROJECT] (default: gcloud config get-value project)
  --region REGION       region of the function and the bucket [REGION] (default: europe-west1)
  --name NAME           function name [FUNCTION_NAME] (default: penguin-species)
  --bucket BUCKET       model bucket, created when missing [BUCKET] (default: PROJECT-penguin-models)
  --prefix PREFIX       model prefix in the bucket [MODEL_PREFIX] (default: penguins)
  --artifact DIR        model artifact to publish [ARTIFACT] (default: function/model)
  --memory SIZE         memory per instance [MEMORY] (default: 1Gi, from docs/capacity.md)
  --cpu N               CPUs per instance [CPU] (default: 1)
  --concurrency N       requests in flight per instance [CONCURRENCY] (default: 8)
  --min-instances N     instances kept warm, billed while idle [MIN_INSTANCES] (default: 0)
  --max-instances N     upper bound on instances, a cost ceiling [MAX_INSTANCES] (default: 10)
  --timeout DURATION    request timeout [TIMEOUT] (default: 60s)
  --base-image IMAGE    the runtime the source is built on [BASE_IMAGE] (default: python311, the Python
                        the tests run on; CPython 3.11 ends 2027-10, see docs/rollout.md)
  --service-account-id ID  the function's own service account [SERVICE_ACCOUNT_ID] (default: from the name)
  --bigquery DATASET    also make it a BigQuery remote function DATASET.penguin_species: a connection,
                        its invoker grant, the SQL function (deploy/bigquery.sh) [BIGQUERY_DATASET]
  --public              anyone may call the URL (--allow-unauthenticated); default: private,
                        callers need roles/run.invoker and an identity token [PUBLIC=true]
  --alert-email ADDRESS  alerts e-mail this address (a notification channel, made once) [ALERT_EMAIL]
  --notification-channel NAME  alerts notify this channel, projects/P/notificationChannels/ID
                        [NOTIFICATION_CHANNEL]
  --no-monitoring       skip the metrics, alert policies and dashboard [MONITORING=false]
  --monitoring-only     apply only those (after a threshold change, say) [MONITORING_ONLY=true]
  --no-canary           on an existing function too, deploy in one step (100% at once) [CANARY=false]
  --canary-steps LIST   percents of traffic on the new revision, one window each [CANARY_STEPS] (default: 10,50,100)
  --canary-interval S   seconds of each observation window [CANARY_INTERVAL] (default: 60)
  --to REVISION         rollback: the revision to put 100% on [ROLLBACK_TO] (default: the previous one)
  --dry-run             print every command, run none: no login, no network, and with --project
                        no gcloud at all [DRY_RUN=true]
  -h, --help            this help

Also read: PYTHON (default .venv/bin/python; the training CLI publishes the model), ID_TOKEN (used by
the smoke test instead of gcloud auth print-identity-token), SMOKE_RETRIES (default 5),
FUNCTION_USE_ASGI (default: true when function/main.py is an ASGI function, functions_framework.aio;
it must match, or every request gets a 500), TRAFFIC_SETTLE_SECONDS (default
60: how long a traffic change may take to show in the service's status), the
monitoring thresholds named in monitoring/thresholds.env (docs/monitoring.md); with --bigquery,
BIGQUERY_LOCATION (default US, where bigquery-public-data lives), BIGQUERY_CONNECTION (default: the name)
and BIGQUERY_MAX_BATCHING_ROWS (default 2500, measured: see deploy/bigquery.sh).
Prerequisites: gcloud logged in (gcloud auth login), Application Default Credentials for the model
upload (gcloud auth application-default login), and make venv.
EOF
}

PROJECT="${PROJECT:-}"
REGION="${REGION:-europe-west1}"
FUNCTION_NAME="${FUNCTION_NAME:-penguin-species}"
BUCKET="${BUCKET:-}"
MODEL_PREFIX="${MODEL_PREFIX:-penguins}"
ARTIFACT="${ARTIFACT:-function/model}"
# Memory 1Gi: the worst case measured by `make capacity` (docs/capacity.md), four 10 MiB batches of
# 10,000 penguins at once (explained, or all invalid) on the 4 threads of 1 vCPU, peaked at 400-470 MiB;
# with 1.5x headroom that needs 1Gi (an instance over its limit is killed with every request in it).
# Cloud Run allows 128 MiB to 4 GiB at 1 vCPU (its second generation environment: from 512 MiB).
MEMORY="${MEMORY:-1Gi}"
CPU="${CPU:-1}"
# Concurrency 8: the function is thread-safe and a prediction takes well under a millisecond of CPU. The
# Functions Framework serves with 4 threads per CPU, so with --cpu 1 four requests run at once and the
# next four wait a few ms in the instance's queue; that beats starting a new instance (a cold start
# of ~1 s, billed) for each request in flight, which is what concurrency 1 would do. Raise it with --cpu
# (Cloud Run allows a concurrency above 1 only with at least 1 CPU).
CONCURRENCY="${CONCURRENCY:-8}"
MIN_INSTANCES="${MIN_INSTANCES:-0}"
MAX_INSTANCES="${MAX_INSTANCES:-10}"
TIMEOUT="${TIMEOUT:-60s}"
# python311: the Python every test runs on (docs/rollout.md says why, and until when Google supports it).
BASE_IMAGE="${BASE_IMAGE:-python311}"
# true when function/main.py is an ASGI function (functions_framework.aio): the Functions Framework must
# then serve it as one (a Flask function served that way answers every request with a 500, and back).
if [[ -z ${FUNCTION_USE_ASGI:-} ]]; then
  FUNCTION_USE_ASGI=false
  ! grep -q 'functions_framework.aio\|functions_framework import aio' "$ROOT/function/main.py" ||
    FUNCTION_USE_ASGI=true
fi
SERVICE_ACCOUNT_ID="${SERVICE_ACCOUNT_ID:-}"
PUBLIC="${PUBLIC:-false}"
DRY_RUN="${DRY_RUN:-false}"
PYTHON="${PYTHON:-.venv/bin/python}"
SMOKE_RETRIES="${SMOKE_RETRIES:-5}"
BIGQUERY_DATASET="${BIGQUERY_DATASET:-}"
ALERT_EMAIL="${ALERT_EMAIL:-}"
NOTIFICATION_CHANNEL="${NOTIFICATION_CHANNEL:-}"
MONITORING="${MONITORING:-true}"
MONITORING_ONLY="${MONITORING_ONLY:-false}"

die() { printf 'error: %s\n' "$*" >&2; exit 1; }
usage_error() { printf 'error: %s (see ./deploy.sh --help)\n' "$*" >&2; exit 2; }

COMMAND=deploy
if [[ ${1:-} == rollback || ${1:-} == status || ${1:-} == smoke ]]; then
  COMMAND=$1
  shift
fi
while (($#)); do
  option=$1
  value=
  if [[ $option == --*=* ]]; then  # --name=value as well as --name value
    value=${option#*=}
    option=${option%%=*}
    set -- "$option" "$value" "${@:2}"
  fi
  case $option in
    -h | --help) usage; exit 0 ;;
    --public) PUBLIC=true; shift; continue ;;
    --dry-run) DRY_RUN=true; shift; continue ;;
    --no-monitoring) MONITORING=false; shift; continue ;;
    --monitoring-only) MONITORING_ONLY=true; shift; continue ;;
    --no-canary) CANARY=false; shift; continue ;;
    --project | --region | --name | --bucket | --prefix | --artifact | --memory | --cpu | --concurrency | \
      --min-instances | --max-instances | --timeout | --base-image | --service-account-id | --bigquery | --alert-email | \
      --notification-channel | --canary-steps | --canary-interval | --to)
      (($# >= 2)) || usage_error "$option needs a value"
      value=$2
      shift 2 ;;
    *) usage_error "unknown option: $option" ;;
  esac
  case $option in
    --project) PROJECT=$value ;;
    --region) REGION=$value ;;
    --name) FUNCTION_NAME=$value ;;
    --bucket) BUCKET=$value ;;
    --prefix) MODEL_PREFIX=$value ;;
    --artifact) ARTIFACT=$value ;;
    --memory) MEMORY=$value ;;
    --cpu) CPU=$value ;;
    --concurrency) CONCURRENCY=$value ;;
    --min-instances) MIN_INSTANCES=$value ;;
    --max-instances) MAX_INSTANCES=$value ;;
    --timeout) TIMEOUT=$value ;;
    --base-image) BASE_IMAGE=$value ;;
    --service-account-id) SERVICE_ACCOUNT_ID=$value ;;
    --bigquery) BIGQUERY_DATASET=$value ;;
    --alert-email) ALERT_EMAIL=$value ;;
    --notification-channel) NOTIFICATION_CHANNEL=$value ;;
    --canary-steps) CANARY_STEPS=$value ;;
    --canary-interval) CANARY_INTERVAL=$value ;;
    --to) ROLLBACK_TO=$value ;;
  esac
done

[[ $MONITORING == true || $MONITORING == false ]] || usage_error "MONITORING must be true or false; got '$MONITORING'"
MODEL_PREFIX=${MODEL_PREFIX#/}
MODEL_PREFIX=${MODEL_PREFIX%/}
# shellcheck source=deploy/options.sh
source "$ROOT/deploy/options.sh"
check_options  # every value, before any gcloud call

# The artifact is relative to where the script was called; everything else to the repository.
[[ $ARTIFACT == /* ]] || ARTIFACT="$PWD/$ARTIFACT"
[[ -d $ARTIFACT ]] || usage_error "--artifact must be the folder of a model artifact (make model writes function/model); got '$ARTIFACT'"
cd "$ROOT"
# shellcheck source=deploy/monitoring.sh
source "$ROOT/deploy/monitoring.sh"

# --- printing and running ---

STEP=0
step() { STEP=$((STEP + 1)); printf '\n==> [%d/10] %s\n' "$STEP" "$*"; }
quote() {  # one argument as a shell word, quoted only when it needs to be
  if [[ $1 =~ ^[][A-Za-z0-9_./:=@,+%-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}
show() {  # print a command so it can be copied and run
  local arg line="+"
  for arg in "$@"; do line+=" $(quote "$arg")"; done
  printf '%s\n' "$line"
}
run() { show "$@"; [[ $DRY_RUN == true ]] || "$@"; }
dry() { [[ $DRY_RUN == true ]]; }
retry() {  # retry N CMD...: IAM is eventually consistent; a just-created account may be unknown for a while
  local attempts=$1 delay=2 i
  shift
  for ((i = 1; ; i++)); do
    "$@" && return 0
    ((i < attempts)) || return 1
    printf 'retrying in %ds...\n' "$delay" >&2
    sleep "$delay"
    delay=$((delay * 2))
  done
}

# --- the URL and the smoke test (the deploy's last steps, and ./deploy.sh smoke) ---

function_url() {  # sets url: the deployed function's URL
  show gcloud run services describe "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION" --format='value(status.url)'
  if dry; then
    url="https://$FUNCTION_NAME-PROJECT_NUMBER.$REGION.run.app"
  else
    url=$(gcloud run services describe "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION" --format='value(status.url)')
    [[ -n $url ]] || die "gcloud run services describe gave no URL for $FUNCTION_NAME: is it deployed in $REGION? (./deploy.sh status)"
  fi
  url=${url%/}
  echo "URL: $url"
}

smoke_test() {  # GET $url/health, then POST the seed Adelie to $url/predict; exits 1 on a wrong answer
  PENGUIN='{"bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181, "body_mass_g": 3750, "year": 2007, "sex": "male", "island": "Torgersen"}'
  if [[ -n ${ID_TOKEN:-} ]]; then
    token=$ID_TOKEN
  elif dry; then
    show gcloud auth print-identity-token
    token=
  else
    # A service account's token needs the URL as its audience; a user's token must not name one.
    token=$(gcloud auth print-identity-token --audiences="$url" 2>/dev/null || gcloud auth print-identity-token) ||
      die "no identity token for the smoke test: run: gcloud auth login (or set ID_TOKEN)"
  fi

  request() {  # request METHOD PATH [JSON]: sets CODE and BODY; retries while a new revision comes up
    local args=(-sS --max-time 30 --retry "$SMOKE_RETRIES" --retry-delay 5 --retry-all-errors --fail-with-body -X "$1")
    [[ -z ${3:-} ]] || args+=(-H 'Content-Type: application/json' --data "$3")
    show curl "${args[@]}" -H 'Authorization: Bearer ***' "$url$2"
    dry && return 0
    local out status=0
    # The header from a file descriptor: the token never shows up in the process list or the output.
    out=$(curl "${args[@]}" -H @<(printf 'Authorization: Bearer %s\n' "$token") -w '\n%{http_code}' "$url$2") ||
      status=$?
    CODE=${out##*$'\n'}
    BODY=${out%$'\n'*}
    if ((status != 0)) && [[ $CODE == 000 || -z $CODE ]]; then
      smoke_fail "$1 $url$2 got no answer (curl exit $status)"
    fi
    if [[ $CODE == 401 || $CODE == 403 ]]; then  # Cloud Run's front answered (an HTML page), not the function
      smoke_fail "$1 $url$2 refused the identity token (HTTP $CODE): its audience must be $url (with ID_TOKEN unset, deploy.sh mints one with gcloud auth print-identity-token --audiences=$url) and its principal must hold roles/run.invoker on $FUNCTION_NAME"
    fi
  }
  smoke_fail() { printf 'SMOKE TEST FAILED: %s\n' "$*" >&2; exit 1; }

  request GET /health
  if ! dry; then
    [[ $CODE == 200 && $BODY == *'"status"'* ]] || smoke_fail "GET $url/health answered HTTP $CODE: $BODY"
    source_re='"source" *: *"([^"]*)"'
    [[ ! $BODY =~ $source_re ]] || echo "health: 200, model from ${BASH_REMATCH[1]}"
    if [[ $BODY == *'"degraded"'* ]]; then
      # The bundled model answers while the bucket cannot be read: usually the IAM grant still propagating.
      echo "warning: degraded, the function serves its bundled model, not ${MODEL_URI:-the model in its bucket}: $BODY"
      echo "warning: if the reason is a permission error, check $url/health again in a minute"
    fi
  fi
  request POST /predict "$PENGUIN"
  if ! dry; then
    adelie='"prediction" *: *"Adelie"'
    [[ $CODE == 200 && $BODY =~ $adelie ]] ||
      smoke_fail "POST $url/predict with the seed Adelie penguin answered HTTP $CODE: $BODY (expected \"prediction\":\"Adelie\")"
    echo "predict: $BODY"
    served=
    model_version='"model_version" *: *"([^"]+)"'
    [[ ! $BODY =~ $model_version ]] || served=${BASH_REMATCH[1]}
    [[ -z ${version:-} || $served == "$version" ]] ||
      echo "warning: the function answered with model ${served:-?}, not the published $version: see $url/health"
    echo "smoke test passed"
  fi
}

smoke_command() {  # ./deploy.sh smoke: the smoke test against the function as deployed now
  if [[ -z $PROJECT ]]; then
    show gcloud config get-value project
    PROJECT=$(gcloud config get-value project 2>/dev/null || true)
    [[ -n $PROJECT ]] || die "no project: pass --project PROJECT_ID, or run: gcloud config set project PROJECT_ID"
  fi
  echo "project $PROJECT, region $REGION, function $FUNCTION_NAME"
  function_url
  smoke_test
}

[[ $COMMAND != smoke ]] || { smoke_command; exit; }
[[ $COMMAND == deploy ]] || { rollout_command "$COMMAND"; exit; }

# --- 1. tools and credentials ---

step "Checking gcloud, its login and the local tools"
if ! dry; then
  command -v gcloud >/dev/null || die "gcloud is not installed: install the Google Cloud SDK (https://cloud.google.com/sdk/docs/install), then run: gcloud auth login"
fi
if [[ -z $PROJECT ]]; then
  command -v gcloud >/dev/null || die "no project: pass --project PROJECT_ID (or set PROJECT)"
  show gcloud config get-value project
  PROJECT=$(gcloud config get-value project 2>/dev/null || true)
  [[ -n $PROJECT ]] || die "no project: pass --project PROJECT_ID, or run: gcloud config set project PROJECT_ID"
fi
check_options  # again: the project may have come from gcloud's config
BUCKET="${BUCKET:-$PROJECT-penguin-models}"
check_bucket_name "$BUCKET"
if [[ -z $SERVICE_ACCOUNT_ID ]]; then  # the function's name, made a valid account id (6-30 characters)
  SERVICE_ACCOUNT_ID=${FUNCTION_NAME//_/-}
  ((${#SERVICE_ACCOUNT_ID} >= 6)) || SERVICE_ACCOUNT_ID+=-function
  SERVICE_ACCOUNT_ID=${SERVICE_ACCOUNT_ID:0:30}
  SERVICE_ACCOUNT_ID=${SERVICE_ACCOUNT_ID%-}
fi
[[ $SERVICE_ACCOUNT_ID =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] ||
  usage_error "the service account id '$SERVICE_ACCOUNT_ID' must be 6-30 lowercase letters, digits or dashes: pass --service-account-id"
SERVICE_ACCOUNT="$SERVICE_ACCOUNT_ID@$PROJECT.iam.gserviceaccount.com"
MODEL_URI="gs://$BUCKET/$MODEL_PREFIX"
echo "project $PROJECT, region $REGION, function $FUNCTION_NAME, model $MODEL_URI, service account $SERVICE_ACCOUNT"

show gcloud auth print-access-token
if ! dry && ! gcloud auth print-access-token >/dev/null; then
  die "gcloud is not logged in (or its login expired): run: gcloud auth login"
fi
if [[ $MONITORING_ONLY == true ]]; then
  step "Monitoring: log-based metrics, alert policies, dashboard (monitoring/)"
  apply_monitoring
  exit 0
fi

problem=
if [[ ! -f $ARTIFACT/manifest.json ]]; then
  problem="no model artifact in $ARTIFACT (no manifest.json): pass --artifact DIR, or run: make model"
elif ! command -v "$PYTHON" >/dev/null; then
  problem="$PYTHON not found: run: make venv (or set PYTHON to a Python that has requirements.txt installed)"
elif [[ -z ${STORAGE_EMULATOR_HOST:-} ]] && ! dry &&
  ! "$PYTHON" -c 'import google.auth; google.auth.default()' >/dev/null 2>&1; then
  # The model upload uses the google-cloud-storage library, which reads ADC, not gcloud's own login.
  problem="no Application Default Credentials for the model upload: run: gcloud auth application-default login"
fi
if [[ -n $problem ]]; then
  dry || die "$problem"
  echo "warning: $problem"
fi

# --- 2. APIs ---

step "Enabling the APIs (no-op when already enabled)"
# run (the function is a Cloud Run service), cloudbuild + artifactregistry (a --source deploy builds
# the image and pushes it to cloud-run-source-deploy), storage (the model, the uploaded source), iam (the
# service account), logging (the function's logs and its log-based metrics), monitoring (alerts, the dashboard).
# The one change before the checks below: they read Cloud Run, which answers only once its API is on.
enable=(gcloud services enable run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com
  storage.googleapis.com iam.googleapis.com logging.googleapis.com monitoring.googleapis.com --project "$PROJECT")
show "${enable[@]}"
dry || explained "enable the APIs" "${enable[@]}"

step "Checking what is there before changing anything: the region, the service, an earlier canary"
rollout_preflight  # deploy/rollout.sh: exits with one sentence on a state the deploy cannot go on from

# --- 3. the model bucket ---

step "Creating the bucket gs://$BUCKET when missing"
show gcloud storage buckets describe "gs://$BUCKET" --project "$PROJECT" --format='value(name)'
if ! dry && gcloud storage buckets describe "gs://$BUCKET" --project "$PROJECT" --format='value(name)' >/dev/null 2>&1; then
  echo "gs://$BUCKET exists"
else
  # In the function's region (no cross-region traffic on a cold start); uniform bucket-level access, so
  # IAM alone decides who reads the models (no per-object ACLs).
  run gcloud storage buckets create "gs://$BUCKET" --project "$PROJECT" --location "$REGION" \
    --uniform-bucket-level-access ||
    die "could not create gs://$BUCKET (bucket names are global: if another project has it, pass --bucket NAME)"
fi

# --- 4. the model ---

step "Publishing the model $ARTIFACT to $MODEL_URI"
show "$PYTHON" -m training publish "$ARTIFACT" "$MODEL_URI"
if dry; then
  version="(dry run)"
else
  version=$("$PYTHON" -m training publish "$ARTIFACT" "$MODEL_URI") ||
    die "publishing the model failed (the message above says why); for credentials run: gcloud auth application-default login"
  echo "published model version $version; $MODEL_URI/current.json points at it"
fi

# --- 5. the function's identity ---

step "Service account $SERVICE_ACCOUNT, reader of gs://$BUCKET only"
show gcloud iam service-accounts describe "$SERVICE_ACCOUNT" --project "$PROJECT" --format='value(email)'
if ! dry && gcloud iam service-accounts describe "$SERVICE_ACCOUNT" --project "$PROJECT" --format='value(email)' >/dev/null 2>&1; then
  echo "$SERVICE_ACCOUNT exists"
else
  run gcloud iam service-accounts create "$SERVICE_ACCOUNT_ID" --project "$PROJECT" \
    --display-name "Penguin species function $FUNCTION_NAME" \
    --description "Runs the Cloud Function $FUNCTION_NAME; reads its models from gs://$BUCKET"
fi
# No project-wide role: read access to this one bucket is all the function needs (its logs are written
# by the platform, whatever the account may do).
grant=(gcloud storage buckets add-iam-policy-binding "gs://$BUCKET" --project "$PROJECT"
  "--member=serviceAccount:$SERVICE_ACCOUNT" --role=roles/storage.objectViewer --format=none)
show "${grant[@]}"
dry || retry 5 "${grant[@]}" || die "could not grant $SERVICE_ACCOUNT read access to gs://$BUCKET"

# --- 6. the function ---

if [[ $PUBLIC == true ]]; then
  access=--allow-unauthenticated
else
  access=--no-allow-unauthenticated
fi
step "Deploying $FUNCTION_NAME ($access; creates it, or a new revision of it)"
deploy_function() {  # deploy_function [--no-traffic --tag TAG]: builds function/ on BASE_IMAGE, deploys it
  local command=(gcloud run deploy "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION"
    --source function --function predict --base-image "$BASE_IMAGE" "$access"
    --service-account "$SERVICE_ACCOUNT" --memory "$MEMORY" --cpu "$CPU" --concurrency "$CONCURRENCY"
    --min-instances "$MIN_INSTANCES" --max-instances "$MAX_INSTANCES" --timeout "$TIMEOUT" --ingress all
    --set-env-vars "MODEL_URI=$MODEL_URI,MODEL_FALLBACK=bundled,MODEL_REFRESH_SECONDS=60,MODEL_EXPECTED_VERSION=$version,FUNCTION_USE_ASGI=$FUNCTION_USE_ASGI"
    "$@" --quiet --format=none)
  show "${command[@]}"
  dry || explained "deploy $FUNCTION_NAME" "${command[@]}"
}
rollout deploy_function  # deploy/rollout.sh: a canary when the function serves already, else one step

# --- 7. the URL ---

step "The function's URL"
function_url

# --- 8. smoke test ---

step "Smoke test: GET $url/health, POST $url/predict"
smoke_test

# --- 9. monitoring ---

if [[ $MONITORING == true ]]; then
  step "Monitoring: log-based metrics, alert policies, dashboard (monitoring/)"
  apply_monitoring
fi

if [[ -n $BIGQUERY_DATASET ]]; then
  # shellcheck source=/dev/null  # deploy/bigquery.sh, checked on its own (tests/repo/test_lint.py)
  source "$ROOT/deploy/bigquery.sh"
  bigquery_remote_function "$url"
fi

if dry; then
  printf '\nDry run: nothing was run. Without --dry-run this deploys %s to %s.\n' "$FUNCTION_NAME" "$PROJECT"
else
  printf '\nDeployed %s: %s (model %s, version %s)\n' "$FUNCTION_NAME" "$url" "$MODEL_URI" "$version"
fi
cat <<EOF
Call it:
  curl -H "Authorization: Bearer \$(gcloud auth print-identity-token)" -H 'Content-Type: application/json' \\
    $url/predict -d '$PENGUIN'
Publish a new model without redeploying (picked up within MODEL_REFRESH_SECONDS=60):
  $PYTHON -m training publish DIR $MODEL_URI
To remove it all (the function's Cloud Run service, the models and their bucket, the account):
  gcloud run services delete $FUNCTION_NAME --region $REGION --project $PROJECT --quiet
  gcloud storage rm --recursive gs://$BUCKET
  gcloud iam service-accounts delete $SERVICE_ACCOUNT --project $PROJECT --quiet
A --source deploy also keeps the built images in Artifact Registry (repository cloud-run-source-deploy,
shared by the region's source deploys) and the uploaded source in gs://run-sources-$PROJECT-$REGION:
  gcloud artifacts docker images list $REGION-docker.pkg.dev/$PROJECT/cloud-run-source-deploy/$FUNCTION_NAME
  gcloud storage ls gs://run-sources-$PROJECT-$REGION/services/$FUNCTION_NAME/
EOF
