"""The SAC actor: bounded actions, a correct tanh-Gaussian log-prob, uint8 in, encoder options."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from robot_rl.config.schema import ConfigError, ModelConfig
from robot_rl.models.actor import ACTION_DIM, Actor
from robot_rl.models.encoders import ConvBackbone, ImageEncoder, PretrainedEncoderError, ResNet10Backbone

CAMERAS = ["wrist", "front"]


def batch(b: int = 3, size: int = 32, seed: int = 0) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    images = {c: torch.randint(0, 256, (b, size, size, 3), dtype=torch.uint8, generator=g) for c in CAMERAS}
    return images, torch.randn(b, ModelConfig().state_dim, generator=g)


@pytest.mark.parametrize("shared", [False, True])
def test_actions_are_bounded_and_deterministic_mode_repeats(shared: bool) -> None:
    actor = Actor(ModelConfig(shared_encoder=shared), CAMERAS, 32)
    images, state = batch()
    out = actor(images, state)
    assert out.action.shape == (3, ACTION_DIM) and out.log_prob.shape == (3,)
    assert out.action.abs().max() < 1.0 and torch.isfinite(out.log_prob).all()
    first = actor.act(images, state, deterministic=True)
    assert torch.equal(first, actor.act(images, state, deterministic=True))
    assert torch.equal(first, out.mean_action.detach())
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert torch.equal(actor.act(images, state, False, g1), actor.act(images, state, False, g2))
    assert not torch.equal(actor.act(images, state, False), first)


def test_log_prob_matches_the_change_of_variables_formula() -> None:
    torch.manual_seed(0)
    actor = Actor(ModelConfig(), CAMERAS, 32)
    images, state = batch(b=2)
    gen = torch.Generator().manual_seed(5)
    out = actor(images, state, generator=gen)
    hidden = actor.trunk(actor.encoder(images, state))
    mu = actor.mean(hidden)
    lo, hi = actor.config.log_std_min, actor.config.log_std_max
    std = (lo + 0.5 * (hi - lo) * (torch.tanh(actor.log_std(hidden)) + 1)).exp()
    u = torch.atanh(out.action.clamp(-1 + 1e-6, 1 - 1e-6).double())
    expected = (torch.distributions.Normal(mu.double(), std.double()).log_prob(u)
                - torch.log(1 - torch.tanh(u) ** 2)).sum(-1)
    assert torch.allclose(out.log_prob.double(), expected, atol=1e-2)


def test_gradients_reach_the_encoder_unless_detached() -> None:
    actor = Actor(ModelConfig(), CAMERAS, 32)
    images, state = batch()
    actor(images, state).action.sum().backward()
    assert actor.encoder.per_camera["wrist"].backbone.net[0].weight.grad is not None
    actor.zero_grad(set_to_none=True)
    actor(images, state, detach_encoder=True).action.sum().backward()
    assert actor.encoder.per_camera["wrist"].backbone.net[0].weight.grad is None
    assert actor.mean.weight.grad is not None


def test_images_must_be_uint8_hwc_and_every_camera_present() -> None:
    actor = Actor(ModelConfig(), CAMERAS, 32)
    images, state = batch()
    with pytest.raises(ValueError, match="uint8"):
        actor({c: v.float() for c, v in images.items()}, state)
    with pytest.raises(KeyError, match="front"):
        actor({"wrist": images["wrist"]}, state)
    with pytest.raises(ValueError, match="32 x 32"):  # the policy image size, not a shape error deep in the network
        actor({c: v[:, :16, :16].contiguous() for c, v in images.items()}, state)
    with pytest.raises(ValueError, match="state"):
        actor(images, state[:, :3])


def test_normalisation_runs_on_the_model_with_the_configured_mean_and_std() -> None:
    encoder = ImageEncoder(ModelConfig(image_mean=[0.5] * 3, image_std=[0.5] * 3), 16)
    images = torch.tensor([0, 255], dtype=torch.uint8).view(2, 1, 1, 1).expand(2, 16, 16, 3).contiguous()
    x = encoder.normalize(images)
    assert x.shape == (2, 3, 16, 16) and x.dtype == torch.float32
    assert torch.allclose(x[0], torch.full_like(x[0], -1.0)) and torch.allclose(x[1], torch.ones_like(x[1]))


def test_normalisation_applies_each_channels_own_mean_and_std() -> None:
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    encoder = ImageEncoder(ModelConfig(image_mean=mean, image_std=std), 8)
    images = torch.randint(0, 256, (4, 8, 8, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    expected = (images.float() / 255.0 - torch.tensor(mean)) / torch.tensor(std)
    x = encoder.normalize(images)
    assert x.is_contiguous(memory_format=torch.channels_last)  # the layout the backbone's weights are in
    assert torch.allclose(x.permute(0, 2, 3, 1), expected, atol=1e-5)


def test_frozen_pretrained_encoder_loads_from_a_local_file_and_stays_fixed(tmp_path: Path) -> None:
    source = ConvBackbone([8, 8], [2, 2])
    path = tmp_path / "encoder.safetensors"
    save_file(source.state_dict(), str(path))
    config = ModelConfig(conv_channels=[8, 8], conv_strides=[2, 2], pretrained_encoder_path=str(path),
                         freeze_encoder=True)
    actor = Actor(config, CAMERAS, 32).train()
    backbone = actor.encoder.per_camera["front"].backbone
    assert all(torch.equal(a, b) for a, b in zip(backbone.state_dict().values(), source.state_dict().values()))
    assert not any(p.requires_grad for p in backbone.parameters()) and not backbone.training
    assert actor.encoder.per_camera["front"].projection.training  # the head still trains


def test_pretrained_encoder_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(PretrainedEncoderError, match="never downloads"):
        Actor(ModelConfig(pretrained_encoder_path=str(tmp_path / "missing.safetensors")), CAMERAS, 32)
    path = tmp_path / "other.safetensors"
    save_file(ConvBackbone([4], [2]).state_dict(), str(path))
    with pytest.raises(PretrainedEncoderError, match="does not fit"):
        Actor(ModelConfig(pretrained_encoder_path=str(path)), CAMERAS, 32)
    with pytest.raises(ConfigError, match="pretrained_encoder_path"):
        ModelConfig(freeze_encoder=True)
    with pytest.raises(ConfigError, match="safetensors"):
        ModelConfig(pretrained_encoder_path="resnet.pth")


def test_resnet10_backbone_builds_and_acts() -> None:
    actor = Actor(ModelConfig(encoder="resnet10", shared_encoder=True), CAMERAS, 64).eval()
    assert isinstance(actor.encoder.shared.backbone, ResNet10Backbone)  # type: ignore[union-attr]
    images, state = batch(b=1, size=64)
    action = actor.act(images, state)
    assert action.shape == (1, ACTION_DIM) and math.isfinite(float(action.abs().max()))


def test_state_only_actor_needs_no_images_and_records_no_cameras() -> None:
    config = ModelConfig(use_images=False, hidden_dims=[32])
    actor = Actor(config, CAMERAS, 32)  # camera names are ignored when use_images is false
    assert actor.cameras == [] and not actor.uses_images
    assert actor.architecture()["cameras"] == []
    assert all(not name.startswith("encoder.per_camera") for name, _ in actor.named_parameters())
    state = torch.randn(4, config.state_dim)
    action = actor.act({}, state)
    assert action.shape == (4, ACTION_DIM) and action.abs().max() < 1.0
    torch.testing.assert_close(actor.head(actor.encoder({}, state), deterministic=True).action, action)


def test_use_images_without_cameras_says_how_to_fix_it() -> None:
    with pytest.raises(ValueError, match="use_images=false"):
        Actor(ModelConfig(), [], 32)


def test_fixed_action_dims_stay_zero_and_leave_the_log_prob() -> None:
    torch.manual_seed(0)
    images, state = batch(b=4)
    free = Actor(ModelConfig(), CAMERAS, 32)
    fixed = Actor(ModelConfig(fixed_action_dims=[3, 4, 5]), CAMERAS, 32)
    fixed.load_state_dict(free.state_dict())
    out = fixed(images, state, generator=torch.Generator().manual_seed(2))
    assert torch.equal(out.action[:, 3:6], torch.zeros(4, 3)) and torch.equal(out.mean_action[:, 3:6], torch.zeros(4, 3))
    reference = free(images, state, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(out.action[:, [0, 1, 2, 6]], reference.action[:, [0, 1, 2, 6]])
    with torch.no_grad():  # the fixed dimensions' spread no longer enters the log-probability
        fixed.log_std.bias[3:6] += 1.0
    again = fixed(images, state, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(again.log_prob, out.log_prob)
    assert fixed.architecture()["model"]["fixed_action_dims"] == [3, 4, 5]  # type: ignore[index]
    assert "fixed_action_dims" not in free.architecture()["model"]  # type: ignore[operator]
    with pytest.raises(ConfigError):
        ModelConfig(fixed_action_dims=[7])
