#!/usr/bin/env bash
# Make the isolated venv for the peer benchmarks (Evidently and NannyML, see requirements.txt).
#
#     benchmarks/peers/setup.sh [VENV_DIR]      (default: benchmarks/peers/.venv)
#
# Never installs into the project's venv. Idempotent: a stamp file in the venv holds the
# requirements' hash, so a second run with everything installed returns at once.
# Set PEERS_PYTHON to choose the interpreter (it must be Python 3.11).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-$here/.venv}"
requirements="$here/requirements.txt"
stamp="$venv/.peers-requirements.sha256"
hash="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$hash" ]]; then
    echo "peers: up to date in $venv (python: $venv/bin/python)"
    exit 0
fi

find_python() {
    local candidate
    for candidate in "${PEERS_PYTHON:-}" python3.11 "$HOME/.pyenv/shims/python3.11" \
        /root/.pyenv/shims/python3.11 "$HOME"/.pyenv/versions/3.11*/bin/python3.11 \
        /usr/local/bin/python3.11 /usr/bin/python3.11; do
        [[ -n "$candidate" ]] || continue
        if "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (3, 11))' \
            >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if [[ ! -x "$venv/bin/python" ]]; then
    python="$(find_python)" || { echo "peers: no Python 3.11 with venv found" >&2; exit 1; }
    echo "peers: creating $venv with $("$python" -c 'import sys; print(sys.executable)')"
    "$python" -m venv "$venv"
fi
case "$("$venv/bin/python" -c 'import sys; print(sys.prefix)')" in
    "$(cd "$here/../.." && pwd)/.venv") echo "peers: refusing the project venv" >&2; exit 1 ;;
esac

echo "peers: installing $(grep -v '^#' "$requirements" | xargs) into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
"$venv/bin/python" -m pip check
DO_NOT_TRACK=1 NML_DISABLE_USAGE_LOGGING=1 "$venv/bin/python" -c 'import evidently, nannyml'
echo "$hash" >"$stamp"
echo "peers: installed in $venv (python: $venv/bin/python)"
