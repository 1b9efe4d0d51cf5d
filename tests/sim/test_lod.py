"""Render-only level of detail: vertex clustering of meshes and the floor's lighting grid."""
from __future__ import annotations

import numpy as np

import robot_rl.sim  # noqa: F401  (headless OpenGL before MuJoCo loads)
from robot_rl.sim.lod import cluster_faces


def _grid(n: int, step: float) -> tuple[np.ndarray, np.ndarray]:
    """A flat n x n vertex grid in the xy plane, two counter-clockwise triangles per square."""
    xs, ys = np.meshgrid(np.arange(n) * step, np.arange(n) * step, indexing="xy")
    vertices = np.stack([xs.ravel(), ys.ravel(), np.zeros(n * n)], axis=1)
    faces = []
    for row in range(n - 1):
        for col in range(n - 1):
            a, b, c, d = row * n + col, row * n + col + 1, (row + 1) * n + col + 1, (row + 1) * n + col
            faces += [(a, b, c), (a, c, d)]
    return vertices, np.array(faces, dtype=np.int32)


def _normal_z(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    a, b, c = (vertices[faces[:, i]] for i in range(3))
    return np.cross(b - a, c - a)[:, 2]


def test_a_cell_finer_than_the_mesh_keeps_every_triangle() -> None:
    vertices, faces = _grid(5, 0.01)
    np.testing.assert_array_equal(cluster_faces(vertices + 0.001, faces, 0.005), faces)


def test_a_coarser_cell_keeps_fewer_triangles_facing_the_same_way_on_original_vertices() -> None:
    vertices, faces = _grid(21, 0.001)  # 2 cm square, 800 triangles
    kept = cluster_faces(vertices, faces, 0.004)
    assert 0 < len(kept) < len(faces) / 8
    assert set(kept.ravel()) <= set(range(len(vertices)))
    assert np.all(_normal_z(vertices, kept) > 0)  # counter-clockwise seen from +z, as every input triangle
    assert len({tuple(sorted(face)) for face in kept}) == len(kept)  # no triangle twice


def test_a_cell_larger_than_the_mesh_leaves_no_triangle() -> None:
    vertices, faces = _grid(4, 0.001)
    assert len(cluster_faces(vertices, faces, 1.0)) == 0
