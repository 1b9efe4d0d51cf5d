"""The gripper: recorded commands -> the discrete critic's choices, and its greedy choice -> a command.

The robot takes the gripper command as an absolute position target in ``[-1 open, +1 closed]``
(``robot_rl.robot.interface``), and the policy server runs only the actor, whose 7th output is that
command. HIL-SERL trains the gripper with a separate discrete critic over ``close / stay / open``; the
two fit together like this:

1. **Labels.** A recorded step's choice is read from how its command moves the gripper: the gripper's
   current position, from the state vector (``state[gripper_state_index]``, driver units mapped onto
   ``[-1, 1]`` with ``robot.gripper_open_position`` / ``gripper_closed_position``), is the command that
   would keep it where it is. A command more than ``deadband`` above that is *close*, more than
   ``deadband`` below is *open*, anything in between is *stay*.
2. **Critic.** ``GripperCritic`` learns ``Q(s, g)`` on those labels with double Q-learning (the target
   takes the greedy choice of the online heads, valued by the minimum of the target heads).
3. **Actor.** The actor's 7th mean output is regressed onto the command of the critic's greedy choice
   (close -> +1, open -> -1; stay gives no target, see ``robot_rl.learn.sac.gripper_distill_loss``),
   so the policy server's plain ``Actor`` acts on what the gripper critic prefers. The continuous critics see only the 6 arm
   dimensions, so the gripper output gets no gradient from them.

The entropy bonus still covers all 7 actor outputs (the actor's log-probability is a sum over them);
with ``policy.deterministic=true`` the robot uses the mean, which is what the regression trains.
"""
from __future__ import annotations

import torch

CLOSE, STAY, OPEN = 0, 1, 2  # indices of robot_rl.models.critics.GRIPPER_CHOICES


def gripper_position_command(state: torch.Tensor, index: int, open_position: float,
                             closed_position: float) -> torch.Tensor:
    """The command that holds the gripper where it is: its position from ``state`` mapped onto [-1, 1]."""
    position = state[:, index]
    fraction = (position - open_position) / (closed_position - open_position)
    return (2.0 * fraction - 1.0).clamp(-1.0, 1.0)


def command_to_choice(command: torch.Tensor, current: torch.Tensor, deadband: float) -> torch.Tensor:
    """Recorded gripper commands ``B`` -> choice indices ``B`` (close / stay / open), relative to ``current``."""
    change = command - current
    choice = torch.full_like(command, STAY, dtype=torch.long)
    choice[change > deadband] = CLOSE
    choice[change < -deadband] = OPEN
    return choice


def choice_to_command(choice: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
    """Choice indices ``B`` -> the command the actor should output: +1, the current position, or -1."""
    command = current.clone()
    command[choice == CLOSE] = 1.0
    command[choice == OPEN] = -1.0
    return command
