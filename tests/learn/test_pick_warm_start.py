"""The learner's behaviour-cloning warm start reproduces scripted pick demonstrations (state + cube position).

The check that comes before RL on pick: if imitation of the recorded demonstrations cannot pick the
cube, SAC from the same store will not either. It also guards the low-dimensional configuration
itself: without the cube position in the state the policy is blind and this rate is ~0.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from robot_rl.config import load_config, to_object
from robot_rl.learn.data import StoreSampler
from robot_rl.learn.trainer import Trainer
from robot_rl.replay import EpisodeWriter, ReplaySampler
from robot_rl.sim.pick_cube import PickCubeSim
from robot_rl.sim.session import PICK_STATE_DIM, SimSession, action_scale, group_info
from robot_rl.teleop.scripted import CorrectingOperator

DEMOS, BC_UPDATES, MAX_STEPS = 8, 1000, 100


def test_bc_warm_start_picks_the_cube_from_eight_scripted_demonstrations(tmp_path: Path) -> None:
    torch.manual_seed(0)
    config = to_object(load_config("sim", [
        f"run_dir={tmp_path}", "policy.model.use_images=false", f"policy.model.state_dim={PICK_STATE_DIM}",
        "policy.model.fixed_action_dims=[3,4,5]", "learner.device=cpu", "learner.learning_starts=1",
        f"learner.bc_pretrain_updates={BC_UPDATES}", "learner.log_every_updates=100000",
        "learner.weights_every_s=1e6", "learner.checkpoint_every_s=1e6"]))
    sim = PickCubeSim(config.sim, config.robot, config.cameras.names, render=False)
    scale = action_scale(config.policy.max_linear_speed, config.policy.max_angular_speed)
    store = Path(config.replay.path)
    config.learner.replays = [str(store)]
    try:
        with EpisodeWriter(store, "sim", group_info([], 1, scale.tolist(), config.robot.control_hz,
                                                    state_dim=PICK_STATE_DIM)) as writer:
            session = SimSession(sim, scale, writer, render=False, cube_in_state=True)
            operator = CorrectingOperator(sim.control_dt, max_speed=config.policy.max_linear_speed, demo_episodes=DEMOS)
            demos = [session.run_episode(None, operator, MAX_STEPS, seed=i) for i in range(DEMOS)]
        assert all(d.success and d.demo for d in demos)
        stored = ReplaySampler([str(store)], seed=0)
        stored.refresh()
        batch = stored.sample(256)  # operator actions in the actor's units, sparse reward 1 at success
        assert batch.state.shape[1] == PICK_STATE_DIM and np.abs(batch.action).max() <= 1.0
        assert np.all(batch.action[:, 3:6] == 0) and set(np.unique(batch.reward)) <= {0.0, 1.0}
        assert np.all(batch.done[batch.reward == 1.0] == 1.0) and batch.intervention.min() == 1.0

        trainer = Trainer(config, StoreSampler(config, seed=0), console=False, resume=False, max_updates=0)
        while trainer.bc_updates < BC_UPDATES:
            trainer.iterate()
        actor = trainer.sac.actor

        def policy(images: object, state: np.ndarray) -> np.ndarray:
            return actor.act({}, torch.from_numpy(state).unsqueeze(0), deterministic=True)[0].numpy()  # type: ignore[no-any-return]

        evaluator = SimSession(sim, scale, None, render=False, cube_in_state=True)
        outcomes = [evaluator.run_episode(policy, None, MAX_STEPS, seed=5000 + i) for i in range(5)]
    finally:
        sim.close()
    rate = float(np.mean([o.success for o in outcomes]))
    print(f"BC warm start, {DEMOS} demos, {BC_UPDATES} updates: policy-only pick success {rate:.0%}, "
          f"steps {[o.steps for o in outcomes]}")
    assert rate >= 0.8, [o.steps for o in outcomes]
