#!/usr/bin/env bash
# One-step setup: a virtual environment in .venv with moresprudentie and everything it needs.
#   bash scripts/setup.sh          # to use the app and the CLI
#   bash scripts/setup.sh --dev    # also the test and lint tools
# Environment: PYTHON (interpreter, default python3.11 or python3 ≥ 3.11), VENV (default .venv),
# TORCH_SPEC (default torch==2.13.0; elsewhere pass a CPU build, see README "Installing elsewhere").
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[[ "${1:-}" == "--dev" ]] && extras="[dev]"
venv="${VENV:-.venv}"
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      python="$candidate"; break
    fi
  done
fi
[[ -n "$python" ]] || { echo "setup: Python 3.11 or newer is needed; set PYTHON=/path/to/python3.11" >&2; exit 2; }

if [[ ! -x "$venv/bin/python" ]]; then
  echo "setup: creating $venv with $python"
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install --disable-pip-version-check --quiet)
"${pip[@]}" --upgrade pip
# torch first and pinned: an unpinned torch (pulled in by sentence-transformers) can be a multi-GB CUDA build.
"${pip[@]}" "${TORCH_SPEC:-torch==2.13.0}"
"${pip[@]}" -e ".${extras}"
# Deduce (name detection) builds its lookup cache on first use (over a minute): do it once, here.
"$venv/bin/moresprudentie" check --warm-up >/dev/null
echo "setup: ready ($("$venv/bin/moresprudentie" --version) in $venv)"
