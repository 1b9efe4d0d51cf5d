#!/usr/bin/env bash
# Install everything (scripts/install.sh) and run the test suite, then the type check.
#   scripts/test.sh [pytest arguments]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/install.sh"
cd "$repo"
"$repo/.venv/bin/python" -m pytest "$@"
"$repo/.venv/bin/python" -m mypy robot_rl benchmarks
