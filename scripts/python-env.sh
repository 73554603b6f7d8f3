#!/usr/bin/env bash
# Creates or refreshes the Python virtual environment for the interoperability tests at
# .cache/python, with the packages pinned in test/python/requirements.txt (from PyPI), and
# prints the path of its python. Idempotent: when the venv already holds exactly these
# requirements (a stamp file keeps a hash of them), it only prints the path.
# Diagnostics go to stderr so that `py=$(scripts/python-env.sh)` captures the path alone.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.cache/python"
requirements="$root/test/python/requirements.txt"
python="$venv/bin/python"
stamp="$venv/.nightjar-requirements"

base_python=${NIGHTJAR_PYTHON:-python3}
if ! command -v "$base_python" >/dev/null 2>&1; then
  echo "python-env: $base_python not found; install Python 3.9+ (e.g. apt-get install python3 python3-venv)" >&2
  exit 1
fi

# The stamp records the requirements and the base interpreter: a change of either rebuilds.
wanted="$(sha256sum "$requirements" | cut -d' ' -f1) $("$base_python" -c 'import sys; print(sys.version.split()[0])')"
if [[ -x "$python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
  echo "$python"
  exit 0
fi

# Concurrent test runs may both get here: one at a time builds the venv.
mkdir -p "$root/.cache"
exec 9>"$root/.cache/python.lock"
flock 9
if [[ -x "$python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
  echo "$python"
  exit 0
fi

echo "python-env: creating $venv ($("$base_python" --version 2>&1))" >&2
rm -rf "$venv"
if ! "$base_python" -m venv "$venv" >&2; then
  echo "python-env: '$base_python -m venv' failed; install the venv module (e.g. apt-get install python3-venv)" >&2
  exit 1
fi
"$python" -m pip install --quiet --disable-pip-version-check --no-input --only-binary=:all: -r "$requirements" >&2
echo "$wanted" > "$stamp"
echo "python-env: installed $(tr '\n' ' ' < <(grep -v '^#' "$requirements" | grep -v '^$'))" >&2
echo "$python"
