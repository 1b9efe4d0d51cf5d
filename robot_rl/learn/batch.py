"""What the learner needs from the replay sampler, and the batch it trains on.

The sampler (``robot_rl.replay``) follows one or more stores, each with one group per robot or
session, and draws transitions (``next_*`` inside the same episode, n-step returns, RLPD mixing of
sources by weight). The learner only needs the small ``ReplaySampler`` protocol below; the numpy
batch it returns is moved to the learner's device by ``to_torch`` as uint8 images (only bytes cross
to the GPU: augmentation and normalisation run there).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
import torch


class NumpyBatch(Protocol):
    """The fields of a sampled batch the learner reads (the replay sampler's NamedTuple has these)."""

    @property
    def images(self) -> Mapping[str, npt.NDArray[np.uint8]]: ...  # camera -> B x H x W x 3

    @property
    def state(self) -> npt.NDArray[np.float32]: ...  # B x state_dim

    @property
    def action(self) -> npt.NDArray[np.float32]: ...  # B x 7 in [-1, 1]

    @property
    def reward(self) -> npt.NDArray[np.float32]: ...  # B, the n-step discounted reward sum

    @property
    def next_images(self) -> Mapping[str, npt.NDArray[np.uint8]]: ...  # observation n steps later

    @property
    def next_state(self) -> npt.NDArray[np.float32]: ...

    @property
    def done(self) -> npt.NDArray[np.float32]: ...  # B, 1 where the n-step horizon reached a terminal step

    @property
    def discount(self) -> npt.NDArray[np.float32]: ...  # B, gamma^k for the k steps the return spans


class ReplaySampler(Protocol):
    """Follows committed episodes and draws batches from them."""

    def refresh(self) -> None:
        """Pick up episodes committed since the last call."""

    def committed_steps(self) -> dict[str, int]:
        """Committed environment steps per source group (store + group), as of the last ``refresh``."""

    def sample(self, batch_size: int) -> NumpyBatch:
        """``batch_size`` transitions, mixed across sources by the configured weights."""


class Batch(NamedTuple):
    """A batch on the learner's device; images stay uint8 ``B x H x W x 3`` until the encoder."""

    images: dict[str, torch.Tensor]
    state: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_images: dict[str, torch.Tensor]
    next_state: torch.Tensor
    done: torch.Tensor
    discount: torch.Tensor  # gamma^k per transition (k = steps the n-step return spans)
    # cached backbone feature maps per camera (learner.cache_image_features); empty: encode ``images``
    image_features: dict[str, torch.Tensor] = {}
    next_image_features: dict[str, torch.Tensor] = {}
    # B, 1 where the operator chose the action (demonstrations and interventions); empty when the
    # sampler does not say (a synthetic source): what the behaviour-cloning term imitates
    intervention: torch.Tensor = torch.zeros(0)


def to_torch(batch: NumpyBatch, device: torch.device) -> Batch:
    """Copy a sampled numpy batch to ``device`` (pinned, non-blocking on CUDA); a batch with
    ``image_features`` (``robot_rl.learn.features``) carries them along, still float16."""

    def move(array: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        if device.type == "cuda":
            return tensor.pin_memory().to(device, non_blocking=True)
        return tensor.to(device)

    def floats(array: np.ndarray) -> torch.Tensor:
        return move(np.asarray(array, dtype=np.float32))

    return Batch(
        images={k: move(v) for k, v in batch.images.items()},
        state=floats(batch.state),
        action=floats(batch.action),
        reward=floats(batch.reward).reshape(-1),
        next_images={k: move(v) for k, v in batch.next_images.items()},
        next_state=floats(batch.next_state),
        done=floats(batch.done).reshape(-1),
        discount=floats(batch.discount).reshape(-1),
        image_features={k: move(v) for k, v in getattr(batch, "image_features", {}).items()},
        next_image_features={k: move(v) for k, v in getattr(batch, "next_image_features", {}).items()},
        intervention=floats(getattr(batch, "intervention", np.zeros(0))).reshape(-1),
    )
