#!/usr/bin/env bash
# scripts/venv.sh VENV REQUIREMENTS...: create VENV when missing and install the pinned requirements into it;
# with EDITABLE=DIR, then the project at DIR in editable mode without dependencies (they are the pins above).
# uv does it in about a second where pip takes half a minute; uv is taken from PATH, else installed once
# into .tools/uv from the package registry; when uv cannot be had (or fails), pip does the same job.
set -euo pipefail
UV_VERSION=0.13.8
venv=$1
shift
python=${PYTHON:-python3}
tools=.tools

find_uv() {
  if command -v uv >/dev/null 2>&1; then
    command -v uv
  elif [[ -x $tools/uv/bin/uv ]]; then
    echo "$tools/uv/bin/uv"
  else
    # Straight into a folder with the interpreter's own pip: a venv for it would cost more (ensurepip)
    # than everything uv then does.
    echo "installing uv $UV_VERSION into $tools/uv (once; pip is used if this fails)" >&2
    if "$python" -m pip install --quiet --disable-pip-version-check --target "$tools/uv" "uv==$UV_VERSION" >&2; then
      echo "$tools/uv/bin/uv"
    fi
  fi
}

# Bytecode at install time: this machine sets PYTHONDONTWRITEBYTECODE, so a venv without it compiles every
# module it imports on every start (pandas, scikit-learn and xgboost: 10.6 s to import instead of 3.2 s;
# the function's own set: 1.5 s instead of 0.7 s), and each test that starts a process pays that again.
export UV_COMPILE_BYTECODE=1

requirements=()
for file in "$@"; do requirements+=(-r "$file"); done
editable=${EDITABLE:-}

uv=$(find_uv || true)
if [[ -n $uv ]]; then
  [[ -x $venv/bin/python ]] || "$uv" venv --quiet --python "$python" "$venv"
  if "$uv" pip install --quiet --python "$venv/bin/python" "${requirements[@]}" &&
    { [[ -z $editable ]] || "$uv" pip install --quiet --python "$venv/bin/python" --no-deps -e "$editable"; }; then
    exit 0
  fi
  echo "uv could not install ${*}; trying pip" >&2
fi
[[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
[[ -x $venv/bin/pip ]] || "$venv/bin/python" -m ensurepip --upgrade >/dev/null  # a venv made by uv has no pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --compile "${requirements[@]}"
if [[ -n $editable ]]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$editable"
fi
