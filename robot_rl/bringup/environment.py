"""Environment defaults for a graph brought up by ``robot-rl``; a variable the user set always wins."""
from __future__ import annotations

import os
from collections.abc import Mapping

from robot_rl.bringup.paths import package_share

DEFAULTS = {
    # Keep discovery on this machine unless the user widens it (a lab network is shared).
    "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
    # Headless MuJoCo rendering (no display needed).
    "MUJOCO_GL": "egl",
    "PYOPENGL_PLATFORM": "egl",
    # Fast DDS: shared memory for large samples plus TCP instead of fragmented UDP. A 640x480 RGB
    # frame takes ~2 ms between processes with it, ~13 ms with the default transports. The launch
    # files set the same two variables (set_env), so ros2 launch gets them too.
    "FASTDDS_BUILTIN_TRANSPORTS": "LARGE_DATA",
    "FASTDDS_DEFAULT_PROFILES_FILE": str(package_share() / "launch" / "fastdds_profile.xml"),
    # Unbuffered output so node logs interleave in time order on the console.
    "PYTHONUNBUFFERED": "1",
}


def graph_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    for key, value in DEFAULTS.items():
        env.setdefault(key, value)
    return env
