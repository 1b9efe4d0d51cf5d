"""Level of detail for headless rendering: coarser visual meshes and floor grid in a render-only model copy.

On a software renderer (Mesa llvmpipe) the cost of a 128x128 frame is vertex work, not pixels: the
Panda's visual meshes hold ~200k triangles and the floor plane is drawn as a lighting grid of
thousands of quads. Both are far finer than a pixel of the cameras, so:

- ``simplify_visual_meshes`` merges the vertices of each visual mesh that fall in the same
  ``cell_m`` cube (vertex clustering) and drops the triangles that collapse. The kept triangles use
  one original vertex per cell, so vertices, normals and the mesh's frame stay as compiled.
- ``coarsen_planes`` sets the spacing of the grid MuJoCo draws planes with (a plane's third size;
  it only serves per-vertex lighting, the checker comes from the texture).

Both edit a copy of the model that only the renderer uses: the physics model, its collision meshes
and its inertias are untouched, and the copy keeps every array size, so it renders the physics
``MjData`` as is. Both must run before the GL context is made (MuJoCo uploads meshes and plane grids
into it once).
"""
from __future__ import annotations

import mujoco
import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int32]

VISUAL_GROUPS = (0, 1, 2)  # geom groups MuJoCo draws by default (3+ hold collision geoms here)


def cluster_faces(vertices: npt.NDArray[np.floating], faces: IntArray, cell_m: float) -> IntArray:
    """The triangles of a mesh with its vertices merged per ``cell_m`` cube: (k, 3) indices into ``vertices``.

    Each cell is represented by its first vertex; triangles that lose a corner, and repeats of the
    same triangle, are dropped. Winding (and so the facing of each kept triangle) is preserved.
    """
    cells = np.floor(np.asarray(vertices) / cell_m).astype(np.int64)
    _, first, cell = np.unique(_pack(cells - cells.min(axis=0)), return_index=True, return_inverse=True)
    kept = first[cell.reshape(-1)][faces]
    whole = (kept[:, 0] != kept[:, 1]) & (kept[:, 1] != kept[:, 2]) & (kept[:, 0] != kept[:, 2])
    kept = kept[whole]
    _, unique = np.unique(_pack(np.sort(kept, axis=1).astype(np.int64)), return_index=True)
    return np.ascontiguousarray(kept[np.sort(unique)], dtype=np.int32)


def _pack(rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """One int64 per row of three non-negative ints (np.unique on 1-D keys is ~10x faster than on rows)."""
    base = int(rows.max(initial=0)) + 1
    if base ** 3 >= 2 ** 63:
        raise ValueError(f"mesh too large to cluster at this cell size ({base} cells along an axis)")
    return (rows[:, 0] * base + rows[:, 1]) * base + rows[:, 2]


def _visual_meshes(model: mujoco.MjModel) -> list[int]:
    return sorted({int(model.geom_dataid[g]) for g in range(model.ngeom)
                   if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH and model.geom_group[g] in VISUAL_GROUPS})


def _corner_map(faces: IntArray, corner_ids: IntArray, vertex_count: int) -> IntArray:
    """Per vertex, the normal (or texcoord) index one of its triangle corners uses."""
    per_vertex = np.zeros(vertex_count, dtype=np.int32)
    per_vertex[faces.reshape(-1)] = corner_ids.reshape(-1)
    return per_vertex


def simplify_visual_meshes(model: mujoco.MjModel, cell_m: float) -> tuple[int, int]:
    """Cluster every drawn mesh of ``model`` (a render-only copy) in place; returns triangles (before, after)."""
    if cell_m <= 0:
        total = int(sum(model.mesh_facenum[mesh] for mesh in _visual_meshes(model)))
        return total, total
    before = after = 0
    for mesh in _visual_meshes(model):
        face_start, face_count = int(model.mesh_faceadr[mesh]), int(model.mesh_facenum[mesh])
        vert_start, vert_count = int(model.mesh_vertadr[mesh]), int(model.mesh_vertnum[mesh])
        faces = model.mesh_face[face_start:face_start + face_count].copy()
        kept = cluster_faces(model.mesh_vert[vert_start:vert_start + vert_count], faces, cell_m)
        span = slice(face_start, face_start + len(kept))
        normals = _corner_map(faces, model.mesh_facenormal[face_start:face_start + face_count], vert_count)
        model.mesh_facenormal[span] = normals[kept]
        if model.mesh_texcoordadr[mesh] >= 0:
            texcoords = _corner_map(faces, model.mesh_facetexcoord[face_start:face_start + face_count], vert_count)
            model.mesh_facetexcoord[span] = texcoords[kept]
        model.mesh_face[span] = kept
        model.mesh_facenum[mesh] = len(kept)
        before, after = before + face_count, after + len(kept)
    return before, after


def coarsen_planes(model: mujoco.MjModel, grid_m: float) -> None:
    """Draw every plane of ``model`` (a render-only copy) with grid squares at least ``grid_m`` wide."""
    if grid_m <= 0:
        return
    planes = model.geom_type == mujoco.mjtGeom.mjGEOM_PLANE
    model.geom_size[planes, 2] = np.maximum(model.geom_size[planes, 2], grid_m)
