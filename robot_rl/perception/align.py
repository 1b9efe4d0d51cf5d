"""Depth aligned to the color camera: each depth pixel re-projected into the color image.

Done here in numpy rather than with ``rs.align`` because ``rs.align`` needs a synchronized frameset
from ``rs.syncer``, which does not pair frames from a ``software_device`` (the test device), and one
code path for hardware, recordings and tests is worth a few milliseconds per frame. Each depth pixel
is deprojected with the depth intrinsics, moved by the depth-to-color extrinsics, projected with the
color intrinsics (distortion ignored: D400 depth has none and color is near-pinhole), and the nearest
depth wins where several land on one color pixel. Color pixels no depth pixel lands on read 0 (no data),
as in realsense-ros.
"""
from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from robot_rl.perception.camera_info import CameraIntrinsics
from robot_rl.perception.image import check_image


def align_depth_to_color(
    depth: npt.NDArray[np.uint16],
    depth_intrinsics: CameraIntrinsics,
    color_intrinsics: CameraIntrinsics,
    rotation: npt.ArrayLike,
    translation_m: npt.ArrayLike,
    depth_units_m: float,
) -> npt.NDArray[np.uint16]:
    """Depth (HdxWd uint16, in depth units) -> depth at the color image's pixels (HcxWc uint16, same units).

    ``rotation`` (3x3, or 9 values column-major as librealsense stores them) and ``translation_m`` take a
    point from the depth camera's frame to the color camera's.
    """
    check_image(depth, channels=None, dtype=np.uint16, height=depth_intrinsics.height,
                width=depth_intrinsics.width, what="depth image")
    r = np.asarray(rotation, dtype=np.float32)
    r = r.reshape(3, 3, order="F") if r.shape == (9,) else r.reshape(3, 3)
    t = np.asarray(translation_m, dtype=np.float32).reshape(3)
    di = depth_intrinsics
    xn, yn = _rays(di.width, di.height, di.fx, di.fy, di.cx, di.cy)
    z = depth.astype(np.float32) * np.float32(depth_units_m)
    x, y = xn * z, yn * z
    xc = r[0, 0] * x + r[0, 1] * y + r[0, 2] * z + t[0]
    yc = r[1, 0] * x + r[1, 1] * y + r[1, 2] * z + t[1]
    zc = r[2, 0] * x + r[2, 1] * y + r[2, 2] * z + t[2]
    ci = color_intrinsics
    valid = (depth > 0) & (zc > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        uc = np.rint(xc / zc * np.float32(ci.fx) + np.float32(ci.cx))
        vc = np.rint(yc / zc * np.float32(ci.fy) + np.float32(ci.cy))
    valid &= (uc >= 0) & (uc < ci.width) & (vc >= 0) & (vc < ci.height)
    flat = vc[valid].astype(np.int64) * ci.width + uc[valid].astype(np.int64)
    no_data = np.iinfo(np.uint16).max
    out = np.full(ci.width * ci.height, no_data, dtype=np.uint16)
    np.minimum.at(out, flat, depth[valid])
    out[out == no_data] = 0
    return out.reshape(ci.height, ci.width)


@functools.lru_cache(maxsize=8)
def _rays(width: int, height: int, fx: float, fy: float, cx: float,
          cy: float) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Per depth pixel, x/z and y/z of the ray through it (fixed for given intrinsics, so computed once)."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float32)
    return (u - np.float32(cx)) / np.float32(fx), (v - np.float32(cy)) / np.float32(fy)
