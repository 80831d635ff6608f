# shellcheck shell=bash
# gcloud failures explained, sourced by deploy.sh: `explained WHAT COMMAND...` runs a gcloud command with
# its output shown as it comes, and on a failure says in one sentence what went wrong and what to do
# (a missing permission names it, a failed build gives its log link), then exits 1.

explained() {  # explained WHAT COMMAND...: run it; on a failure, one sentence and exit 1
  local what=$1 errors
  shift
  errors=$(mktemp "${TMPDIR:-/tmp}/gcloud-errors.XXXXXX")
  # stderr through tee: the user sees gcloud's progress live, and the failure's text is kept to read.
  if { "$@" 2>&1 >&3 3>&- | tee "$errors" >&2 3>&-; } 3>&1; then
    rm -f "$errors"
    return 0
  fi
  local sentence
  sentence=$(gcloud_failure "$what" "$errors")
  rm -f "$errors"
  printf 'error: %s\n' "$sentence" >&2
  exit 1
}

gcloud_failure() {  # gcloud_failure WHAT FILE: the sentence for gcloud's error text in FILE
  local what=$1 text permission link
  text=$(cat "$2")
  if [[ $text == *"Build failed"* || $text == *"build failed"* ]]; then
    if [[ $text =~ [Ll]ogs\ are\ available\ at\ \[([^]]+)\] ]]; then
      link=${BASH_REMATCH[1]}
    else  # gcloud shows the link only on a terminal: ask Cloud Build for the service's newest build
      link=$(gcloud builds list --project "$PROJECT" --region "$REGION" --filter="tags=service_$FUNCTION_NAME" \
        --sort-by=~createTime --limit=1 --format='value(logUrl)' 2>/dev/null) || link=
      link=${link:-"(not found: gcloud builds list --region $REGION)"}
    fi
    printf 'the build of function/ on %s failed, so nothing was deployed: its log is at %s (a package in function/requirements.txt that does not install on that Python is the usual cause)' \
      "${BASE_IMAGE:-the base image}" "$link"
  elif [[ $text == *PERMISSION_DENIED* || $text == *"HTTPError 403"* || $text == *"does not have permission"* ]]; then
    permission=a permission
    [[ ! $text =~ [Pp]ermission\ \'([a-z]+\.[A-Za-z.]+)\' ]] || permission="the permission ${BASH_REMATCH[1]}"
    [[ ! $text =~ \'([a-z]+\.[a-zA-Z]+\.[a-zA-Z]+)\'\ denied ]] || permission="the permission ${BASH_REMATCH[1]}"
    printf 'could not %s: your account lacks %s in project %s (HTTP 403); ask an owner of the project for a role that holds it (docs/rollout.md lists the roles a deploy needs), then run ./deploy.sh again' \
      "$what" "$permission" "${PROJECT:-?}"
  elif [[ $text == *SERVICE_DISABLED* || $text == *"has not been used in project"* ]]; then
    printf 'could not %s: an API it needs is not enabled in project %s; run ./deploy.sh again (it enables them), or: gcloud services enable run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com --project %s' \
      "$what" "${PROJECT:-?}" "${PROJECT:-?}"
  else
    printf 'could not %s (gcloud'\''s message is above)' "$what"
  fi
}
