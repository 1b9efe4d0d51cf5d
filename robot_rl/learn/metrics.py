"""Learner metrics: TensorBoard event files and a console progress bar, written by rank 0 only.

Stable names (CleanRL's grouping):

- ``losses/qf_loss``, ``losses/gripper_qf_loss``, ``losses/actor_loss``, ``losses/gripper_distill_loss``,
  ``losses/alpha_loss``;
- ``charts/qf_values``, ``charts/qf_target_values``, ``charts/gripper_qf_values``, ``charts/alpha``,
  ``charts/entropy``;
- ``charts/updates_per_s``, ``charts/sample_ms``, ``charts/update_ms``, ``charts/sample_time_fraction``;
- ``replay/env_steps``, ``replay/steps/<store>::<group>`` (committed steps per group),
  ``replay/transitions/<bucket>`` (sampleable transitions per RLPD mixing bucket).
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch
from tqdm import tqdm


class MetricsLogger:
    """Averages metric tensors between writes (one device sync per write) and shows a progress bar."""

    def __init__(self, log_dir: str | Path | None, total_updates: int | None = None, initial: int = 0,
                 console: bool = True) -> None:
        self.writer = None
        if log_dir is not None:
            from torch.utils.tensorboard import SummaryWriter  # tensorboard is heavy: only where logs are written

            Path(log_dir).mkdir(parents=True, exist_ok=True)
            self.writer = SummaryWriter(str(log_dir))
        self.bar = tqdm(total=total_updates, initial=initial, unit="upd", dynamic_ncols=True, file=sys.stderr,
                        disable=not console, mininterval=1.0)
        self.pending: dict[str, list[torch.Tensor]] = {}
        self.last: dict[str, float] = {}

    def accumulate(self, metrics: dict[str, torch.Tensor]) -> None:
        for name, value in metrics.items():
            self.pending.setdefault(name, []).append(value)

    def advance(self, updates: int) -> None:
        self.bar.update(updates)

    def write(self, step: int, extra: dict[str, float]) -> dict[str, float]:
        """Average what was accumulated, add ``extra``, write at ``step``; return what was written."""
        scalars = {name: float(torch.stack(values).float().mean()) for name, values in self.pending.items()}
        self.pending.clear()
        scalars.update(extra)
        if self.writer is not None:
            for name, value in scalars.items():
                self.writer.add_scalar(name, value, step)
        self.last = scalars
        self.bar.set_postfix({key: f"{scalars[name]:.3g}" for key, name in (
            ("qf", "losses/qf_loss"), ("actor", "losses/actor_loss"), ("alpha", "charts/alpha"),
            ("ups", "charts/updates_per_s"), ("env", "replay/env_steps")) if name in scalars}, refresh=False)
        return scalars

    def message(self, text: str) -> None:
        self.bar.write(text, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()
