#!/usr/bin/env bash
# The system tools the tests drive, installed from Debian's packages when missing: Chromium (the page's
# browser tests, through Playwright; never a browser from `playwright install`), Node (its fetch is one
# of the real clients) and curl (the README's examples); `scripts/test-tools.sh wrk` installs the load
# generator `make bench` drives. Without root it stops with the command to run.
set -euo pipefail
declare -A package_of=([/usr/bin/chromium]=chromium [node]=nodejs [curl]=curl [wrk]=wrk)
tools=("$@")
((${#tools[@]})) || tools=(/usr/bin/chromium node curl)
missing=()
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${package_of[$tool]}")
done
((${#missing[@]})) || exit 0

install=(apt-get install -y -qq "${missing[@]}")
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "This needs ${missing[*]}. Install them, then run make again:" >&2
  echo "  sudo apt-get update && sudo ${install[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} (apt-get, once)" >&2
log=$(mktemp)
if ! { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive "${install[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "could not install ${missing[*]}; run: sudo apt-get update && sudo ${install[*]}" >&2
  exit 1
fi
rm -f "$log"
