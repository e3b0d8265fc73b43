#!/usr/bin/env bash
# Quick start, command 1: set up, then run the default scenario to its report.
# Extra arguments go to doit, e.g. `scripts/run.sh scenario=digits-keras-native report`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
if [ "$#" -eq 0 ]; then set -- report; fi
.venv/bin/doit "$@"
echo "report: $ROOT/build/$(.venv/bin/python -c 'from kenning_tasks.scenario_files import DEFAULT_SCENARIO as d; print(d)')/report/report.html" >&2
