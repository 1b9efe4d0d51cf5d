"""Headless camera rendering for the simulated arm, and the pinhole intrinsics of MuJoCo cameras.

gym-hil's scene is tuned for an on-screen viewer: two shadow-casting lights with 4096-pixel shadow
maps, 8x multisampling, a floor drawn as a 0.01 m lighting grid and ~200k triangles of Panda and
Robotiq meshes. On a software OpenGL (Mesa llvmpipe, what ``MUJOCO_GL=egl`` gives a machine without a
GPU) a 128x128 frame costs vertex work, not pixels. ``HeadlessRenderer`` draws a render-only copy of
the model (the physics model is never changed) with:

- shadows off (``sim.render_shadows``) and no multisampling (``sim.render_msaa_samples``);
- an offscreen buffer the size of the image (no oversized framebuffer to clear and read back);
- per-camera frustum culling: geoms whose bounding sphere lies outside the camera's view are dropped
  from the scene before drawing. The picture is identical (those geoms cover no pixel), but the
  rasteriser skips their vertices; the wrist camera sees only the gripper;
- the floor's lighting grid at ``sim.render_floor_grid_m`` and the visual meshes' vertices merged per
  ``sim.render_mesh_cell_m`` cube (``robot_rl.sim.lod``): a 5 mm cell is below a pixel of the front
  camera (8 mm at the arm) and leaves ~50k of the 190k triangles.

Both cameras, 128x128, llvmpipe on this project's 2-core development machine (median CPU ms per frame,
which counts llvmpipe's threads and is steadier than wall time on a shared machine; measured by
``benchmarks/bench_sim.py --quick``, load average 5.5 when taken):

    settings                                  both   wrist   front
    gym-hil as shipped (shadows, 8x MSAA)     1107
    shadows off, no MSAA                        83      29      57
    + frustum culling                           73      15      54
    + floor grid 0.1 m                          57      11      46
    + meshes clustered at 5 mm (sim.*)          17       3      13

Culling helps only the wrist camera (the front one sees the whole arm). Against the as-shipped meshes
and floor, the mean pixel difference is 0.2-0.6 of 255 for the wrist camera (highest during the grasp)
and 0.3-0.5 for the front one. The node, the tests and ``benchmarks/bench_sim.py`` all render through
``HeadlessRenderer.from_config``, so the policy sees the same pixels in every one of them.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Mapping

import mujoco
import numpy as np
import numpy.typing as npt

from robot_rl.calibration.camera_info import CameraIntrinsics
from robot_rl.config.schema import SimConfig
from robot_rl.sim.lod import coarsen_planes, simplify_visual_meshes

# mjvGeom fields, copied when the culling pass compacts the scene's geom list.
_GEOM_FIELDS = ("type", "dataid", "objtype", "objid", "category", "matid", "texcoord", "segid", "size", "pos",
                "mat", "rgba", "emission", "specular", "shininess", "reflectance", "label", "camdist",
                "modelrbound", "transparent")


class HeadlessRenderer:
    """Renders named MuJoCo cameras into RGB arrays at ``size`` x ``size`` (see the module docstring)."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, cameras: Mapping[str, str], size: int,
                 shadows: bool = False, msaa_samples: int = 0, cull: bool = True, mesh_cell_m: float = 0.0,
                 floor_grid_m: float = 0.0) -> None:
        # A render-only copy: the settings below change what is drawn, never the physics model.
        self._model, self._data, self._cull = copy.deepcopy(model), data, cull
        model = self._model
        self._camera_ids: dict[str, int] = {}
        for name, mujoco_name in cameras.items():
            camera_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, mujoco_name)
            if camera_id < 0:
                known = [model.camera(i).name for i in range(model.ncam)]
                raise ValueError(f"camera {name!r} maps to MuJoCo camera {mujoco_name!r}, which the scene "
                                 f"lacks: choose one of {known} in sim.cameras")
            self._camera_ids[name] = camera_id
        # Everything below is read when the GL context is made (buffer, multisampling, meshes, plane grids).
        model.vis.quality.offsamples = msaa_samples
        model.vis.global_.offwidth = size
        model.vis.global_.offheight = size
        if not shadows:
            model.light_castshadow[:] = 0
        self.triangles = simplify_visual_meshes(model, mesh_cell_m)  # drawn meshes: (as shipped, drawn)
        coarsen_planes(model, floor_grid_m)
        self.size = size
        self._renderer = mujoco.Renderer(model, height=size, width=size)
        self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = int(shadows)

    @classmethod
    def from_config(cls, model: mujoco.MjModel, data: mujoco.MjData, cameras: Mapping[str, str], sim: SimConfig,
                    cull: bool = True) -> HeadlessRenderer:
        """The renderer with the ``sim.*`` settings: the one the node, the tests and the benchmark use."""
        return cls(model, data, cameras, sim.image_size, shadows=sim.render_shadows,
                   msaa_samples=sim.render_msaa_samples, cull=cull, mesh_cell_m=sim.render_mesh_cell_m,
                   floor_grid_m=sim.render_floor_grid_m)

    @property
    def camera_names(self) -> list[str]:
        return list(self._camera_ids)

    def intrinsics(self, name: str) -> CameraIntrinsics:
        return CameraIntrinsics.from_fovy(self.size, self.size, float(self._model.cam_fovy[self._camera_ids[name]]), name)

    def render(self, name: str) -> npt.NDArray[np.uint8]:
        """One camera's current view: (size, size, 3) uint8 RGB, row 0 at the top."""
        camera_id = self._camera_ids[name]
        self._renderer.update_scene(self._data, camera=camera_id)
        if self._cull:
            self._cull_outside_frustum(camera_id)
        return self._renderer.render()

    def render_all(self) -> dict[str, npt.NDArray[np.uint8]]:
        return {name: self.render(name) for name in self._camera_ids}

    def close(self) -> None:
        self._renderer.close()

    def _cull_outside_frustum(self, camera_id: int) -> None:
        """Drop geoms whose bounding sphere is entirely outside the camera's view (the picture is unchanged)."""
        scene = self._renderer.scene
        position = self._data.cam_xpos[camera_id]
        rotation = self._data.cam_xmat[camera_id].reshape(3, 3)
        tan_half = math.tan(math.radians(float(self._model.cam_fovy[camera_id])) / 2.0)  # square image
        norm = math.sqrt(1.0 + tan_half * tan_half)
        keep = []
        for i in range(scene.ngeom):
            geom = scene.geoms[i]
            radius = float(geom.modelrbound)
            if radius <= 0.0:  # planes, decor and non-model geoms: always drawn
                keep.append(i)
                continue
            # camera frame: x right, y up, looking along -z
            x, y, z = rotation.T @ (geom.pos - position)
            side = max(x, -x, y, -y)
            outside = z > radius or (side + tan_half * z) / norm > radius
            if not outside:
                keep.append(i)
        for target, source in enumerate(keep):
            if target != source:
                src, dst = scene.geoms[source], scene.geoms[target]
                for field_name in _GEOM_FIELDS:
                    setattr(dst, field_name, getattr(src, field_name))
        scene.ngeom = len(keep)
