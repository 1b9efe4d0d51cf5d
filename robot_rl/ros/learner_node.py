"""learner: the SAC learner (``robot_rl.learn.Trainer``) on a timer, announcing weights to the policy server.

| topic (relative) | type | QoS | |
|---|---|---|---|
| policy/weights (pub) | std_msgs/String JSON {version, path, sha256} | LATCHED | each new weights file |

Parameters besides ``config``/``overrides``: ``synthetic`` ("" = follow ``learner.replays``; a number
of steps or a JSON file = synthetic data, for tests). Each timer tick runs one round of the trainer
(at most a few dozen updates); an idle learner looks for new episodes every ``learner.poll_s``. On
shutdown it writes a final checkpoint. For several GPUs use ``robot-rl train`` under torchrun.
"""
from __future__ import annotations

import time

from rcl_interfaces.msg import ParameterDescriptor
from std_msgs.msg import String

from robot_rl.learn.checkpoint import CheckpointError
from robot_rl.learn.data import open_replay_sampler, open_synthetic_sampler
from robot_rl.learn.trainer import Trainer
from robot_rl.models.weights import WeightsInfo
from robot_rl.ros import qos
from robot_rl.ros.diagnostics import OK
from robot_rl.ros.node_base import NodeStartError, RobotRLNode, run_node

TICK_S = 0.005  # timer period while there is work; rounds themselves take longer
# s of updates a tick at most: the executor serves a stop signal and the diagnostics between two ticks (with whole
# rounds of 64 updates, py-spy found the node still in one round's updates 2 s after SIGINT on the loaded 2-core CPU,
# its final weights came 3-5 s after the signal, and once it outlived the supervisor's 7 s grace)
ROUND_BUDGET_S = 0.5


class LearnerNode(RobotRLNode):
    def __init__(self) -> None:
        super().__init__("learner", sim_time=False)  # trains on wall time, whatever the sim does
        self.trainer: Trainer | None = None
        descriptor = ParameterDescriptor(dynamic_typing=True)  # "synthetic:=60" arrives as an integer
        synthetic = str(self.declare_parameter("synthetic", "", descriptor).value or "")
        seed = self.settings.learner.seed
        sampler = (open_synthetic_sampler(self.settings, synthetic, seed) if synthetic
                   else open_replay_sampler(self.settings, seed))
        self.weights_pub = self.create_publisher(String, "policy/weights", qos.LATCHED)
        try:
            self.trainer = Trainer(self.settings, sampler, on_weights=self.announce, console=False)
        except CheckpointError as err:
            raise NodeStartError(str(err)) from None
        self.get_logger().info(f"learner on {self.trainer.device}; checkpoints in {self.settings.learner.checkpoint_dir}")
        if self.trainer.resumed_from is not None:
            self.get_logger().info(f"resumed from {self.trainer.resumed_from}: {self.trainer.counters()}")
        self.next_poll = 0.0
        self.create_timer(TICK_S, self.tick)
        self.diagnostics.report(OK, "waiting for data", **self.trainer.counters())

    def tick(self) -> None:
        if self.trainer is None or time.monotonic() < self.next_poll:
            return
        if self.trainer.iterate(ROUND_BUDGET_S) == 0:
            self.next_poll = time.monotonic() + self.settings.learner.poll_s
        counters = self.trainer.counters()
        self.diagnostics.set_values(updates=counters["updates"], env_steps=counters["env_steps"],
                                    weights_version=counters["weights_version"])

    def announce(self, info: WeightsInfo) -> None:
        self.get_logger().info(f"weights v{info.version} -> {info.path}")
        if not self.context.ok():  # a context shut down by other means than a signal: the weights are on disk
            return  # (the policy server loads the newest at start), not announced
        self.weights_pub.publish(String(data=info.to_json()))
        self.diagnostics.report(OK, f"training; weights v{info.version}")

    def destroy_node(self) -> None:
        if self.trainer is not None:
            self.trainer.finish()  # final weights (announced: run_node shuts the context down after this) and checkpoint
        super().destroy_node()


def main(args: list[str] | None = None) -> None:
    raise SystemExit(run_node(LearnerNode, args))


if __name__ == "__main__":
    main()
