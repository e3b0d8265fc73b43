#!/usr/bin/env bash
# Quick start, command 2: set up, then lint and run the test suite in two tiers — the fast tier
# (`-m "not slow"`, at most 60 s) first, then the slow tier (training, conversion, QEMU,
# servers) — and print how long each step took. Extra arguments go to pytest in both tiers,
# e.g. `scripts/test.sh -k incremental`. Both tiers run even if the first fails; the exit
# status is the first failure's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

timings=()
step_start=$SECONDS
timed() {  # timed LABEL: record the seconds since the last step under LABEL
    timings+=("$(printf '%-44s %4d s' "$1" $((SECONDS - step_start)))")
    step_start=$SECONDS
}

"$ROOT/scripts/setup.sh"
timed "setup"
.venv/bin/ruff check .
timed "lint"

# Whole test files per worker, so that module fixtures (a trained model, built firmware) are
# built once. One worker more than cores: the QEMU, server and damaged-link tests spend most
# of their time waiting on timeouts, and the extra worker uses that core meanwhile. At most
# 4 (each worker may import the frameworks, ~1 GB). TEST_WORKERS=N overrides, 1 = no xdist.
workers="${TEST_WORKERS:-$(( $(nproc) + 1 ))}"
(( workers > 4 )) && [ -z "${TEST_WORKERS:-}" ] && workers=4
parallel=()
how="1 process"
if (( workers > 1 )) && .venv/bin/python -c "import xdist" 2>/dev/null; then
    parallel=(-n "$workers" --dist loadfile)
    how="$workers workers"
fi

status=0
tier() {  # tier LABEL MARK ARGS...: run one tier; exit code 5 (nothing selected) is fine
    local label="$1" mark="$2" code=0
    shift 2
    .venv/bin/python -m pytest -m "$mark" "${parallel[@]}" --durations=10 "$@" || code=$?
    if (( code != 0 && code != 5 && status == 0 )); then status=$code; fi
    timed "$label ($how)"
}
tier "fast tier: -m 'not slow'" "not slow" "$@"
tier "slow tier: -m slow" "slow" "$@"

echo "--- test.sh timings ---"
printf '%s\n' "${timings[@]}"
printf '%-44s %4d s\n' "total" "$SECONDS"
exit "$status"
