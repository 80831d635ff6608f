# shellcheck shell=bash
# Safe rollouts for deploy.sh, which sources this file: before anything changes, the checks of what is
# there (the region, a service Cloud Functions manages, a half-finished canary); on an existing function
# the new code goes out as a canary (a revision with no traffic and a tag, validated, then traffic in
# steps, rolled back by itself on a breach); `deploy.sh rollback` and `deploy.sh status`. gcloud runs
# here; deploy/rollout.py makes the requests and reads what gcloud printed. docs/rollout.md describes it.
#
# Verify, never assume: after every deploy and every traffic change the service's status.traffic is read
# back (once the service has reconciled) and compared with what was asked; a difference stops the rollout.

CANARY="${CANARY:-true}"
CANARY_STEPS="${CANARY_STEPS:-10,50,100}"  # percent of traffic on the candidate, one observation window each
CANARY_INTERVAL="${CANARY_INTERVAL:-60}"   # seconds per observation window
ROLLBACK_TO="${ROLLBACK_TO:-}"
CANARY_TAG=candidate
# A traffic change shows in status.traffic once the service has reconciled (status.observedGeneration
# catches up with metadata.generation): usually seconds; this is how long deploy.sh waits for it.
TRAFFIC_SETTLE_SECONDS="${TRAFFIC_SETTLE_SECONDS:-60}"

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
ROLLOUT_PREVIOUS=  # the split before the deploy, rev=percent,...: what a rollback restores
ROLLOUT_IN_FLIGHT=false
ROLLOUT_TAGGED=false
ROLLOUT_DIR=
SERVICE_URL=

canary_line() { printf '\n--> %s\n' "$*"; }
update_traffic() {  # update_traffic WHAT ARGS...: gcloud run services update-traffic on the function's service
  local what=$1
  shift
  local command=(gcloud run services update-traffic "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION" "$@" --format=none)
  show "${command[@]}"
  dry || explained "$what" "${command[@]}"
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
  [[ $TRAFFIC_SETTLE_SECONDS =~ ^[0-9]+$ ]] ||
    usage_error "TRAFFIC_SETTLE_SECONDS must be whole seconds; got '$TRAFFIC_SETTLE_SECONDS'"
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

rollout_token() {  # ROLLOUT_ID_TOKEN for requests to the service URL and its tags: ID_TOKEN, else gcloud's (never printed)
  if [[ -n ${ID_TOKEN:-} ]]; then
    ROLLOUT_ID_TOKEN=$ID_TOKEN
  else
    # One token for the service URL and the candidate's tag URL: its audience is the SERVICE's URL, which Cloud
    # Run documents as accepted (a tag URL as an audience is not documented). A service account can mint it;
    # a user's token cannot name an audience (gcloud's own), and Cloud Run accepts it from a run.invoker.
    ROLLOUT_ID_TOKEN=$(gcloud auth print-identity-token --audiences="$1" 2>/dev/null || gcloud auth print-identity-token 2>/dev/null) ||
      die "no identity token for the requests to $1: gcloud auth print-identity-token failed with --audiences=$1 (a service account) and without it (a user), so run gcloud auth login (or activate a service account), or set ID_TOKEN to a token whose audience is $1"
  fi
  export ROLLOUT_ID_TOKEN
}

rollout_read_service() {  # SERVICE_EXISTS, STABLE_REVISION, FOLLOWS_LATEST, SERVICE_URL, SERVING_SPLIT, STALE_CANDIDATE, MANAGED_BY_FUNCTIONS, ROLLOUT_PREVIOUS
  rollout_tmp
  local state list=(gcloud run services list --project "$PROJECT" --region "$REGION" --format=json)
  show "${list[@]}"
  explained "read the Cloud Run services of $REGION" "${list[@]}" >"$ROLLOUT_DIR/services.json"
  state=$("$PYTHON" "$ROLLOUT_PY" service-state "$ROLLOUT_DIR/services.json" "$FUNCTION_NAME") || die "could not read the service's traffic"
  mapfile -t state <<<"$state"
  SERVICE_EXISTS=${state[0]} STABLE_REVISION=${state[1]:-} FOLLOWS_LATEST=${state[2]:-}
  SERVICE_URL=${state[4]:-} SERVING_SPLIT=${state[5]:-} STALE_CANDIDATE=${state[6]:-}
  MANAGED_BY_FUNCTIONS=${state[7]:-false} ROLLOUT_PREVIOUS=${state[8]:-}
}

# --- before anything changes: the states a deploy cannot go on from, each one sentence and exit 1 ---

rollout_preflight() {
  rollout_check_options
  local regions=(gcloud run regions list --project "$PROJECT" --format='value(locationId)')
  if dry; then
    show "${regions[@]}"
    show gcloud run services list --project "$PROJECT" --region "$REGION" --format=json
    echo "Stops here, before anything changes, when $REGION has no Cloud Run, when $FUNCTION_NAME was made by"
    echo "gcloud functions deploy (Cloud Functions manages it), or when an earlier canary left its '$CANARY_TAG' tag."
    echo "On an existing function, the canary's identity token (its audience: the service URL), or a stop here without one:"
    show gcloud auth print-identity-token "--audiences=https://$FUNCTION_NAME-PROJECT_NUMBER.$REGION.run.app"
    return
  fi
  local available
  show "${regions[@]}"
  available=$(explained "list the regions of Cloud Run" "${regions[@]}") || exit 1
  [[ $'\n'$available$'\n' == *$'\n'$REGION$'\n'* ]] ||
    die "Cloud Run does not run in $REGION for project $PROJECT: pass --region with one of: $(echo "$available" | paste -sd' ')"
  rollout_read_service
  if [[ $MANAGED_BY_FUNCTIONS == true ]]; then
    die "$FUNCTION_NAME was made by gcloud functions deploy, so Cloud Functions manages its Cloud Run service, and deploy.sh now deploys through Cloud Run (gcloud run deploy --function): either detach it, which cannot be undone and keeps its URL (gcloud functions detach $FUNCTION_NAME --region $REGION --project $PROJECT), then run ./deploy.sh again, or deploy beside it under a new name (./deploy.sh --name $FUNCTION_NAME-run) and delete the old function once the new one serves."
  fi
  if [[ -n $STALE_CANDIDATE ]]; then
    die "the tag $CANARY_TAG is still on $STALE_CANDIDATE, so an earlier canary did not finish (the traffic now: $SERVING_SPLIT): put the traffic back and remove the tag with ./deploy.sh rollback (or: gcloud run services update-traffic $FUNCTION_NAME --region $REGION --project $PROJECT --remove-tags $CANARY_TAG), then run ./deploy.sh again."
  fi
  if [[ $SERVICE_EXISTS == true ]]; then
    echo "$FUNCTION_NAME serves from $SERVING_SPLIT; no canary left over, not managed by Cloud Functions"
    # The canary's requests need an identity token: without one, stop here, before anything changes.
    if [[ $CANARY == true && -n $STABLE_REVISION ]]; then
      rollout_token "$SERVICE_URL"
      echo "the canary's identity token: $([[ -n ${ID_TOKEN:-} ]] && echo "ID_TOKEN's" || echo "minted by gcloud for $SERVICE_URL")"
    fi
  else
    echo "no service $FUNCTION_NAME in $REGION yet: the deploy creates it"
  fi
}

# --- verify, never assume: the service's status.traffic against what was asked ---

verify_traffic() {  # verify_traffic SPLIT TAGS: wait until the service has reconciled, then compare its traffic
  local deadline=$((SECONDS + TRAFFIC_SETTLE_SECONDS)) verdict describe
  describe=(gcloud run services describe "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION" --format=json)
  show "${describe[@]}"
  while :; do
    "${describe[@]}" >"$ROLLOUT_DIR/service.json" || return 1
    verdict=0
    "$PYTHON" "$ROLLOUT_PY" traffic-check "$ROLLOUT_DIR/service.json" "$1" "$2" || verdict=$?
    ((verdict == 3 && SECONDS < deadline)) || return "$verdict"
    sleep 2
  done
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
  if dry; then
    rollout_dry_run "$deploy_function"
    return
  fi
  if [[ $SERVICE_EXISTS != true || -z $STABLE_REVISION ]]; then
    echo "First deploy of $FUNCTION_NAME: nothing serves yet to compare with, so no canary (deploy, then the smoke test)."
    "$deploy_function"
    canary_line "Checking that the new revision has all the traffic"
    verify_traffic LATEST=100 "" || die "the deploy did not end as asked (all traffic on the new revision): see the line above"
  elif [[ $CANARY != true ]]; then
    echo "--no-canary: one step; the new revision gets 100% at once (serving now: $SERVING_SPLIT)"
    "$deploy_function"
    # A pinned split (a canary's end, a rollback) stays pinned through a deploy: move it to the new revision.
    [[ $FOLLOWS_LATEST == true ]] || update_traffic "move the traffic to the new revision" --to-latest
    canary_line "Checking that the new revision has all the traffic"
    verify_traffic LATEST=100 "" || die "the deploy did not end as asked (all traffic on the new revision): see the line above"
  else
    canary "$deploy_function"
  fi
  rm -rf "$ROLLOUT_DIR"
}

canary() {
  local deploy_function=$1 percent start end report
  ROLLOUT_STABLE=$STABLE_REVISION
  canary_line "Canary: $FUNCTION_NAME serves from $SERVING_SPLIT; the new revision is made with no traffic, tagged $CANARY_TAG"
  ROLLOUT_IN_FLIGHT=true  # from here on, any exit puts the previous split back
  ROLLOUT_TAGGED=true
  trap rollout_on_exit EXIT
  trap 'exit 130' INT TERM
  "$deploy_function" --no-traffic --tag "$CANARY_TAG"
  canary_line "Checking the traffic: still $SERVING_SPLIT, the new revision at 0% with the tag $CANARY_TAG"
  local verdict=0
  verify_traffic "$ROLLOUT_PREVIOUS" "$CANARY_TAG=LATEST" || verdict=$?
  ROLLOUT_CANDIDATE=$("$PYTHON" "$ROLLOUT_PY" latest "$ROLLOUT_DIR/service.json") || rollout_fail "could not read the new revision's name"
  ((verdict == 0)) || rollout_fail "the deploy moved traffic it was told not to move"
  [[ -n $ROLLOUT_CANDIDATE && $ROLLOUT_CANDIDATE != "$ROLLOUT_STABLE" ]] ||
    rollout_fail "the deploy made no new revision (the latest is still '$ROLLOUT_CANDIDATE')"
  local tag_url
  tag_url=$("$PYTHON" "$ROLLOUT_PY" tag-url "$CANARY_TAG" "$ROLLOUT_DIR/service.json") || rollout_fail "no URL for the tag"
  echo "new revision $ROLLOUT_CANDIDATE, 0% of the traffic (read back), tagged URL: $tag_url"

  canary_line "Validating $ROLLOUT_CANDIDATE through $tag_url (the token for $SERVICE_URL accepted, health, the seed's examples, the golden set, a burst)"
  verdict=0
  "$PYTHON" "$ROLLOUT_PY" validate "$tag_url" "$SERVICE_URL" | tee "$ROLLOUT_DIR/report.txt" || verdict=$?
  if ((verdict == 4)); then  # the tag's URL refused the token: that sentence is the whole story
    local sentence
    sentence=$(sed -n 's/^ *FAIL //p' "$ROLLOUT_DIR/report.txt")
    rm -f "$ROLLOUT_DIR/report.txt"
    rollout_fail "$sentence"
  fi
  ((verdict == 0)) || rollout_fail "validation of $ROLLOUT_CANDIDATE"

  for percent in "${CANARY_PERCENTS[@]}"; do
    if ((percent == 100)); then
      canary_line "Step: 100% on $ROLLOUT_CANDIDATE, tag removed; one more window at full traffic"
      update_traffic "move 100% to $ROLLOUT_CANDIDATE" --to-revisions "$ROLLOUT_CANDIDATE=100" --remove-tags "$CANARY_TAG"
      ROLLOUT_TAGGED=false
      verify_traffic "$ROLLOUT_CANDIDATE=100" "" || rollout_fail "the step to 100% did not end as asked"
    else
      canary_line "Step: $percent% on $ROLLOUT_CANDIDATE, $((100 - percent))% on $ROLLOUT_STABLE, for ${CANARY_INTERVAL}s"
      update_traffic "move $percent% to $ROLLOUT_CANDIDATE" \
        --to-revisions "$ROLLOUT_CANDIDATE=$percent,$ROLLOUT_STABLE=$((100 - percent))"
      verify_traffic "$ROLLOUT_CANDIDATE=$percent,$ROLLOUT_STABLE=$((100 - percent))" "$CANARY_TAG=$ROLLOUT_CANDIDATE" ||
        rollout_fail "the step to $percent% did not end as asked"
    fi
    rollout_token "$SERVICE_URL"  # afresh each window: an ID token lives an hour, long windows outlast it
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
  canary_line "Canary passed: 100% on $ROLLOUT_CANDIDATE (read back), no tag left. To go back: ./deploy.sh rollback (to $ROLLOUT_STABLE)"
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

rollout_fail() {  # rollout_fail WHAT: put the previous split back, say what failed, exit 1
  printf '\nCANARY FAILED: %s\n' "$1" >&2
  [[ ! -s ${ROLLOUT_DIR:-}/report.txt ]] || grep FAIL "$ROLLOUT_DIR/report.txt" >&2 || true
  rollout_back
  exit 1
}

rollout_on_exit() {  # EXIT trap while the canary is in flight: an error or ^C rolls back too
  local status=$?
  [[ $ROLLOUT_IN_FLIGHT != true ]] || { printf '\nCANARY STOPPED (exit %d)\n' "$status" >&2; rollout_back; }
  [[ -z $ROLLOUT_DIR ]] || rm -rf "$ROLLOUT_DIR"
  exit "$((status == 0 ? 1 : status))"
}

rollout_back() {  # the split from before the deploy, the tag removed, and read back
  ROLLOUT_IN_FLIGHT=false
  local untag=() previous=${ROLLOUT_PREVIOUS:-$ROLLOUT_STABLE=100}
  [[ $ROLLOUT_TAGGED != true ]] || untag=(--remove-tags "$CANARY_TAG")
  canary_line "Rolling back: ${previous//,/, } as before the deploy${untag:+, tag $CANARY_TAG removed}"
  local command=(gcloud run services update-traffic "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION"
    --to-revisions "$previous" "${untag[@]}" --format=none)
  show "${command[@]}"
  if "${command[@]}" && verify_traffic "$previous" ""; then
    echo "Rolled back: ${previous//,/, } of the traffic (read back), as before the deploy. The new revision" \
      "${ROLLOUT_CANDIDATE:-(if one was made)} stays, with no traffic and no tag (./deploy.sh status lists it)." >&2
  else
    printf 'ROLLBACK NOT CONFIRMED: run: gcloud run services update-traffic %s --project %s --region %s --to-revisions %s --remove-tags %s\n' \
      "$FUNCTION_NAME" "$PROJECT" "$REGION" "$previous" "$CANARY_TAG" >&2
  fi
}

rollout_dry_run() {  # the whole flow, with placeholders for what only gcloud can tell
  local deploy_function=$1 percent
  ROLLOUT_STABLE=SERVING_REVISION ROLLOUT_CANDIDATE=NEW_REVISION
  local url="https://$FUNCTION_NAME-PROJECT_NUMBER.$REGION.run.app" tag_url="https://$CANARY_TAG---$FUNCTION_NAME-PROJECT_NUMBER.$REGION.run.app"
  local describe=(gcloud run services describe "$FUNCTION_NAME" --project "$PROJECT" --region "$REGION" --format=json)
  echo "A first deploy (no such service yet) skips the canary: it deploys in one step, reads the traffic back"
  echo "(all of it on the new revision), then the smoke test:"
  "$deploy_function"
  show "${describe[@]}"
  if [[ $CANARY != true ]]; then
    echo "--no-canary: on an existing function too, one step: deploy (as above), then when the traffic was pinned:"
    update_traffic "move the traffic to the new revision" --to-latest
    show "${describe[@]}"
    return
  fi
  echo "On an existing function, a canary (SERVING_REVISION: the one serving now; NEW_REVISION: what this deploy makes):"
  rollout_print_thresholds
  canary_line "Deploy NEW_REVISION with no traffic and the tag $CANARY_TAG (its own URL: $tag_url)"
  "$deploy_function" --no-traffic --tag "$CANARY_TAG"
  canary_line "Read the traffic back: the split as before, NEW_REVISION at 0% with the tag; anything else stops here"
  show "${describe[@]}"
  canary_line "Validate through $tag_url with the identity token minted for $url (refused: stop, one sentence): /health not degraded, the seed's 3 examples, golden/penguins.json at >= $CANARY_MIN_GOLDEN_ACCURACY, $CANARY_BURST_REQUESTS requests with zero 5xx and p95 <= ${CANARY_BURST_MAX_P95_MS} ms"
  show "$PYTHON" "$ROLLOUT_PY" validate "$tag_url" "$url"
  for percent in "${CANARY_PERCENTS[@]}"; do
    if ((percent == 100)); then
      canary_line "Step: 100% on NEW_REVISION, tag removed, read back, then a last window"
      update_traffic "" --to-revisions "$ROLLOUT_CANDIDATE=100" --remove-tags "$CANARY_TAG"
    else
      canary_line "Step: $percent% on NEW_REVISION, $((100 - percent))% on SERVING_REVISION, read back"
      update_traffic "" --to-revisions "$ROLLOUT_CANDIDATE=$percent,$ROLLOUT_STABLE=$((100 - percent))"
    fi
    show "${describe[@]}"
    echo "  for ${CANARY_INTERVAL}s: $CANARY_LOAD_RPS predictions/s through $url; then ${CANARY_LOG_DELAY}s for Cloud Logging, and read the window:"
    show gcloud logging read "$(canary_log_filter START END)" --project "$PROJECT" --order=asc --limit=100000 --format=json
    echo "  breach when NEW_REVISION has < $CANARY_MIN_REQUESTS requests, a 5xx rate > $CANARY_MAX_5XX_RATE, a p95 > $CANARY_MAX_P95_MS ms, or > $CANARY_MAX_P95_VS_STABLE x SERVING_REVISION's p95 + $CANARY_P95_SLACK_MS ms"
  done
  canary_line "On any failure (traffic not as asked, validation, a window, an error, ^C): the split from before back, read back, what failed with its figures, exit 1"
  update_traffic "" --to-revisions "$ROLLOUT_STABLE=100" --remove-tags "$CANARY_TAG"
  show "${describe[@]}"
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
  update_traffic "move the traffic to $target" --to-revisions "$target=100" "${untag[@]}"
  if ! dry; then
    verify_traffic "$target=100" "" || die "the rollback to $target did not end as asked: see the line above"
  fi
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
