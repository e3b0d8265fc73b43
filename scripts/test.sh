#!/usr/bin/env bash
# Quick start, command 2: set up, then lint and run the test suite.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k incremental`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
