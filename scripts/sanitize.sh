#!/usr/bin/env bash
# The compiled core built with AddressSanitizer and UndefinedBehaviorSanitizer, and the native tests
# run against it. Any sanitizer report ends the run with a non-zero status, as does a failing test.
# Extra arguments go to pytest.
source "$(dirname "$0")/_env.sh"
START=$SECONDS
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Two builds, not three (each takes minutes under the sanitizers): portable, which native.py
# imports first to ask the CPU, and the one native.py loads on this machine (RNNKIT_ISA included).
NATIVE="$(python -c 'from rnnkit.backends import native; print(native.module().ISA, *native.ISAS)')"
read -r LOADED ALL <<<"$NATIVE"
BUILT=(portable "$LOADED")

# A copy of the package whose compiled modules are the sanitized ones; PYTHONPATH puts it before
# the editable install's src/ on sys.path.
mkdir "$WORK/src"
cp -r src/rnnkit "$WORK/src/"
rm -f "$WORK"/src/rnnkit/_native_*.so
python scripts/_sanitize_build.py "$WORK/src/rnnkit" "${BUILT[@]}"
echo "built ${BUILT[*]} in $((SECONDS - START)) s"

# Python is not built with ASan, so its runtime is loaded first. Leaks are not checked: Python and
# torch keep allocations alive until exit by design.
sanitized=(env "PYTHONPATH=$WORK/src${PYTHONPATH:+:$PYTHONPATH}"
           "LD_PRELOAD=$("${CXX:-g++}" -print-file-name=libasan.so)"
           "ASAN_OPTIONS=detect_leaks=0:halt_on_error=1"
           "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

# The tests must load the sanitized modules, not the in-place ones.
"${sanitized[@]}" python - "$WORK" "${BUILT[@]}" <<'EOF'
import importlib, sys
from rnnkit.backends import native
work, built = sys.argv[1], sys.argv[2:]
modules = [native.module(), *(importlib.import_module(f"rnnkit._native_{isa}") for isa in built)]
for module in dict.fromkeys(modules):
    if not module.__file__.startswith(work):
        sys.exit(f"{module.__name__} loaded from {module.__file__}, not from the sanitized build")
    print(f"{module.__name__}: {module.__file__}")
EOF

tests=(tests/test_native.py tests/test_fuzz_native.py)
# A build left out cannot be imported: its own test goes with it.
keep=""
for isa in $ALL; do
    if [[ " ${BUILT[*]} " != *" $isa "* ]]; then
        keep+="${keep:+ and }not (test_every_instruction_set_the_cpu_has and $isa)"
    fi
done
pytest=(python -m pytest "${tests[@]}" ${keep:+-k "$keep"} "$@")
echo "+ ${sanitized[*]} $(printf '%q ' "${pytest[@]}")"
"${sanitized[@]}" "${pytest[@]}"
echo "sanitized build and tests: $((SECONDS - START)) s"
