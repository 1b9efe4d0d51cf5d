"""Per-frame backbone features for a frozen pretrained encoder (``learner.cache_image_features``).

A frozen backbone maps a frame to the same feature map on every update, so the learner runs it once
per stored step, when the step arrives, and keeps the result beside the replay's RAM cache (float16,
aligned with the replay sampler's cache positions). An update then draws indices, gathers the cached
maps of the observation and of the next observation (``Batch.indices`` / ``next_indices``) and trains
only the heads: no image is copied, augmented or convolved per update.

Trade-off: DrQ's random shift acts on pixels before the backbone, so cached features are those of
the unshifted frame: no image augmentation. With a frozen, pretrained backbone the features are
already fixed and generic (HIL-SERL and LeRobot train only the head on top), and the head sees every
frame in one view; for a small replay where overfitting the head matters, train without the cache
(``cache_image_features=false``: one batched backbone pass per update over shifted frames).
Memory: ``C x h x w`` float16 values per camera and step (ResNet-10 at 128x128: 512x4x4, 16 KiB),
a third of the 128x128 frame it replaces in an update's working set.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import torch

from robot_rl.config.schema import ConfigError
from robot_rl.models.actor import ObservationEncoder

ENCODE_CHUNK = 256  # frames per backbone pass while filling the cache


class FeatureBatch(NamedTuple):
    """The replay batch with cached feature maps in place of images (``images`` are empty)."""

    images: dict[str, npt.NDArray[np.uint8]]
    state: npt.NDArray[np.float32]
    action: npt.NDArray[np.float32]
    reward: npt.NDArray[np.float32]
    next_images: dict[str, npt.NDArray[np.uint8]]
    next_state: npt.NDArray[np.float32]
    done: npt.NDArray[np.float32]
    discount: npt.NDArray[np.float32]
    image_features: dict[str, npt.NDArray[np.float16]]
    next_image_features: dict[str, npt.NDArray[np.float16]]
    intervention: npt.NDArray[np.float32]


class FeatureCacheSampler:
    """Wraps the learner's store sampler: same refresh / committed steps, batches with cached features."""

    def __init__(self, sampler: Any, encoder: ObservationEncoder, device: torch.device) -> None:
        replay = getattr(sampler, "replay", None)
        if replay is None or not hasattr(replay, "batch_at"):
            raise ConfigError("learner.cache_image_features=true needs the replay store sampler "
                              "(learner.replays), not a synthetic source")
        if not encoder.frozen_backbones:
            raise ConfigError("learner.cache_image_features=true needs a frozen encoder: set "
                              "policy.model.freeze_encoder=true with policy.model.pretrained_encoder_path")
        self.sampler, self.replay, self.encoder, self.device = sampler, replay, encoder, device
        self.features: dict[str, npt.NDArray[np.float16]] = {}
        self.encoded = 0  # replay cache positions [0, encoded) have features

    def refresh(self) -> None:
        self.sampler.refresh()
        self._encode_new()

    def committed_steps(self) -> dict[str, int]:
        return self.sampler.committed_steps()  # type: ignore[no-any-return]

    def transitions_per_source(self) -> dict[str, int]:
        return self.sampler.transitions_per_source()  # type: ignore[no-any-return]

    @torch.no_grad()
    def _encode_new(self) -> None:
        total = int(self.replay.num_steps)
        for start in range(self.encoded, total, ENCODE_CHUNK):
            positions = np.arange(start, min(start + ENCODE_CHUNK, total))
            images = self.replay.batch_at(positions).images
            maps = self.encoder.backbone_features({c: torch.from_numpy(images[c]).to(self.device)
                                                   for c in self.encoder.cameras})
            for camera, value in maps.items():
                store = self._reserve(camera, start + len(positions), tuple(value.shape[1:]))
                store[start:start + len(positions)] = value.to(torch.float16).cpu().numpy()
        self.encoded = total

    def _reserve(self, camera: str, need: int, shape: tuple[int, ...]) -> npt.NDArray[np.float16]:
        """The camera's feature array with room for ``need`` steps (grown by doubling, filled part kept)."""
        store = self.features.get(camera)
        if store is None or need > len(store):
            grown = np.empty((max(need, 2 * len(store) if store is not None else need), *shape), np.float16)
            if store is not None:
                grown[:self.encoded] = store[:self.encoded]
            self.features[camera] = store = grown
        return store

    def sample(self, batch_size: int) -> FeatureBatch:
        batch = self.replay.batch_at(self.replay.sample_indices(batch_size), images=False)
        return FeatureBatch(
            images={}, state=batch.state, action=batch.action, reward=batch.reward, next_images={},
            next_state=batch.next_state, done=batch.done, discount=batch.discount,
            image_features={c: f[batch.indices] for c, f in self.features.items()},
            next_image_features={c: f[batch.next_indices] for c, f in self.features.items()},
            intervention=batch.intervention)
