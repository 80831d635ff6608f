# shellcheck shell=bash
# Checks of deploy.sh's option values, sourced by deploy.sh and run before any gcloud call: each value is
# held to the rule Google Cloud applies to it, and a refusal says what is allowed (exit 2, like a bad flag).

# memory_mib SIZE: the size in MiB (rounded up), or nothing when SIZE is not a size Cloud Run accepts:
# a number with the unit M, G (powers of ten) or Mi, Gi (powers of two), e.g. 512Mi, 1Gi, 1.5G.
memory_mib() {
  [[ $1 =~ ^([0-9]+(\.[0-9]+)?)(Mi|Gi|M|G)$ ]] || return 0
  awk -v n="${BASH_REMATCH[1]}" -v unit="${BASH_REMATCH[3]}" 'BEGIN {
    factor = (unit == "Mi") ? 1 : (unit == "Gi") ? 1024 : (unit == "M") ? 1e6 / 1048576 : 1e9 / 1048576
    mib = n * factor; whole = int(mib); if (whole < mib) whole++; print whole }'
}

# cpu_millis CPU: the CPUs in thousandths, or nothing when CPU is not a value Cloud Run accepts
# (a fraction from 0.083 to 1, or 1, 2, 4, 6 or 8).
cpu_millis() {
  [[ $1 =~ ^(0?\.[0-9]+|[0-9]+(\.[0-9]+)?)$ ]] || return 0
  awk -v cpu="$1" 'BEGIN { m = cpu * 1000; if (m >= 83 && m <= 1000 && m == int(m)) print m;
    else if (m == 2000 || m == 4000 || m == 6000 || m == 8000) print m }'
}

# The least CPU Cloud Run requires for a memory size (in thousandths of a CPU), from its documented table.
min_cpu_millis_for() {
  local mib=$1
  if ((mib > 24576)); then echo 8000
  elif ((mib > 16384)); then echo 6000
  elif ((mib > 8192)); then echo 4000
  elif ((mib > 4096)); then echo 2000
  elif ((mib > 1024)); then echo 1000
  elif ((mib > 512)); then echo 583
  elif ((mib > 256)); then echo 333
  elif ((mib > 128)); then echo 167
  else echo 83
  fi
}

check_options() {
  local name mib millis
  for name in CONCURRENCY MIN_INSTANCES MAX_INSTANCES SMOKE_RETRIES; do
    [[ ${!name} =~ ^[0-9]+$ ]] || usage_error "$name must be a whole number; got '${!name}'"
  done
  ((MAX_INSTANCES >= 1)) || usage_error "--max-instances must be at least 1; got $MAX_INSTANCES"
  ((MIN_INSTANCES <= MAX_INSTANCES)) ||
    usage_error "--min-instances ($MIN_INSTANCES) is above --max-instances ($MAX_INSTANCES)"
  ((CONCURRENCY >= 1 && CONCURRENCY <= 1000)) ||
    usage_error "--concurrency must be from 1 to 1000 requests per instance; got $CONCURRENCY"
  [[ $PUBLIC == true || $PUBLIC == false ]] || usage_error "PUBLIC must be true or false; got '$PUBLIC'"
  [[ $DRY_RUN == true || $DRY_RUN == false ]] || usage_error "DRY_RUN must be true or false; got '$DRY_RUN'"
  [[ $FUNCTION_USE_ASGI == true || $FUNCTION_USE_ASGI == false ]] ||
    usage_error "FUNCTION_USE_ASGI must be true or false; got '$FUNCTION_USE_ASGI'"
  # A runtime id (python311) or an image (REGION-docker.pkg.dev/serverless-runtimes/google-22-full/runtimes/python311)
  [[ $BASE_IMAGE =~ ^python3[0-9]{2}$ || $BASE_IMAGE =~ ^[a-z0-9][a-z0-9./_-]*/[a-z0-9._-]+(:[A-Za-z0-9._-]+)?$ ]] ||
    usage_error "--base-image must be a runtime like python311 or python312, or a base image path; got '$BASE_IMAGE'"

  mib=$(memory_mib "$MEMORY")
  [[ -n $mib ]] ||
    usage_error "--memory must be a size with a unit, like 512Mi, 1Gi or 2G (Mi/Gi powers of two, M/G of ten); got '$MEMORY'"
  ((mib >= 128 && mib <= 32768)) || usage_error "--memory must be from 128Mi to 32Gi; got '$MEMORY'"
  millis=$(cpu_millis "$CPU")
  [[ -n $millis ]] ||
    usage_error "--cpu must be a fraction from 0.083 to 1, or 1, 2, 4, 6 or 8; got '$CPU'"
  local needed
  needed=$(min_cpu_millis_for "$mib")
  ((millis >= needed)) ||
    usage_error "--memory $MEMORY needs at least $(awk -v m="$needed" 'BEGIN { print m / 1000 }') CPU (--cpu); got $CPU"
  ((CONCURRENCY == 1 || millis >= 1000)) ||
    usage_error "--concurrency above 1 needs at least 1 CPU (--cpu 1); got --cpu $CPU with --concurrency $CONCURRENCY"
  local seconds=0
  [[ ! $TIMEOUT =~ ^([0-9]+)s?$ ]] || seconds=$((10#${BASH_REMATCH[1]}))
  ((seconds >= 1 && seconds <= 3600)) ||
    usage_error "--timeout must be from 1s to 3600s (an HTTP function's limit), e.g. 60s; got '$TIMEOUT'"

  # Project ids: 6-30 lowercase letters, digits or hyphens, from a letter, not ending in a hyphen.
  [[ -z $PROJECT || $PROJECT =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] ||
    usage_error "--project must be a project ID (6-30 lowercase letters, digits or hyphens, starting with a letter; not the display name); got '$PROJECT'"
  [[ $REGION =~ ^[a-z]+(-[a-z]+)+[0-9]+$ ]] ||
    usage_error "--region must be a Google Cloud region like europe-west1 or us-central1; got '$REGION'"
  # A 2nd gen function is a Cloud Run service: its name follows that service's rules.
  [[ $FUNCTION_NAME =~ ^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$ ]] ||
    usage_error "--name must be 1-49 lowercase letters, digits or hyphens, starting with a letter and not ending in a hyphen; got '$FUNCTION_NAME'"
  [[ -z $BUCKET ]] || check_bucket_name "$BUCKET"
  [[ $MODEL_PREFIX =~ ^[A-Za-z0-9._/-]*$ && $MODEL_PREFIX != *..* ]] ||
    usage_error "--prefix may hold letters, digits, '.', '_', '-' and '/', and no '..'; got '$MODEL_PREFIX'"
}

check_bucket_name() {  # the bucket naming rules of Cloud Storage (a name is global, and part of the model's URI)
  local bucket=$1 rule="3-63 lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
  [[ $bucket =~ ^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$ ]] || usage_error "--bucket must be $rule; got '$bucket'"
  [[ $bucket != *..* && $bucket != *.-* && $bucket != *-.* ]] ||
    usage_error "--bucket may not have '..', '.-' or '-.' in it; got '$bucket'"
  [[ ! $bucket =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || usage_error "--bucket may not look like an IP address; got '$bucket'"
  [[ $bucket != goog* && $bucket != *google* && $bucket != *g00gle* ]] ||
    usage_error "--bucket may not start with 'goog' or contain 'google'; got '$bucket'"
}
