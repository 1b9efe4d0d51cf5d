"""The simulated arm (gym-hil's MuJoCo Panda pick-cube task) behind the robot interface, rendered headless.

Importing this package selects headless OpenGL (``MUJOCO_GL=egl``) unless the user chose otherwise;
MuJoCo reads the variable when it is first imported, so this has to come before any ``import mujoco``.
"""
import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa" if os.environ["MUJOCO_GL"] == "osmesa" else "egl")

from robot_rl.sim.rendering import CameraIntrinsics, HeadlessRenderer  # noqa: E402

__all__ = ["CameraIntrinsics", "HeadlessRenderer"]
