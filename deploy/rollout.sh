# shellcheck shell=bash
# Safe rollouts for deploy.sh, which sources this file: on an existing function the new code goes out as a
# canary (pin the serving revision, deploy with no traffic, tag, validate, traffic in steps, roll back by
# itself on a breach); `deploy.sh rollback` and `deploy.sh status`. gcloud runs here; deploy/rollout.py
# makes the requests and reads what gcloud printed. docs/rollout.md describes it as a user sees it.
#
# A gen2 function is a Cloud Run service: `gcloud run services update-traffic` splits its traffic. With the
# split pinned (--to-revisions OLD=100), `gcloud functions deploy` keeps it, so the new revision starts at 0%.

CANARY="${CANARY:-true}"
CANARY_STEPS="${CANARY_STEPS:-10,50,100}"  # percent of traffic on the candidate, one observation window each
CANARY_INTERVAL="${CANARY_INTERVAL:-60}"   # seconds per observation window
ROLLBACK_TO="${ROLLBACK_TO:-}"
CANARY_TAG=candidate

# The canary's thresholds, each stated once: NAME|default|meaning. Each can be set in the environment;
# --dry-run prints them. docs/rollout.md says why each value.
CANARY_THRESHOLDS=(
  "CANARY_MIN_GOLDEN_ACCURACY|0.95|validation: share of golden/penguins.json (59 real penguins) answered with the species people recorded"
  "CANARY_BURST_REQUESTS|50|validation: predictions sent through the tagged URL in one burst..."
  "CANARY_BURST_CONCURRENCY|5|validation: ...this many at a time, with zero 5xx"
  "CANARY_BURST_MAX_P95_MS|1000|validation: the burst's p95 latency as the client sees it (network and a cold start included)"
  "CANARY_LOAD_RPS|5|each window: predictions per second sent through the function's URL, so the split has traffic to judge"
  "CANARY_LOG_DELAY|20|each window: seconds Cloud Logging gets to take in the window's request lines before they are read"
  "CANARY_MIN_REQUESTS|3|each window: fewer candidate request lines than this is no evidence, and fails"
  "CANARY_MAX_5XX_RATE|0.01|each window: the candidate's share of 5xx answers"
  "CANARY_MAX_P95_MS|500|each window: the candidate's p95 latency as the function logs it"
  "CANARY_MAX_P95_VS_STABLE|2|each window: the candidate's p95 at most this many times the stable revision's..."
  "CANARY_P95_SLACK_MS|25|each window: ...plus this (a millisecond-fast function's p95 doubles on noise alone)"
)
for threshold_entry in "${CANARY_THRESHOLDS[@]}"; do
  IFS='|' read -r threshold_name threshold_default _ <<<"$threshold_entry"
  export "$threshold_name=${!threshold_name:-$threshold_default}"
done

ROLLOUT_PY=deploy/rollout.py
ROLLOUT_STABLE=
ROLLOUT_CANDIDATE=
ROLLOUT_IN_FLIGHT=false
ROLLOUT_TAGGED=false
ROLLOUT_DIR=
SERVICE_URL=

canary_line() { printf '\n--> %s\n' "$*"; }
run_service() {  # run_service SUBCOMMAND ARGS...: a gcloud run services command on the function's service
  local subcommand=$1
  shift
  run gcloud run services "$subcommand" "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION" "$@"
}

capture() {  # capture FILE COMMAND...: print the command, run it, its output to FILE
  local file=$1
  shift
  show "$@"
  "$@" >"$file"
}

rollout_check_options() {
  [[ $CANARY == true || $CANARY == false ]] || usage_error "CANARY must be true or false; got '$CANARY'"
  [[ $CANARY_INTERVAL =~ ^[0-9]+$ ]] || usage_error "--canary-interval must be whole seconds; got '$CANARY_INTERVAL'"
  local percent previous=0
  IFS=, read -ra CANARY_PERCENTS <<<"$CANARY_STEPS"
  for percent in "${CANARY_PERCENTS[@]}"; do
    if [[ ! $percent =~ ^[0-9]+$ ]] || ((percent <= previous || percent > 100)); then
      usage_error "--canary-steps must be rising percents ending at 100, like 10,50,100; got '$CANARY_STEPS'"
    fi
    previous=$percent
  done
  ((previous == 100)) || usage_error "--canary-steps must end at 100; got '$CANARY_STEPS'"
}

rollout_tmp() {  # a private folder for what gcloud prints, removed at exit
  [[ -n $ROLLOUT_DIR ]] || ROLLOUT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rollout.XXXXXX")
}

rollout_token() {  # ROLLOUT_ID_TOKEN for the canary's requests to URL: ID_TOKEN, else gcloud's (never printed)
  if [[ -n ${ID_TOKEN:-} ]]; then
    ROLLOUT_ID_TOKEN=$ID_TOKEN
  else
    # A service account's token needs the URL as its audience; a user's token must not name one.
    ROLLOUT_ID_TOKEN=$(gcloud auth print-identity-token --audiences="$1" 2>/dev/null || gcloud auth print-identity-token) ||
      die "no identity token for the canary's requests: run: gcloud auth login (or set ID_TOKEN)"
  fi
  export ROLLOUT_ID_TOKEN
}

rollout_read_service() {  # SERVICE_EXISTS, STABLE_REVISION, FOLLOWS_LATEST, PINNED, SERVICE_URL, SERVING_SPLIT, STALE_CANDIDATE
  rollout_tmp
  local state
  capture "$ROLLOUT_DIR/services.json" gcloud run services list --project "$PROJECT" --region "$REGION" --format=json ||
    die "could not read the Cloud Run service of $FUNCTION_NAME (the message above says why)"
  state=$("$PYTHON" "$ROLLOUT_PY" service-state "$ROLLOUT_DIR/services.json" "$FUNCTION_NAME") || die "could not read the service's traffic"
  mapfile -t state <<<"$state"
  SERVICE_EXISTS=${state[0]} STABLE_REVISION=${state[1]:-} FOLLOWS_LATEST=${state[2]:-} PINNED=${state[3]:-}
  SERVICE_URL=${state[4]:-} SERVING_SPLIT=${state[5]:-} STALE_CANDIDATE=${state[6]:-}
}

rollout_print_thresholds() {
  local entry name meaning
  echo "Canary thresholds (set any in the environment; docs/rollout.md says why each value):"
  for entry in "${CANARY_THRESHOLDS[@]}"; do
    IFS='|' read -r name _ meaning <<<"$entry"
    printf '  %s=%s  %s\n' "$name" "${!name}" "$meaning"
  done
}

# --- deploy: a canary on an existing function ---

rollout() {  # rollout DEPLOY_FUNCTION: deploys through a canary when the function already serves, else in one step
  local deploy_function=$1
  rollout_check_options
  if dry; then
    rollout_dry_run "$deploy_function"
    return
  fi
  rollout_read_service
  if [[ $SERVICE_EXISTS != true || -z $STABLE_REVISION ]]; then
    echo "First deploy of $FUNCTION_NAME: nothing serves yet to compare with, so no canary (deploy, then the smoke test)."
    "$deploy_function"
  elif [[ $CANARY != true ]]; then
    echo "--no-canary: one step; the new revision gets 100% at once (serving now: $SERVING_SPLIT)"
    "$deploy_function"
    # A pinned split (a canary's end, a rollback) would carry over and leave the new revision at 0%.
    [[ $FOLLOWS_LATEST == true ]] || run_service update-traffic --to-latest --format=none ||
      die "could not move the traffic to the new revision"
  else
    canary "$deploy_function"
  fi
  rm -rf "$ROLLOUT_DIR"
}

canary() {
  local deploy_function=$1 percent start end report
  ROLLOUT_STABLE=$STABLE_REVISION
  canary_line "Canary: $FUNCTION_NAME serves from $SERVING_SPLIT; $ROLLOUT_STABLE keeps the traffic while the new revision is checked"
  [[ -z $STALE_CANDIDATE ]] ||
    echo "note: the tag $CANARY_TAG is still on $STALE_CANDIDATE (an interrupted rollout?); it moves to the new revision"
  if [[ $PINNED == true ]]; then
    echo "traffic is pinned to $ROLLOUT_STABLE already (100%): the deploy moves none"
  else
    run_service update-traffic --to-revisions "$ROLLOUT_STABLE=100" --format=none ||
      die "could not pin the traffic to $ROLLOUT_STABLE; nothing was deployed"
  fi
  ROLLOUT_IN_FLIGHT=true  # from here on, any exit puts the traffic back on the stable revision
  trap rollout_on_exit EXIT
  trap 'exit 130' INT TERM
  "$deploy_function"
  show gcloud run services describe "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION" \
    --format='value(status.latestCreatedRevisionName)'
  ROLLOUT_CANDIDATE=$(gcloud run services describe "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION" \
    --format='value(status.latestCreatedRevisionName)') || rollout_fail "could not read the new revision's name"
  [[ -n $ROLLOUT_CANDIDATE && $ROLLOUT_CANDIDATE != "$ROLLOUT_STABLE" ]] ||
    rollout_fail "the deploy made no new revision (the latest is still '$ROLLOUT_CANDIDATE')"
  echo "new revision $ROLLOUT_CANDIDATE, with 0% of the traffic"

  canary_line "Tagging $ROLLOUT_CANDIDATE '$CANARY_TAG': its own URL, still 0% of the traffic"
  capture "$ROLLOUT_DIR/tagged.json" gcloud run services update-traffic "$FUNCTION_NAME" --project "$PROJECT" \
    --region "$REGION" --update-tags "$CANARY_TAG=$ROLLOUT_CANDIDATE" --format=json || rollout_fail "could not tag $ROLLOUT_CANDIDATE"
  ROLLOUT_TAGGED=true
  local tag_url
  tag_url=$("$PYTHON" "$ROLLOUT_PY" tag-url "$CANARY_TAG" "$ROLLOUT_DIR/tagged.json") || rollout_fail "no URL for the tag"
  echo "tagged URL: $tag_url"
  rollout_token "$SERVICE_URL"

  canary_line "Validating $ROLLOUT_CANDIDATE through $tag_url (health, the seed's examples, the golden set, a burst)"
  "$PYTHON" "$ROLLOUT_PY" validate "$tag_url" | tee "$ROLLOUT_DIR/report.txt" || rollout_fail "validation of $ROLLOUT_CANDIDATE"

  for percent in "${CANARY_PERCENTS[@]}"; do
    if ((percent == 100)); then
      canary_line "Step: 100% on $ROLLOUT_CANDIDATE, tag removed; one more window at full traffic"
      run_service update-traffic --to-revisions "$ROLLOUT_CANDIDATE=100" --remove-tags "$CANARY_TAG" --format=none ||
        rollout_fail "could not move 100% to $ROLLOUT_CANDIDATE"
      ROLLOUT_TAGGED=false
    else
      canary_line "Step: $percent% on $ROLLOUT_CANDIDATE, $((100 - percent))% on $ROLLOUT_STABLE, for ${CANARY_INTERVAL}s"
      run_service update-traffic --to-revisions "$ROLLOUT_CANDIDATE=$percent,$ROLLOUT_STABLE=$((100 - percent))" \
        --format=none || rollout_fail "could not move $percent% to $ROLLOUT_CANDIDATE"
    fi
    start=$("$PYTHON" "$ROLLOUT_PY" now)
    "$PYTHON" "$ROLLOUT_PY" load "$SERVICE_URL" "$CANARY_INTERVAL"
    end=$("$PYTHON" "$ROLLOUT_PY" now)
    ((CANARY_LOG_DELAY == 0)) || { echo "  waiting ${CANARY_LOG_DELAY}s for Cloud Logging to take in the window"; sleep "$CANARY_LOG_DELAY"; }
    canary_read_window "$start" "$end"
    report="$ROLLOUT_DIR/window-$percent.txt"
    "$PYTHON" "$ROLLOUT_PY" window "$ROLLOUT_DIR/entries.json" "$ROLLOUT_CANDIDATE" "$ROLLOUT_STABLE" | tee "$report" ||
      { cp "$report" "$ROLLOUT_DIR/report.txt"; rollout_fail "the window at $percent% on $ROLLOUT_CANDIDATE"; }
  done
  ROLLOUT_IN_FLIGHT=false
  trap - EXIT INT TERM
  rm -rf "$ROLLOUT_DIR"
  canary_line "Canary passed: 100% on $ROLLOUT_CANDIDATE, no tag left. To go back: ./deploy.sh rollback (to $ROLLOUT_STABLE)"
}

canary_log_filter() {  # canary_log_filter START END: the service's request lines written in [START, END)
  printf '%s' "logName=\"projects/$PROJECT/logs/run.googleapis.com%2Fstdout\" AND resource.type=\"cloud_run_revision\"" \
    " AND resource.labels.service_name=\"$FUNCTION_NAME\" AND httpRequest.status>=100" \
    " AND timestamp>=\"$1\" AND timestamp<\"$2\""
}

canary_read_window() {  # the request lines of both revisions in the window, to entries.json
  capture "$ROLLOUT_DIR/entries.json" gcloud logging read "$(canary_log_filter "$1" "$2")" --project "$PROJECT" \
    --order=asc --limit=100000 --format=json || rollout_fail "could not read the request logs (gcloud logging read)"
}

rollout_fail() {  # rollout_fail WHAT: put the traffic back on the stable revision, say what failed, exit 1
  printf '\nCANARY FAILED: %s\n' "$1" >&2
  [[ ! -s ${ROLLOUT_DIR:-}/report.txt ]] || grep FAIL "$ROLLOUT_DIR/report.txt" >&2 || true
  rollout_back
  exit 1
}

rollout_on_exit() {  # EXIT trap while the canary is in flight: an error or ^C rolls back too
  local status=$?
  [[ $ROLLOUT_IN_FLIGHT != true ]] || { printf '\nCANARY STOPPED (exit %d)\n' "$status" >&2; rollout_back; }
  [[ -z $ROLLOUT_DIR ]] || rm -rf "$ROLLOUT_DIR"
  exit "$status"
}

rollout_back() {  # 100% on the stable revision, the tag removed
  ROLLOUT_IN_FLIGHT=false
  local untag=()
  [[ $ROLLOUT_TAGGED != true ]] || untag=(--remove-tags "$CANARY_TAG")
  canary_line "Rolling back: 100% on $ROLLOUT_STABLE${untag:+, tag $CANARY_TAG removed}"
  if run_service update-traffic --to-revisions "$ROLLOUT_STABLE=100" "${untag[@]}" --format=none; then
    echo "Rolled back: 100% of the traffic on $ROLLOUT_STABLE. The new revision ${ROLLOUT_CANDIDATE:-(none)} stays," \
      "with no traffic and no tag (./deploy.sh status lists it)." >&2
  else
    printf 'ROLLBACK FAILED: run: gcloud run services update-traffic %s --project %s --region %s --to-revisions %s=100\n' \
      "$FUNCTION_NAME" "$PROJECT" "$REGION" "$ROLLOUT_STABLE" >&2
  fi
}

rollout_dry_run() {  # the whole flow, with placeholders for what only gcloud can tell
  local deploy_function=$1 percent
  ROLLOUT_STABLE=SERVING_REVISION ROLLOUT_CANDIDATE=NEW_REVISION
  local url="https://$FUNCTION_NAME-PROJECT_NUMBER.$REGION.run.app" tag_url="https://$CANARY_TAG---$FUNCTION_NAME-PROJECT_NUMBER.$REGION.run.app"
  show gcloud run services list --project "$PROJECT" --region "$REGION" --format=json
  echo "A first deploy (no such service yet) skips the canary: it deploys in one step, then the smoke test."
  if [[ $CANARY != true ]]; then
    echo "--no-canary: on an existing function too, one step: deploy, then (when the traffic was pinned):"
    show gcloud run services update-traffic "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION" --to-latest --format=none
    "$deploy_function"
    return
  fi
  echo "On an existing function, a canary (SERVING_REVISION: the one serving now; NEW_REVISION: what this deploy makes):"
  rollout_print_thresholds
  canary_line "Pin: 100% on SERVING_REVISION, so the deploy moves none"
  run_service update-traffic --to-revisions "$ROLLOUT_STABLE=100" --format=none
  "$deploy_function"
  show gcloud run services describe "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION" \
    --format='value(status.latestCreatedRevisionName)'
  canary_line "Tag NEW_REVISION '$CANARY_TAG' (0% of the traffic): $tag_url"
  run_service update-traffic --update-tags "$CANARY_TAG=$ROLLOUT_CANDIDATE" --format=json
  canary_line "Validate through $tag_url with an identity token: /health not degraded, the seed's 3 examples, golden/penguins.json at >= $CANARY_MIN_GOLDEN_ACCURACY, $CANARY_BURST_REQUESTS requests with zero 5xx and p95 <= ${CANARY_BURST_MAX_P95_MS} ms"
  show "$PYTHON" "$ROLLOUT_PY" validate "$tag_url"
  for percent in "${CANARY_PERCENTS[@]}"; do
    if ((percent == 100)); then
      canary_line "Step: 100% on NEW_REVISION, tag removed, then a last window"
      run_service update-traffic --to-revisions "$ROLLOUT_CANDIDATE=100" --remove-tags "$CANARY_TAG" --format=none
    else
      canary_line "Step: $percent% on NEW_REVISION, $((100 - percent))% on SERVING_REVISION"
      run_service update-traffic --to-revisions "$ROLLOUT_CANDIDATE=$percent,$ROLLOUT_STABLE=$((100 - percent))" --format=none
    fi
    echo "  for ${CANARY_INTERVAL}s: $CANARY_LOAD_RPS predictions/s through $url; then ${CANARY_LOG_DELAY}s for Cloud Logging, and read the window:"
    show gcloud logging read "$(canary_log_filter START END)" --project "$PROJECT" --order=asc --limit=100000 --format=json
    echo "  breach when NEW_REVISION has < $CANARY_MIN_REQUESTS requests, a 5xx rate > $CANARY_MAX_5XX_RATE, a p95 > $CANARY_MAX_P95_MS ms, or > $CANARY_MAX_P95_VS_STABLE x SERVING_REVISION's p95 + $CANARY_P95_SLACK_MS ms"
  done
  canary_line "On any failure (validation, a window, an error, ^C): roll back, print what failed with its figures, exit 1"
  run_service update-traffic --to-revisions "$ROLLOUT_STABLE=100" --remove-tags "$CANARY_TAG" --format=none
  local seconds=$(((${#CANARY_PERCENTS[@]}) * (CANARY_INTERVAL + CANARY_LOG_DELAY)))
  echo "The canary takes about ${seconds}s after the deploy (${#CANARY_PERCENTS[@]} windows of ${CANARY_INTERVAL}s + ${CANARY_LOG_DELAY}s), plus the validation (seconds)."
}

# --- deploy.sh rollback, deploy.sh status ---

rollout_command() {  # rollout_command rollback|status
  [[ -n $PROJECT ]] || {
    show gcloud config get-value project
    PROJECT=$(gcloud config get-value project 2>/dev/null || true)
    [[ -n $PROJECT ]] || die "no project: pass --project PROJECT_ID, or run: gcloud config set project PROJECT_ID"
  }
  echo "project $PROJECT, region $REGION, function $FUNCTION_NAME"
  rollout_tmp
  trap 'rm -rf "$ROLLOUT_DIR"' EXIT
  local describe=(gcloud run services describe "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION" --format=json)
  local list=(gcloud run revisions list --service "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION" --format=json)
  if dry; then
    show "${describe[@]}"
    show "${list[@]}"
    SERVICE_URL="https://$FUNCTION_NAME-PROJECT_NUMBER.$REGION.run.app"
  else
    capture "$ROLLOUT_DIR/service.json" "${describe[@]}" ||
      die "could not read the Cloud Run service $FUNCTION_NAME (the message above says why)"
    capture "$ROLLOUT_DIR/revisions.json" "${list[@]}" || die "could not list the revisions of $FUNCTION_NAME"
    SERVICE_URL=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["status"]["url"])' "$ROLLOUT_DIR/service.json")
  fi
  "rollout_$1"
}

rollout_status() {
  if dry; then
    echo "Then, for each revision: created, ready, its traffic and tags, and GET /health through its URL (the model it serves)."
    show "$PYTHON" "$ROLLOUT_PY" status service.json revisions.json
    return
  fi
  rollout_token "$SERVICE_URL"
  echo "URL: $SERVICE_URL"
  "$PYTHON" "$ROLLOUT_PY" status "$ROLLOUT_DIR/service.json" "$ROLLOUT_DIR/revisions.json"
}

rollout_rollback() {
  local picked current target
  if dry; then
    current=SERVING_REVISION target=${ROLLBACK_TO:-PREVIOUS_REVISION}
    echo "$target: ${ROLLBACK_TO:+given by --to; }otherwise the newest ready revision created before SERVING_REVISION (the newest one with traffic)"
  else
    picked=$("$PYTHON" "$ROLLOUT_PY" rollback-target "$ROLLOUT_DIR/service.json" "$ROLLOUT_DIR/revisions.json" --to "$ROLLBACK_TO") ||
      exit 1
    mapfile -t picked <<<"$picked"
    current=${picked[0]} target=${picked[1]}
  fi
  canary_line "Rolling back $FUNCTION_NAME: 100% on $target (from $current), any $CANARY_TAG tag removed"
  local untag=()
  ! grep -q "\"tag\": \"$CANARY_TAG\"" "$ROLLOUT_DIR/service.json" 2>/dev/null || untag=(--remove-tags "$CANARY_TAG")
  run_service update-traffic --to-revisions "$target=100" "${untag[@]}" --format=none ||
    die "could not move the traffic to $target"
  canary_line "Smoke test: GET $SERVICE_URL/health and the seed's three examples"
  show "$PYTHON" "$ROLLOUT_PY" smoke "$SERVICE_URL"
  if dry; then
    printf '\nDry run: nothing was run.\n'
    return
  fi
  rollout_token "$SERVICE_URL"
  "$PYTHON" "$ROLLOUT_PY" smoke "$SERVICE_URL" || { printf 'SMOKE TEST FAILED after the rollback to %s\n' "$target" >&2; exit 1; }
  printf '\nRolled back %s: 100%% on %s (was %s). Back to the newer one: ./deploy.sh rollback --to %s\n' \
    "$FUNCTION_NAME" "$target" "$current" "$current"
}
