#!/usr/bin/env bash
# Installs everything robot_rl needs on a pip-only machine (no ROS install) into .venv at the repo root.
#
#   scripts/install.sh                        # torch 2.13.0, CPU build (what CI uses)
#   ROBOT_RL_TORCH=cuda scripts/install.sh    # torch 2.13.0 with CUDA, for robots and learners with a GPU
#   ROBOT_RL_TORCH_INDEX=URL scripts/install.sh   # take torch from another index (e.g. PyTorch's CPU index)
#
# Idempotent: a second run checks a stamp and returns in about a second when nothing changed.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
torch_flavor="${ROBOT_RL_TORCH:-cpu}"
torch_version="2.13.0"
stamp="$venv/.robot_rl_installed"
log() { printf '[install] %s\n' "$*" >&2; }

apt_packages=(
  libusb-1.0-0     # pyrealsense2
  libegl1          # headless MuJoCo rendering through EGL ...
  libegl-mesa0     # ... with Mesa's software (llvmpipe) or GPU driver
  libgl1-mesa-dri
  libglvnd0
)

install_apt_packages() {
  local missing=()
  for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

fingerprint() {
  # Everything whose change must trigger a reinstall.
  cat "$repo/requirements.txt" "$repo/requirements-core.txt" "$repo/setup.py" "$repo/setup.cfg" "$repo/scripts/install.sh"
  echo "torch=$torch_version-$torch_flavor-${ROBOT_RL_TORCH_INDEX:-}"
}

install_python_packages() {
  if [ ! -x "$venv/bin/python" ]; then
    local python="${PYTHON:-python3.11}"
    command -v "$python" >/dev/null || { log "error: $python not found; robot_rl needs Python 3.11 (the ROS 2 Kilted wheels are built for it)"; exit 1; }
    log "creating virtual environment in $venv"
    "$python" -m venv "$venv"
  fi
  local pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
  local torch_index=()
  [ -n "${ROBOT_RL_TORCH_INDEX:-}" ] && torch_index=(--index-url "$ROBOT_RL_TORCH_INDEX")
  case "$torch_flavor" in
    # This workplace's pip finds the CPU build on local disk; elsewhere point ROBOT_RL_TORCH_INDEX at a CPU index.
    cpu|cuda) "${pip[@]}" "torch==$torch_version" "${torch_index[@]}" ;;
    *) log "error: ROBOT_RL_TORCH must be 'cpu' or 'cuda', not '$torch_flavor'"; exit 1 ;;
  esac
  "${pip[@]}" -r "$repo/requirements.txt"
  "${pip[@]}" --no-deps -e "$repo"
}

install_apt_packages
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(fingerprint | sha256sum)" ]; then
  log "up to date ($venv)"
  exit 0
fi
install_python_packages
fingerprint | sha256sum > "$stamp"
log "done: $venv"
