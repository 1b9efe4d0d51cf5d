"""Synthetic calibration data of known truth: board images rendered through a known camera.

Used by the tests and handy for trying the tools without a camera. ``render_view`` draws the board
through the full camera model (pinhole + distortion) by mapping every (supersampled) pixel back onto
the board plane, so corners land exactly where OpenCV's model puts them.
"""
from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from robot_rl.calibration.boards import BoardSpec, board_texture
from robot_rl.calibration.camera_info import CameraIntrinsics
from robot_rl.calibration.transforms import Matrix, make_transform, rotvec_to_matrix

_RAYS: dict[tuple[object, ...], NDArray[np.float64]] = {}
PX_PER_SQUARE = 64
MARGIN_PX = 32


def _rays(intrinsics: CameraIntrinsics, supersample: int) -> NDArray[np.float64]:
    """Normalised undistorted image coordinates (x/z, y/z) of every supersampled pixel centre."""
    key = (intrinsics.width, intrinsics.height, tuple(intrinsics.k), tuple(intrinsics.distortion), supersample)
    if key not in _RAYS:
        w, h = intrinsics.width * supersample, intrinsics.height * supersample
        u, v = np.meshgrid((np.arange(w) + 0.5) / supersample - 0.5, (np.arange(h) + 0.5) / supersample - 0.5)
        pts = np.stack([u, v], axis=-1).reshape(-1, 1, 2)
        criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 40, 1e-10)
        identity = np.eye(3)  # no rectification, normalised coordinates out
        norm = cv2.undistortPointsIter(pts, intrinsics.camera_matrix, intrinsics.dist_coeffs, identity, identity,
                                       criteria)
        _RAYS[key] = np.asarray(norm, dtype=np.float64).reshape(h, w, 2)
    return _RAYS[key]


def render_view(spec: BoardSpec, intrinsics: CameraIntrinsics, t_cam_board: Matrix, *, noise_std: float = 2.0,
                blur_sigma: float = 0.5, supersample: int = 2, background: int = 110,
                rng: np.random.Generator | None = None) -> NDArray[np.uint8]:
    """A gray image of the board at pose ``t_cam_board`` as ``intrinsics`` sees it, with sensor noise."""
    rays = _rays(intrinsics, supersample)
    texture = board_texture(spec, PX_PER_SQUARE, MARGIN_PX)
    plane = np.column_stack([t_cam_board[:3, 0], t_cam_board[:3, 1], t_cam_board[:3, 3]])  # [r1 r2 t]
    inv = np.linalg.inv(plane)
    hom = rays @ inv[:, :2].T + inv[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        bx, by = hom[..., 0] / hom[..., 2], hom[..., 1] / hom[..., 2]
    scale = PX_PER_SQUARE / spec.square_m
    map_x = np.where(hom[..., 2] > 0, MARGIN_PX - 0.5 + bx * scale, -1e4).astype(np.float32)
    map_y = np.where(hom[..., 2] > 0, MARGIN_PX - 0.5 + by * scale, -1e4).astype(np.float32)
    big = cv2.remap(texture, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                    borderValue=background)
    image = np.asarray(cv2.resize(big, (intrinsics.width, intrinsics.height), interpolation=cv2.INTER_AREA),
                       dtype=np.float64)
    if blur_sigma > 0:
        image = np.asarray(cv2.GaussianBlur(image, (0, 0), blur_sigma), dtype=np.float64)
    if noise_std > 0:
        image = image + (rng or np.random.default_rng()).normal(0.0, noise_std, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def board_in_view(spec: BoardSpec, intrinsics: CameraIntrinsics, t_cam_board: Matrix, margin_px: float = 8.0) -> bool:
    """Whether every board corner projects inside the image, ``margin_px`` from the border."""
    w, h = spec.squares_x * spec.square_m, spec.squares_y * spec.square_m
    outline = np.array([[0, 0, 0], [w, 0, 0], [w, h, 0], [0, h, 0]], dtype=np.float64)
    cam = outline @ t_cam_board[:3, :3].T + t_cam_board[:3, 3]
    if np.any(cam[:, 2] <= 0.05):
        return False
    rvec = cv2.Rodrigues(t_cam_board[:3, :3])[0]
    px = cv2.projectPoints(outline, rvec, t_cam_board[:3, 3], intrinsics.camera_matrix, intrinsics.dist_coeffs)[0]
    px = px.reshape(-1, 2)
    return bool(np.all(px >= margin_px) and np.all(px[:, 0] <= intrinsics.width - 1 - margin_px)
                and np.all(px[:, 1] <= intrinsics.height - 1 - margin_px))


def random_board_poses(spec: BoardSpec, intrinsics: CameraIntrinsics, count: int, rng: np.random.Generator,
                       distance_m: tuple[float, float] = (0.35, 0.6), max_tilt_deg: float = 40.0) -> list[Matrix]:
    """``count`` board poses spread over the image (a 3x3 grid of aim points, cycled), tilted up to
    ``max_tilt_deg``, each fully in view."""
    poses: list[Matrix] = []
    centre = np.array([spec.squares_x * spec.square_m / 2, spec.squares_y * spec.square_m / 2, 0.0])
    k_inv = np.linalg.inv(intrinsics.camera_matrix)
    aims = [(fx, fy) for fy in (0.3, 0.5, 0.7) for fx in (0.3, 0.5, 0.7)]
    attempts = 0
    while len(poses) < count:
        attempts += 1
        if attempts > 200 * count:
            raise RuntimeError("cannot place the board in view: use a smaller board or a closer distance range")
        fx, fy = aims[len(poses) % len(aims)]
        pixel = np.array([fx * intrinsics.width, fy * intrinsics.height, 1.0]) + np.r_[rng.normal(0, 15, 2), 0]
        ray = k_inv @ pixel
        depth = rng.uniform(*distance_m)
        tilt = np.radians(rng.uniform(-max_tilt_deg, max_tilt_deg, 2))
        roll = np.radians(rng.uniform(-20, 20))
        rot = rotvec_to_matrix([tilt[0], 0, 0]) @ rotvec_to_matrix([0, tilt[1], 0]) @ rotvec_to_matrix([0, 0, roll])
        t = ray / ray[2] * depth - rot @ centre
        pose = make_transform(rot, t)
        if board_in_view(spec, intrinsics, pose):
            poses.append(pose)
    return poses


def perturb(pose: Matrix, rng: np.random.Generator, sigma_m: float, sigma_deg: float) -> Matrix:
    """``pose`` with a random small motion (gaussian translation in m, rotation in deg) applied in its own frame."""
    noise = make_transform(np.radians(rng.normal(0.0, sigma_deg, 3)), rng.normal(0.0, sigma_m, 3))
    return pose @ noise


def look_at(eye: NDArray[np.float64], target: NDArray[np.float64], up: tuple[float, float, float] = (0, 0, 1)) -> Matrix:
    """Optical-frame pose (z forward, y down) at ``eye`` looking at ``target``."""
    z = np.asarray(target, dtype=np.float64) - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, np.asarray(up, dtype=np.float64))
    if np.linalg.norm(x) < 1e-6:
        x = np.cross(z, [1.0, 0.0, 0.0])
    x /= np.linalg.norm(x)
    return make_transform(np.column_stack([x, np.cross(z, x), z]), eye)


def handeye_truth(kind: str) -> tuple[Matrix, Matrix]:
    """Ground truth for synthetic hand-eye: (camera in effector or base, board in base or effector)."""
    if kind == "eye_in_hand":
        t_ee_cam = make_transform(rotvec_to_matrix([0.0, 0.0, np.pi / 2]) @ rotvec_to_matrix([0.05, -0.03, 0.0]),
                                  [0.06, -0.012, 0.035])
        return t_ee_cam, make_transform(rotvec_to_matrix([0.0, 0.0, 0.3]), [0.45, -0.1, 0.02])
    t_base_cam = look_at(np.array([1.1, 0.25, 0.6]), np.array([0.45, 0.0, 0.3]))
    t_ee_board = make_transform(rotvec_to_matrix([np.pi, 0.0, 0.0]) @ rotvec_to_matrix([0.0, 0.0, 0.2]),
                                [-0.1, -0.08, 0.05])
    return t_base_cam, t_ee_board


def synthetic_handeye(kind: str, count: int, rng: np.random.Generator, robot_noise: tuple[float, float] = (1e-4, 0.02),
                      board_noise: tuple[float, float] = (5e-4, 0.1), max_tilt_deg: float = 25.0
                      ) -> tuple[list[tuple[Matrix, Matrix]], Matrix, Matrix]:
    """``count`` (T_base_effector, T_cam_board) pairs with gaussian noise (m, deg) of known truth.

    Returns the pairs, the true camera transform (in effector or base) and the true fixed board pose.
    """
    x_true, board_true = handeye_truth(kind)
    pairs = []
    for _ in range(count):
        if kind == "eye_in_hand":
            eye = board_true[:3, 3] + np.r_[rng.uniform(-0.15, 0.15, 2), rng.uniform(0.35, 0.55)]
            cam = look_at(eye, board_true[:3, 3] + np.r_[rng.uniform(-0.05, 0.05, 2), 0.0], up=(1, 0, 0))
            cam = cam @ make_transform(np.radians(rng.uniform(-max_tilt_deg, max_tilt_deg, 3)) * [0.4, 0.4, 1.0],
                                       [0, 0, 0])
            robot = cam @ np.linalg.inv(x_true)
            target = np.linalg.inv(cam) @ board_true
        else:
            nominal = x_true @ make_transform(np.eye(3), [0.0, 0.0, 0.6]) @ np.linalg.inv(board_true)
            nominal[:3, :3] = (x_true[:3, :3] @ np.linalg.inv(board_true)[:3, :3])
            robot = make_transform(np.eye(3), rng.uniform(-0.08, 0.08, 3)) @ nominal @ make_transform(
                np.radians(rng.uniform(-max_tilt_deg, max_tilt_deg, 3)), [0, 0, 0])
            target = np.linalg.inv(x_true) @ robot @ board_true
        pairs.append((perturb(robot, rng, *robot_noise), perturb(target, rng, *board_noise)))
    return pairs, x_true, board_true
