# Sourced by the other scripts: make sure .venv holds rnnkit and its test tools.
# torch is installed first, pinned to the CPU build this project is developed with; the project
# itself asks only for a range (torch>=2.4) that this version satisfies.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RNNKIT_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
STAMP="$VENV/.rnnkit-installed"
# Reinstall (and so recompile the C++ core) whenever the build inputs change.
WANT="$(cat "$ROOT/pyproject.toml" "$ROOT/setup.py" "$ROOT"/src/rnnkit/csrc/*.* "$ROOT"/src/rnnkit/csrc/cells/*.h \
        | sha256sum | cut -c1-16)"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet "torch==2.13.0"
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[test]"
    echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
