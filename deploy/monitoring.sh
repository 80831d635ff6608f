# shellcheck shell=bash
# Monitoring as code, sourced by deploy.sh: the log-based metrics, alert policies and dashboard in
# monitoring/, with the project's values and the thresholds of monitoring/thresholds.env (each
# overridable by an environment variable of the same name) filled in wherever ${NAME} appears.
# Created when missing, updated in place when present (metrics by name, policies and the dashboard by
# display name), so running it again changes nothing but what the files changed.
# Uses deploy.sh's show, run, dry and die, and its PROJECT, FUNCTION_NAME, ALERT_EMAIL and NOTIFICATION_CHANNEL.

MONITORING_DIR="$ROOT/monitoring"
THRESHOLD_NAMES=()
export NOTIFICATION_CHANNELS="[]"  # a YAML list, filled into the alert policies (read by name in fill_definition)

load_thresholds() {  # the defaults of thresholds.env, unless the environment names a value already
  local line name
  THRESHOLD_NAMES=()
  while IFS= read -r line; do
    [[ $line =~ ^([A-Z][A-Z0-9_]*)=(.*)$ ]] || continue
    name=${BASH_REMATCH[1]}
    THRESHOLD_NAMES+=("$name")
    [[ -n ${!name:-} ]] || printf -v "$name" '%s' "${BASH_REMATCH[2]}"
  done <"$MONITORING_DIR/thresholds.env"
}

fill_definition() {  # fill_definition FILE: its text with each known ${NAME} replaced by its value
  local text name
  text=$(<"$1")
  for name in PROJECT FUNCTION_NAME NOTIFICATION_CHANNELS "${THRESHOLD_NAMES[@]}"; do
    text=${text//"\${$name}"/${!name}}
  done
  printf '%s\n' "$text"
}

definition_field() {  # definition_field KEY FILE: the value of a top-level "KEY: value" line
  sed -n "s/^$1: //p" "$2" | head -n 1
}

existing_id() {  # existing_id DISPLAY_NAME LISTING: the name of the listed resource with that display name
  awk -F '\t' -v wanted="$1" '$2 == wanted { print $1; exit }' <<<"$2"
}

notification_channel() {  # sets NOTIFICATION_CHANNELS: the given channel, or an email channel found or made
  local channel=${NOTIFICATION_CHANNEL:-} content
  if [[ -z $channel && -n ${ALERT_EMAIL:-} ]]; then
    local find=(gcloud alpha monitoring channels list --project "$PROJECT"
      "--filter=type=\"email\" AND labels.email_address=\"$ALERT_EMAIL\"" --format='value(name)')
    show "${find[@]}"
    dry || channel=$("${find[@]}" | head -n 1) || die "could not list the notification channels"
    if [[ -z $channel ]]; then
      content=$(printf '{"type": "email", "displayName": "%s alerts: %s", "labels": {"email_address": "%s"}}' \
        "$FUNCTION_NAME" "$ALERT_EMAIL" "$ALERT_EMAIL")
      local create=(gcloud alpha monitoring channels create --project "$PROJECT" "--channel-content=$content"
        --format='value(name)')
      show "${create[@]}"
      if dry; then
        channel="projects/$PROJECT/notificationChannels/(new)"
      else
        channel=$("${create[@]}") || die "could not create an email notification channel for $ALERT_EMAIL"
      fi
    fi
  fi
  if [[ -n $channel ]]; then
    NOTIFICATION_CHANNELS="[\"$channel\"]"
    echo "alerts notify $channel"
  else
    echo "alerts notify nobody (pass --alert-email ADDRESS or --notification-channel NAME to be told)"
  fi
}

apply_definition() {  # apply_definition KIND FILE LISTING: create or update one filled definition
  local kind=$1 file=$2 existing=$3 id
  if dry; then sed 's/^/    | /' "$file"; fi
  case $kind in
    metric)
      id=$(definition_field name "$file")
      if grep -qxF "$id" <<<"$existing"; then
        run gcloud logging metrics update "$id" --project "$PROJECT" --config-from-file "$file" --format=none
      else
        run gcloud logging metrics create "$id" --project "$PROJECT" --config-from-file "$file" --format=none
      fi ;;
    policy)
      id=$(existing_id "$(definition_field displayName "$file")" "$existing")
      if [[ -n $id ]]; then
        run gcloud alpha monitoring policies update "$id" --project "$PROJECT" --policy-from-file "$file" --format=none
      else
        run gcloud alpha monitoring policies create --project "$PROJECT" --policy-from-file "$file" --format=none
      fi ;;
    dashboard)
      id=$(existing_id "$(definition_field displayName "$file")" "$existing")
      if [[ -n $id ]]; then
        run gcloud monitoring dashboards update "$id" --project "$PROJECT" --config-from-file "$file" --format=none
      else
        run gcloud monitoring dashboards create --project "$PROJECT" --config-from-file "$file" --format=none
      fi ;;
  esac
}

LISTING=
list_existing() {  # list_existing COMMAND...: sets LISTING to its output (nothing in a dry run)
  show "$@"
  LISTING=
  dry || LISTING=$("$@") || die "could not list the existing monitoring resources ($*)"
}

apply_monitoring() {
  local work file filled name
  load_thresholds
  echo "thresholds (monitoring/thresholds.env; override with environment variables of the same name):"
  for name in "${THRESHOLD_NAMES[@]}"; do printf '  %s=%s\n' "$name" "${!name}"; done
  notification_channel
  work=$(mktemp -d)
  list_existing gcloud logging metrics list --project "$PROJECT" --format='value(name)'
  for file in "$MONITORING_DIR"/metrics/*.yaml; do
    filled="$work/metric-${file##*/}"
    fill_definition "$file" >"$filled"
    apply_definition metric "$filled" "$LISTING" || { rm -rf "$work"; die "could not apply $file"; }
  done
  list_existing gcloud alpha monitoring policies list --project "$PROJECT" --format='value(name,displayName)'
  for file in "$MONITORING_DIR"/alerts/*.yaml; do
    if [[ ${file##*/} == no_traffic.yaml && $NO_TRAFFIC_PERIOD =~ ^0+s?$ ]]; then
      echo "no-traffic alert off (NO_TRAFFIC_PERIOD=$NO_TRAFFIC_PERIOD; set it, e.g. 3600s, when traffic is expected)"
      continue
    fi
    filled="$work/alert-${file##*/}"
    fill_definition "$file" >"$filled"
    apply_definition policy "$filled" "$LISTING" || { rm -rf "$work"; die "could not apply $file"; }
  done
  list_existing gcloud monitoring dashboards list --project "$PROJECT" --format='value(name,displayName)'
  filled="$work/dashboard.yaml"
  fill_definition "$MONITORING_DIR/dashboard.yaml" >"$filled"
  apply_definition dashboard "$filled" "$LISTING" || { rm -rf "$work"; die "could not apply the dashboard"; }
  rm -rf "$work"
  echo "monitoring applied: https://console.cloud.google.com/monitoring/dashboards?project=$PROJECT"
}
