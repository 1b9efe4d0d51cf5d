"""The SAC update: it changes what it should, lowers the critic loss, and keeps its pieces' shapes."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from robot_rl.learn.augment import random_shift
from robot_rl.learn.batch import Batch, to_torch
from robot_rl.learn.gripper import CLOSE, OPEN, STAY, choice_to_command, command_to_choice
from robot_rl.learn.sac import SAC, bc_loss, critic_loss, gripper_distill_loss
from robot_rl.learn.synthetic import SyntheticSampler
from robot_rl.models.critics import CriticEnsemble, EnsembleLinear, GripperCritic
from robot_rl.models.encoders import ImageEncoder
from tests.learn.conftest import tiny_config


def make_sac(tmp_path: Path, *extra: str) -> tuple[SAC, Batch]:
    config = tiny_config(tmp_path, extra)
    torch.manual_seed(0)
    sac = SAC(config.learner, config.policy.model, config.cameras.names, config.cameras.policy_image_size)
    sampler = SyntheticSampler(config.cameras.names, 16, config.policy.model.state_dim, {"a": 64}, seed=1)
    return sac, to_torch(sampler.sample(config.learner.batch_size), torch.device("cpu"))


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_update_changes_parameters_and_lowers_critic_loss_on_a_fixed_batch(tmp_path: Path) -> None:
    sac, batch = make_sac(tmp_path, "learner.critic_lr=1e-3")
    before = {name: snapshot(net) for name, net in sac.networks().items()}
    alpha_before = float(sac.log_alpha.detach())
    losses = [float(sac.update(batch, update_actor=True)["losses/qf_loss"]) for _ in range(40)]
    assert losses[-1] < 0.5 * losses[0], losses
    for name, net in sac.networks().items():
        changed = [k for k, v in net.state_dict().items() if not torch.equal(v, before[name][k])]
        assert changed, f"{name} did not change"
    assert float(sac.log_alpha.detach()) != alpha_before
    # the target critics move slowly towards the critics (Polyak), not onto them
    q, q_target = sac.qf.state_dict(), sac.qf_target.state_dict()
    assert all(not torch.equal(q[k], q_target[k]) for k in q)


def test_critic_only_updates_leave_the_actor_head_alone(tmp_path: Path) -> None:
    sac, batch = make_sac(tmp_path)
    head_before = snapshot(sac.actor.trunk)
    metrics = sac.update(batch, update_actor=False)
    assert "losses/actor_loss" not in metrics and "losses/qf_loss" in metrics
    assert all(torch.equal(v, head_before[k]) for k, v in sac.actor.trunk.state_dict().items())


def test_separate_critic_encoder_keeps_critic_updates_off_the_actor(tmp_path: Path) -> None:
    """With its own encoder, the critic trains without moving anything the actor acts on; actor updates
    train the actor's encoder (the shared default trains it through the critic only)."""
    sac, batch = make_sac(tmp_path, "learner.separate_critic_encoder=true", "learner.critic_lr=1e-3")
    assert sac.critic_encoder is not None and "critic_encoder" in sac.networks()
    actor_before, critic_encoder_before = snapshot(sac.actor), snapshot(sac.critic_encoder)
    for _ in range(5):
        sac.update(batch, update_actor=False)
    assert all(torch.equal(v, actor_before[k]) for k, v in sac.actor.state_dict().items())
    assert any(not torch.equal(v, critic_encoder_before[k]) for k, v in sac.critic_encoder.state_dict().items())
    encoder_before = snapshot(sac.actor.encoder)
    sac.update(batch, update_actor=True)
    assert any(not torch.equal(v, encoder_before[k]) for k, v in sac.actor.encoder.state_dict().items())


def test_actor_head_on_encoded_features_matches_actor_forward(tmp_path: Path) -> None:
    """The learner encodes a batch once and calls ``Actor.head``; it must be the same policy as ``forward``."""
    sac, batch = make_sac(tmp_path)
    with torch.no_grad():
        expected = sac.actor(batch.images, batch.state, deterministic=True)
        got = sac.actor.head(sac.actor.encoder(batch.images, batch.state), deterministic=True)
        sampled = sac.actor(batch.images, batch.state, generator=torch.Generator().manual_seed(3))
        sampled_head = sac.actor.head(sac.actor.encoder(batch.images, batch.state),
                                      generator=torch.Generator().manual_seed(3))
    for a, b in [*zip(expected, got), *zip(sampled, sampled_head)]:
        torch.testing.assert_close(a, b)


def test_state_only_update_trains_without_images(tmp_path: Path) -> None:
    config = tiny_config(tmp_path, ["policy.model.use_images=false"])
    torch.manual_seed(0)
    sac = SAC(config.learner, config.policy.model, config.cameras.names, config.cameras.policy_image_size)
    assert sac.actor.cameras == [] and not any("per_camera" in n for n, _ in sac.actor.named_parameters())
    sampler = SyntheticSampler([], 16, config.policy.model.state_dim, {"a": 64}, seed=1)
    batch = to_torch(sampler.sample(config.learner.batch_size), torch.device("cpu"))
    assert batch.images == {}
    before = snapshot(sac.actor)
    losses = [float(sac.update(batch, update_actor=True)["losses/qf_loss"]) for _ in range(30)]
    assert losses[-1] < losses[0]
    assert any(not torch.equal(v, before[k]) for k, v in sac.actor.state_dict().items())


@pytest.mark.parametrize("size,subsample", [(1, 1), (2, 2), (10, 2)])
def test_critic_ensemble_shapes_and_redq_subsample(size: int, subsample: int) -> None:
    torch.manual_seed(0)
    qf = CriticEnsemble(feature_dim=5, action_dim=6, hidden_dims=[16], ensemble_size=size)
    features, action = torch.randn(7, 5), torch.rand(7, 6) * 2 - 1
    assert qf(features, action).shape == (size, 7)
    # the members differ (independent initialisation), so the subsample matters
    if size > 1:
        values = qf(features, action)
        assert not torch.allclose(values[0], values[1])


def test_without_entropy_backup_the_target_ignores_the_temperature(tmp_path: Path) -> None:
    """HIL-SERL's plain target (``learner.backup_entropy=false``): r + gamma * min Q', whatever alpha is."""
    sac, batch = make_sac(tmp_path, "learner.critic_subsample=2")
    features = sac.actor.encoder(batch.images, batch.state)
    next_features = sac.actor.encoder(batch.next_images, batch.next_state).detach()

    def target(alpha: float, backup: bool) -> float:
        torch.manual_seed(3)
        _, info = critic_loss(sac.qf, sac.qf_target, sac.actor, features, next_features, batch,
                              torch.tensor(alpha), 2, backup_entropy=backup)
        return float(info["charts/qf_target_values"])

    assert target(0.0, False) == target(5.0, False) == target(0.0, True)
    assert target(5.0, True) != target(0.0, True)


def test_redq_target_is_the_min_over_a_random_subset_of_target_heads(tmp_path: Path) -> None:
    sac, batch = make_sac(tmp_path, "learner.critic_ensemble_size=5", "learner.critic_subsample=1")
    batch = batch._replace(done=torch.zeros_like(batch.done))
    features = sac.actor.encoder(batch.images, batch.state)
    next_features = sac.actor.encoder(batch.next_images, batch.next_state).detach()
    targets = set()
    for seed in range(12):
        torch.manual_seed(seed)
        _, info = critic_loss(sac.qf, sac.qf_target, sac.actor, features, next_features, batch, sac.alpha, 1)
        targets.add(round(float(info["charts/qf_target_values"]), 5))
    assert len(targets) > 1, "subsample=1 should pick different heads on different draws"
    torch.manual_seed(0)
    _, info_all = critic_loss(sac.qf, sac.qf_target, sac.actor, features, next_features, batch, sac.alpha, 5)
    assert float(info_all["charts/qf_target_values"]) <= min(targets) + 1e-4  # min over all = the lowest


def test_gripper_critic_shape_and_choice_mapping() -> None:
    critic = GripperCritic(feature_dim=5, hidden_dims=[16])
    assert critic(torch.randn(4, 5)).shape == (2, 4, 3)
    current = torch.tensor([-1.0, -1.0, 1.0, 1.0, 0.0])
    command = torch.tensor([1.0, -0.9, -1.0, 0.8, 0.2])
    choice = command_to_choice(command, current, deadband=0.5)
    assert choice.tolist() == [CLOSE, STAY, OPEN, STAY, STAY]
    back = choice_to_command(torch.tensor([CLOSE, STAY, OPEN, STAY, STAY]), current)
    assert back.tolist() == [1.0, -1.0, -1.0, 1.0, 0.0]


def _gripper_critic_prefers(sac: SAC, choice: int) -> GripperCritic:
    """Make the gripper critic rate ``choice`` 10 and the others 0, whatever the features."""
    assert sac.gripper_qf is not None
    with torch.no_grad():
        last = sac.gripper_qf.net[-1]
        assert isinstance(last, EnsembleLinear)
        last.weight.zero_()
        last.bias.zero_()
        last.bias[:, :, choice] = 10.0
    return sac.gripper_qf


def test_gripper_output_follows_the_gripper_critic(tmp_path: Path) -> None:
    """Distillation: with a critic that always prefers CLOSE, the actor's gripper mean goes to +1."""
    sac, batch = make_sac(tmp_path, "learner.actor_lr=3e-3")
    _gripper_critic_prefers(sac, CLOSE)
    sac.optimizers["critic"].param_groups[0]["lr"] = 0.0  # keep the critic's preference fixed
    for _ in range(60):
        sac.update(batch, update_actor=True)
    with torch.no_grad():
        gripper = sac.actor(batch.images, batch.state, deterministic=True).action[:, 6]
    assert float(gripper.mean()) > 0.8


def test_random_shift_is_an_integer_translation_of_uint8_images() -> None:
    torch.manual_seed(0)
    images = torch.randint(0, 256, (8, 10, 12, 3), dtype=torch.uint8)
    shifted = random_shift(images, pad=2)
    assert shifted.shape == images.shape and shifted.dtype == torch.uint8
    assert torch.equal(random_shift(images, pad=0), images)
    padded = images.permute(0, 3, 1, 2).float()
    padded = torch.nn.functional.pad(padded, (2, 2, 2, 2), mode="replicate").permute(0, 2, 3, 1).to(torch.uint8)
    for b in range(8):  # every output is some crop of the edge-padded input
        crops = [padded[b, dy:dy + 10, dx:dx + 12] for dy in range(5) for dx in range(5)]
        assert any(torch.equal(shifted[b], c) for c in crops)
    assert not all(torch.equal(shifted[b], images[b]) for b in range(8))


def test_frozen_pretrained_encoder_stays_fixed(tmp_path: Path) -> None:
    from robot_rl.models.encoders import ConvBackbone

    backbone = ConvBackbone([8], [2])
    path = tmp_path / "encoder.safetensors"
    save_file({k: v.contiguous() for k, v in backbone.state_dict().items()}, str(path))
    sac, batch = make_sac(tmp_path, f"policy.model.pretrained_encoder_path={path}", "policy.model.freeze_encoder=true")
    encoder = sac.actor.encoder.per_camera["front"]
    assert isinstance(encoder, ImageEncoder)
    backbone_before, projection_before = snapshot(encoder.backbone), snapshot(encoder.projection)
    for _ in range(3):
        sac.update(batch, update_actor=True)
    assert all(torch.equal(v, backbone_before[k]) for k, v in encoder.backbone.state_dict().items())
    assert all(torch.equal(v, backbone.state_dict()[k]) for k, v in encoder.backbone.state_dict().items())
    assert any(not torch.equal(v, projection_before[k]) for k, v in encoder.projection.state_dict().items())


def test_bc_loss_imitates_only_the_operators_steps(tmp_path: Path) -> None:
    sac, batch = make_sac(tmp_path)
    mean = torch.zeros_like(batch.action)
    flags = torch.zeros_like(batch.reward)
    flags[:4] = 1.0
    loss, _ = bc_loss(mean, batch._replace(intervention=flags))
    expected = (batch.action[:4] ** 2).sum(dim=-1).mean()
    torch.testing.assert_close(loss, expected)
    none, _ = bc_loss(mean, batch._replace(intervention=torch.zeros_like(flags)))
    assert float(none) == 0.0


def test_bc_warm_start_moves_the_mean_action_onto_the_recorded_actions(tmp_path: Path) -> None:
    sac, batch = make_sac(tmp_path, "learner.bc_pretrain_updates=1", "learner.actor_lr=3e-3")
    batch = batch._replace(intervention=torch.ones_like(batch.reward),
                           action=torch.full_like(batch.action, 0.5))  # one action to imitate everywhere
    critics_before = snapshot(sac.qf)
    losses = [float(sac.bc_update(batch)["losses/bc_loss"]) for _ in range(60)]
    assert losses[-1] < 0.1 * losses[0], losses
    assert all(torch.equal(v, critics_before[k]) for k, v in sac.qf.state_dict().items())


def test_bc_weight_adds_the_imitation_term_to_the_actor_loss(tmp_path: Path) -> None:
    sac, batch = make_sac(tmp_path, "learner.bc_weight=1.0")
    metrics = sac.update(batch._replace(intervention=torch.ones_like(batch.reward)), update_actor=True)
    assert float(metrics["losses/bc_loss"]) > 0
    plain, _ = make_sac(tmp_path)
    assert "losses/bc_loss" not in plain.update(batch, update_actor=True)


def test_reference_pull_holds_the_actor_near_the_warm_started_one(tmp_path: Path) -> None:
    """``learner.reference_weight``: the warm start's end freezes a copy of the actor; later actor updates
    pay for moving the mean action away from it on every batch state (not only the operator's)."""
    sac, batch = make_sac(tmp_path, "learner.reference_weight=100", "learner.bc_pretrain_updates=1",
                          "learner.actor_lr=3e-3")
    assert sac.reference_actor is not None and "reference_actor" in sac.networks()
    for _ in range(5):
        sac.bc_update(batch._replace(intervention=torch.ones_like(batch.reward)))
    sac.freeze_reference()
    with torch.no_grad():
        reference = sac.actor(batch.images, batch.state, deterministic=True).mean_action
    free, _ = make_sac(tmp_path, "learner.bc_pretrain_updates=1", "learner.actor_lr=3e-3")
    free.load_state_dict(sac.state_dict(), strict=False)  # the same warm-started actor, without the pull
    drift, first = {}, {}
    for name, agent in (("pulled", sac), ("free", free)):
        torch.manual_seed(1)
        first[name] = agent.update(batch, update_actor=True)
        for _ in range(30):
            agent.update(batch, update_actor=True)
        with torch.no_grad():
            mean = agent.actor(batch.images, batch.state, deterministic=True).mean_action
        drift[name] = float(((mean - reference) ** 2).sum(dim=-1).mean())
    assert float(first["pulled"]["losses/reference_loss"]) < 0.05  # not 0: the actor sees shifted images (DrQ)
    assert "losses/reference_loss" not in first["free"]
    assert drift["pulled"] < 0.2 * drift["free"], drift
    assert all(not p.requires_grad for p in sac.reference_actor.parameters())


def test_reference_pull_needs_a_warm_start(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="bc_pretrain_updates > 0"):
        tiny_config(tmp_path, ["learner.reference_weight=1"])


def test_fixed_action_dims_are_zero_and_lower_the_entropy_target(tmp_path: Path) -> None:
    sac, batch = make_sac(tmp_path, "policy.model.fixed_action_dims=[3,4,5]")
    assert sac.target_entropy == -2.0  # four free dimensions: x, y, z, gripper
    out = sac.actor(batch.images, batch.state)
    assert torch.equal(out.action[:, 3:6], torch.zeros_like(out.action[:, 3:6]))
    assert out.action[:, :3].abs().sum() > 0 and torch.isfinite(out.log_prob).all()


def test_gripper_stay_gives_the_actor_no_target(tmp_path: Path) -> None:
    """A gripper closed on an object reads short of its command: "stay" must not mean "command that reading"."""
    sac, batch = make_sac(tmp_path)
    critic = _gripper_critic_prefers(sac, STAY)
    features = sac.actor.encoder(batch.images, batch.state).detach()
    pi = sac.actor.head(features)
    loss, info = gripper_distill_loss(pi, critic, features, torch.zeros_like(batch.reward))
    assert float(loss) == 0.0 and float(info["charts/gripper_stay_fraction"]) == 1.0
