"""Which frames a classifier batch draws: half positives, and negatives weighted towards the hard ones.

Success is rare and its negatives are mostly easy (the arm far from the object). The negatives that
cost precision look almost like success: the frames just before the first success step of an
episode (the object grasped, not yet lifted far enough) and frames of failed attempts that resemble
success (an empty gripper lifted after a miss). HIL-SERL collects such near-success negatives on
purpose; here a share of each batch's negatives (``reward.hard_negative_fraction``) comes from

* the ``reward.near_success_steps`` negatives before each run of success steps, known from the
  labels alone, and
* the negatives the classifier currently scores highest, re-mined once per epoch (online hard
  negative mining), as many as there are positives.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def near_success(labels: Sequence[npt.NDArray[np.bool_]], window: int) -> npt.NDArray[np.bool_]:
    """Per episode labels -> one mask over all frames: negatives at most ``window`` steps before a positive."""
    masks = []
    for y in labels:
        near = np.zeros(len(y), bool)
        for start in np.flatnonzero(y & ~np.r_[False, y[:-1]]):  # first step of each run of positives
            near[max(0, start - window):start] = True
        masks.append(near & ~y)
    return np.concatenate(masks) if masks else np.zeros(0, bool)


class BatchDrawer:
    """Draws training indices: half positives, the negatives' ``hard_fraction`` from the hard pool."""

    def __init__(self, labels: npt.NDArray[np.bool_], near: npt.NDArray[np.bool_], hard_fraction: float,
                 rng: np.random.Generator) -> None:
        self.positives = np.flatnonzero(labels)
        self.negatives = np.flatnonzero(~labels)
        self.near = np.flatnonzero(near & ~labels)
        self.hard_fraction = hard_fraction
        self.rng = rng
        self.mined = np.zeros(0, np.int64)

    @property
    def hard(self) -> npt.NDArray[np.int64]:
        return np.union1d(self.near, self.mined)

    def mine(self, negative_scores: npt.NDArray[np.floating]) -> None:
        """``negative_scores``: the classifier's current score of every frame in ``self.negatives``."""
        k = min(len(self.positives), len(self.negatives))
        self.mined = self.negatives[np.argsort(-np.asarray(negative_scores), kind="stable")[:k]]

    def draw(self, batch_size: int) -> npt.NDArray[np.int64]:
        half = batch_size // 2
        n_neg = batch_size - half
        hard = self.hard
        n_hard = int(round(self.hard_fraction * n_neg)) if len(hard) else 0
        return np.concatenate([self.rng.choice(self.positives, half), self.rng.choice(hard, n_hard),
                               self.rng.choice(self.negatives, n_neg - n_hard)]).astype(np.int64)
