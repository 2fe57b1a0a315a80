# Shared by scripts/start and scripts/test: find a Python >= 3.11 and make .venv with it.
VENV="${PRODREADY_VENV:-.venv}"
ensure_venv() {
    if [ -x "$VENV/bin/python" ]; then return; fi
    local py=""
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            py="$candidate"; break
        fi
    done
    if [ -z "$py" ]; then
        echo "prodready needs Python 3.11 or newer; install it and run this again." >&2
        exit 1
    fi
    echo "Creating $VENV with $py..."
    "$py" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
}
