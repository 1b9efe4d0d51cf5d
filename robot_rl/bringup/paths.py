"""Where the package's files and executables are: a source checkout, a pip install or a colcon install."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

PACKAGE = "robot_rl"
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def package_share(package: str = PACKAGE) -> Path:
    """The share directory of ``package``: the checkout for robot_rl from source, else the ament index."""
    if package == PACKAGE and (_SOURCE_ROOT / "package.xml").is_file():
        return _SOURCE_ROOT
    for prefix in _ament_prefixes():
        share = prefix / "share" / package
        if (prefix / "share" / "ament_index" / "resource_index" / "packages" / package).is_file():
            return share
    raise FileNotFoundError(f"package {package!r} not found: source its workspace (install/setup.bash) "
                            f"or set AMENT_PREFIX_PATH")


def find_executable(package: str, name: str) -> Path | None:
    """The executable ``name`` of ``package`` as ``ros2 run`` would find it (lib/<package>/), else on PATH."""
    for prefix in _ament_prefixes():
        candidate = prefix / "lib" / package / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    # pip installs console scripts next to the interpreter.
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    return Path(found) if found else None


def _ament_prefixes() -> list[Path]:
    return [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
