#!/usr/bin/env bash
# Install everything (scripts/install.sh) and run the main job: the whole graph on the simulated arm.
#   scripts/sim.sh [--duration SECONDS] [overrides:="sim.seed=3 robot.control_hz=20"]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/install.sh"
cd "$repo"
exec "$repo/.venv/bin/robot-rl" sim "$@"
