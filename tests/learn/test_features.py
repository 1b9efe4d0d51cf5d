"""Cached per-frame features of a frozen encoder: the right frames, the same features, heads still train."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from robot_rl.config.schema import ConfigError
from robot_rl.learn.batch import to_torch
from robot_rl.learn.data import StoreSampler
from robot_rl.learn.features import FeatureCacheSampler
from robot_rl.learn.sac import SAC
from robot_rl.learn.synthetic import SyntheticSampler
from robot_rl.learn.trainer import Trainer
from robot_rl.models.encoders import ConvBackbone
from robot_rl.replay import EpisodeWriter, GroupInfo, Source, Step
from tests.learn.conftest import tiny_config


def frozen_setup(tmp_path: Path, *extra: str) -> tuple[SAC, StoreSampler, list[np.ndarray]]:
    path = tmp_path / "encoder.safetensors"
    torch.manual_seed(0)
    save_file({k: v.contiguous() for k, v in ConvBackbone([8], [2]).state_dict().items()}, str(path))
    config = tiny_config(tmp_path, [f"policy.model.pretrained_encoder_path={path}", "policy.model.freeze_encoder=true",
                                    "learner.cache_image_features=true", *extra])
    store = tmp_path / "replay.zarr"
    config.learner.replays = [str(store)]
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(30)]
    info = GroupInfo(camera_names=["front"], image_size=(16, 16), state_dim=10, action_dim=7)
    with EpisodeWriter(store, "r", info) as writer:
        for episode in range(3):
            writer.begin_episode()
            for t in range(10):
                writer.append(Step(images={"front": frames[10 * episode + t]}, state=np.full(10, 10 * episode + t),
                                   action=np.zeros(7), reward=0.0, source=Source.POLICY))
            writer.end_episode(terminated=True)
    sac = SAC(config.learner, config.policy.model, config.cameras.names, config.cameras.policy_image_size)
    return sac, StoreSampler(config, seed=0), frames


def test_cached_features_are_the_backbone_of_the_sampled_and_next_frames(tmp_path: Path) -> None:
    sac, store_sampler, frames = frozen_setup(tmp_path)
    sampler = FeatureCacheSampler(store_sampler, sac.actor.encoder, torch.device("cpu"))
    sampler.refresh()
    batch = sampler.sample(16)
    assert batch.images == {} and batch.next_images == {}
    encoder = sac.actor.encoder.image_encoder("front")
    for i in range(16):
        step, next_step = int(batch.state[i, 0]), int(batch.next_state[i, 0])  # the state holds the step number
        for cached, frame in ((batch.image_features["front"][i], frames[step]),
                              (batch.next_image_features["front"][i], frames[next_step])):
            with torch.no_grad():
                expected = encoder.backbone_features(torch.from_numpy(frame).unsqueeze(0))[0]
            torch.testing.assert_close(torch.from_numpy(cached).float(), expected, atol=1e-2, rtol=1e-2)


def test_updates_on_cached_features_train_the_heads_and_leave_the_backbone(tmp_path: Path) -> None:
    sac, store_sampler, _ = frozen_setup(tmp_path)
    sampler = FeatureCacheSampler(store_sampler, sac.actor.encoder, torch.device("cpu"))
    sampler.refresh()
    encoder = sac.actor.encoder.image_encoder("front")
    backbone = {k: v.clone() for k, v in encoder.backbone.state_dict().items()}
    projection = {k: v.clone() for k, v in encoder.projection.state_dict().items()}
    for _ in range(3):
        metrics = sac.update(to_torch(sampler.sample(16), torch.device("cpu")), update_actor=True)
    assert torch.isfinite(metrics["losses/qf_loss"])
    assert all(torch.equal(v, backbone[k]) for k, v in encoder.backbone.state_dict().items())
    assert any(not torch.equal(v, projection[k]) for k, v in encoder.projection.state_dict().items())


def test_the_frozen_uncached_path_matches_encoding_each_batch(tmp_path: Path) -> None:
    """One batched backbone pass over observations and next observations = encoding them separately."""
    sac, store_sampler, _ = frozen_setup(tmp_path, "learner.augmentation_pad=0")
    store_sampler.refresh()
    batch = to_torch(store_sampler.sample(8), torch.device("cpu"))
    with torch.no_grad():
        features, next_features = sac.encode(batch)
        torch.testing.assert_close(features, sac.actor.encoder(batch.images, batch.state))
        torch.testing.assert_close(next_features, sac.actor.encoder(batch.next_images, batch.next_state))


def test_cache_without_a_frozen_encoder_or_a_store_says_what_to_set(tmp_path: Path) -> None:
    config = tiny_config(tmp_path, ["learner.cache_image_features=true"])
    with pytest.raises(ConfigError, match="cache_image_features=true needs"):
        Trainer(config, SyntheticSampler(["front"], 16, 10, {"a": 10}), console=False)
