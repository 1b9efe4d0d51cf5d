"""Data screening from VLAC: does a critic's value rise through an episode, and how often does it fall?

* **value-order correlation (VOC)**: Spearman's rank correlation between the predicted value of each
  frame and its time index. A clean successful episode reads close to +1; the same frames played
  backwards read close to -1; a fumbling or failed episode reads low. VLAC filters demonstrations
  below a VOC threshold.
* **negative-delta rate**: the share of consecutive frame pairs whose predicted progress is below
  ``-tolerance``: how often the episode moved away from the goal (VLAC masks such steps).

Both are plain functions of arrays (no model), so ``robot-rl replay inspect`` and filters can call
them on values from any critic; ``screen_episodes`` runs a critic over episodes and returns both.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from robot_rl.reward.data import Episode
    from robot_rl.reward.progress import ProgressCritic


def rankdata(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Ranks 1..n, ties sharing their average rank (as Spearman's correlation needs)."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.arange(1, len(x) + 1)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return np.asarray(sums[inverse] / counts[inverse], dtype=np.float64)


def spearman(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Spearman's rank correlation; 0.0 when either side is constant (no order to agree with)."""
    ra, rb = rankdata(a), rankdata(b)
    if len(ra) != len(rb):
        raise ValueError(f"spearman: {len(ra)} values against {len(rb)}")
    if len(ra) < 2 or ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def value_order_correlation(values: npt.ArrayLike) -> float:
    """VOC of one episode: Spearman of the predicted values against time."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    return spearman(v, np.arange(len(v)))


def negative_delta_rate(deltas: npt.ArrayLike, tolerance: float = 0.01) -> float:
    """Share of progress deltas below ``-tolerance`` (0.0 for an empty episode)."""
    d = np.asarray(deltas, dtype=np.float64).reshape(-1)
    return float((d < -tolerance).mean()) if d.size else 0.0


@dataclass
class EpisodeScreen:
    group: str
    episode: int
    steps: int
    success: bool
    voc: float
    negative_delta_rate: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def screen_episodes(critic: ProgressCritic, episodes: Sequence[Episode], goal: str | None = None,
                    tolerance: float = 0.01) -> list[EpisodeScreen]:
    """VOC and negative-delta rate of each episode under ``critic`` (goal: each episode's own by default)."""
    out = []
    for e in episodes:
        values, deltas = critic.episode_values(e.images, goal or e.goal)
        out.append(EpisodeScreen(e.group, e.index, len(e), e.success, value_order_correlation(values),
                                 negative_delta_rate(deltas, tolerance)))
    return out
