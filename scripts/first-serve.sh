#!/usr/bin/env bash
# scripts/first-serve.sh: how long a newcomer waits: a fresh clone's first `make serve`, timed to its
# first answer, as on a machine without uv and with empty package caches (the packages still come from
# the registry). Prints the seconds; the README's figure comes from this.
set -euo pipefail
port=${PORT:-8155}
python=$(python3 -c 'import sys; print(sys.executable)')
dir=$(mktemp -d /tmp/first-serve.XXXX)
git clone -q "$(cd "$(dirname "$0")/.." && pwd)" "$dir/repo"
mkdir "$dir/bin"
ln -s "$python" "$dir/bin/python3"  # python3 alone on PATH: no uv to be found
body='{"bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181, "body_mass_g": 3750, "island": "Torgersen"}'
cd "$dir/repo"
start=$(date +%s.%N)
env PATH="$dir/bin:/usr/local/bin:/usr/bin:/bin" UV_CACHE_DIR="$dir/uv-cache" PIP_NO_CACHE_DIR=1 \
  XDG_CACHE_HOME="$dir/cache" setsid make serve PORT="$port" >"$dir/serve.log" 2>&1 &
serve=$!
trap 'kill -- -$serve 2>/dev/null || true' EXIT
deadline=$((SECONDS + 300))
until curl -sf -o /dev/null http://127.0.0.1:"$port"/predict -H 'Content-Type: application/json' -d "$body"; do
  ((SECONDS < deadline)) || { cat "$dir/serve.log" >&2; echo "no answer in 300 s" >&2; exit 1; }
  sleep 0.1
done
awk -v start="$start" -v end="$(date +%s.%N)" 'BEGIN { printf "first make serve answered after %.1f s\n", end - start }'
