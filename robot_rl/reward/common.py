"""What the classifier and the critic share: devices, augmentation, batched inference, threshold calibration."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from robot_rl.learn.augment import random_shift
from robot_rl.reward.interface import RewardModel


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class TrainedRewardModel(RewardModel):
    """A reward network loaded from its model file: the device, metadata and camera layout every kind shares."""

    def __init__(self, net: torch.nn.Module, arch: Mapping[str, Any], meta: dict[str, Any], device: str) -> None:
        self.device = pick_device(device)
        self.net = net.to(self.device).eval()
        self.meta = meta
        self.version = str(meta.get("version", ""))
        self.cameras: list[str] = list(arch["cameras"])
        self.image_size = int(arch["image_size"])
        self.threshold = float(meta.get("calibration", {}).get("threshold", 0.5))


def augment(images: torch.Tensor, pad: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random shift (DrQ) plus a per-image brightness/contrast jitter of +-15 %, uint8 in and out."""
    images = random_shift(images, pad)
    b = images.shape[0]
    gain = 1.0 + 0.3 * (torch.rand(b, 1, 1, 1, generator=generator, device="cpu").to(images.device) - 0.5)
    bias = 20.0 * (torch.rand(b, 1, 1, 1, generator=generator, device="cpu").to(images.device) - 0.5)
    return (images.float() * gain + bias).clamp_(0, 255).to(torch.uint8)


def to_tensors(images: Mapping[str, npt.NDArray[np.uint8]], device: torch.device) -> dict[str, torch.Tensor]:
    return {c: torch.from_numpy(np.ascontiguousarray(v)).to(device) for c, v in images.items()}


def batched(fn: Callable[..., npt.NDArray[np.float32]], images: Mapping[str, npt.NDArray[np.uint8]],
            *per_step: npt.NDArray[Any], batch: int = 256) -> npt.NDArray[np.float32]:
    """Apply ``fn`` to ``images`` (camera -> N x H x W x 3) in slices of ``batch`` steps; arrays in
    ``per_step`` (N x ..., e.g. the state) are sliced alike and passed after the images."""
    n = len(next(iter(images.values())))
    parts = [fn({c: v[i:i + batch] for c, v in images.items()}, *(a[i:i + batch] for a in per_step))
             for i in range(0, n, batch)]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


@dataclass
class Calibration:
    """A decision threshold chosen on held-out data, and what it achieved there."""

    threshold: float
    precision: float
    recall: float
    target_precision: float
    met: bool  # the target precision was reached (with recall > 0)
    positives: int
    negatives: int

    def to_dict(self) -> dict[str, float | bool | int]:
        return asdict(self)


def calibrate_threshold(probs: npt.ArrayLike, labels: npt.ArrayLike, min_precision: float,
                        floor: float = 0.0) -> Calibration:
    """The threshold with the highest recall whose precision is at least ``min_precision``, and at least ``floor``.

    Predicted positive means ``prob >= threshold``. The threshold sits halfway between the lowest
    accepted score and the next lower one, a margin on both sides. When no threshold reaches the
    target, the one with the best precision is returned with ``met=False``. ``floor`` stops a few
    slow positives from pulling the threshold down into the negatives (see ``train_classifier``).
    """
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0:
        raise ValueError("calibration needs at least one positive held-out example")
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    tp = np.cumsum(ys)
    k = np.arange(1, len(ps) + 1)
    last_of_value = np.r_[ps[1:] != ps[:-1], True]  # cut only between different scores
    precision = np.where(last_of_value, tp / k, -1.0)
    recall = tp / n_pos
    ok = (precision >= min_precision) & (ps >= floor)
    if ok.any():
        idx = int(np.flatnonzero(ok)[np.argmax(recall[ok])])
        met = True
    else:
        idx = int(np.argmax(precision))
        met = False
    lower = ps[idx + 1] if idx + 1 < len(ps) else max(ps[idx] - 0.05, 0.0)
    threshold = float(0.5 * (ps[idx] + lower))
    threshold = min(max(threshold, floor, 1e-6), 1.0 - 1e-6)
    pred = p >= threshold
    tp_final = int((pred & y).sum())
    prec = tp_final / max(int(pred.sum()), 1)
    return Calibration(threshold=threshold, precision=float(prec), recall=float(tp_final / n_pos),
                       target_precision=float(min_precision), met=bool(met and tp_final > 0),
                       positives=n_pos, negatives=n_neg)


def precision_recall(probs: npt.ArrayLike, labels: npt.ArrayLike, threshold: float) -> tuple[float, float]:
    p, y = np.asarray(probs) >= threshold, np.asarray(labels, dtype=bool)
    tp = int((p & y).sum())
    return tp / max(int(p.sum()), 1), tp / max(int(y.sum()), 1)
