"""One interface for every reward model, and the errors a user can get from one.

An observation is what the policy server assembles for a control tick: one uint8 ``H x W x 3`` RGB
image per camera (``cameras.names`` order, ``cameras.policy_image_size``) plus the state vector. A
model resizes images to its own input size only when asked to (``resize=True`` in the node); a
frame of another size is a user mistake (``ImageSizeError``), not something to stretch silently.

    score(obs) -> float              probability that the task is done in ``obs``
    progress(obs_a, obs_b, goal)     how much closer ``obs_b`` is to ``goal`` than ``obs_a``, in [-1, 1]
    done(obs, goal) -> bool          the task is done (a calibrated threshold, never a fixed 0.5)
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Images = Mapping[str, npt.NDArray[np.uint8]]


class RewardError(ValueError):
    """A reward model cannot be used or trained as asked; the message says how to fix it."""


class ModelFileError(RewardError):
    """A model file is missing, damaged, or made for another architecture or kind of model."""


class GoalError(RewardError):
    """A goal text the critic cannot use (empty, or not a string)."""


class ImageSizeError(RewardError):
    """Images of the wrong size, dtype or set of cameras for the model."""


class StateSizeError(RewardError):
    """A model that reads the state vector got none, or one of the wrong size."""


class NoPositivesError(RewardError):
    """The replay holds no success (or no failure) labels to train from."""


@dataclass(frozen=True)
class Observation:
    """One control tick's input: images per camera and (optionally) the state vector."""

    images: Images
    state: npt.NDArray[np.float32] | None = None
    extras: dict[str, float] = field(default_factory=dict)


class RewardModel(ABC):
    """What the reward node and the relabelling tools call; see the module docstring."""

    kind: str = ""
    version: str = ""

    @abstractmethod
    def score(self, obs: Observation) -> float:
        """Probability in [0, 1] that the task is done in ``obs``."""

    @abstractmethod
    def progress(self, obs_a: Observation, obs_b: Observation, goal: str) -> float:
        """Signed progress from ``obs_a`` to ``obs_b`` towards ``goal``, in [-1, 1]."""

    @abstractmethod
    def done(self, obs: Observation, goal: str) -> bool:
        """The task described by ``goal`` is done in ``obs``."""


def check_images(images: Images, cameras: list[str], size: int) -> None:
    """Raise ImageSizeError unless ``images`` has exactly ``cameras``, each uint8 ``size x size x 3`` (or a batch)."""
    missing = [c for c in cameras if c not in images]
    if missing:
        raise ImageSizeError(f"the model needs cameras {cameras}; missing {missing} (got {sorted(images)})")
    for name in cameras:
        img = np.asarray(images[name])
        if img.dtype != np.uint8 or img.shape[-3:] != (size, size, 3):
            raise ImageSizeError(
                f"camera {name!r}: got {img.dtype} {tuple(img.shape)}, the model takes uint8 {size}x{size}x3 RGB; "
                f"resize with robot_rl.perception.crop_resize(image, {size}) or serve with resize=True")


def single(obs: Observation, cameras: list[str]) -> dict[str, npt.NDArray[np.uint8]]:
    """One observation as a batch of one, for the cameras a model uses (missing ones are left out to be reported)."""
    return {c: np.asarray(obs.images[c])[None] for c in cameras if c in obs.images}
