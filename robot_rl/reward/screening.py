"""Data screening from VLAC: does a critic's value rise through an episode, and how often does it fall?

* **value-order correlation (VOC)**: Spearman's rank correlation between the predicted value of each
  frame and its time index. A clean successful episode reads close to +1; the same frames played
  backwards read close to -1; a fumbling or failed episode reads low. VLAC filters demonstrations
  below a VOC threshold.
* **negative-delta rate**: the share of consecutive frame pairs whose predicted progress is below
  ``-tolerance``: how often the episode moved away from the goal (VLAC masks such steps).

Both are plain functions of arrays (no model), so ``robot-rl replay inspect`` and filters can call
them on values from any critic; ``screen_episodes`` runs a critic over episodes and returns both.
The filter (``passes``: VOC at least ``--min-voc``, negative-delta rate at most
``--max-negative-rate``) is written by ``robot-rl replay inspect ... --keep FILE`` as the episodes
to keep per group, which ``robot-rl reward train-* --keep FILE`` trains on.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from robot_rl.replay.errors import ReplayError

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


def screen_store(store: str, model_path: str, groups: Sequence[str] | None = None, goal: str | None = None,
                 device: str = "cpu") -> list[EpisodeScreen]:
    """Screen every committed episode of ``store`` (``groups``: default all) with a progress critic file."""
    from robot_rl.reward.data import load_episodes
    from robot_rl.reward.progress import ProgressCritic

    critic = ProgressCritic.load(model_path, device)
    if goal is not None:
        from robot_rl.reward.goals import normalize_goal

        goal = normalize_goal(goal)  # an empty --goal is a mistake, not "use the recorded goal"
    return screen_episodes(critic, load_episodes(store, groups, critic.cameras, critic.image_size), goal)


def passes(screen: EpisodeScreen, min_voc: float | None, max_negative_rate: float | None) -> bool:
    """The filter: VOC at least ``min_voc`` and negative-delta rate at most ``max_negative_rate`` (None: no limit)."""
    return ((min_voc is None or screen.voc >= min_voc)
            and (max_negative_rate is None or screen.negative_delta_rate <= max_negative_rate))


def kept_episodes(screens: Sequence[EpisodeScreen], min_voc: float | None,
                  max_negative_rate: float | None = None) -> dict[str, list[int]]:
    """Group -> episodes that pass the filter: the ``--keep`` file training reads (``load_keep``)."""
    out: dict[str, list[int]] = {}
    for s in screens:
        out.setdefault(s.group, [])
        if passes(s, min_voc, max_negative_rate):
            out[s.group].append(s.episode)
    return out


def screen_lines(screens: Sequence[EpisodeScreen], min_voc: float | None = None,
                 max_negative_rate: float | None = None) -> list[str]:
    """A table of the screens, with a keep column and a summary when a filter is given."""
    filtered = min_voc is not None or max_negative_rate is not None
    lines = [f"{'group':<12} {'episode':>7} {'steps':>5} {'success':>7} {'VOC':>6} {'neg.delta':>9}"
             + ("  keep" if filtered else "")]
    for s in screens:
        lines.append(f"{s.group:<12} {s.episode:>7} {s.steps:>5} {str(s.success):>7} {s.voc:>6.3f} "
                     f"{s.negative_delta_rate:>9.3f}" + (f"  {'yes' if passes(s, min_voc, max_negative_rate) else 'no'}"
                                                         if filtered else ""))
    if filtered:
        kept = sum(passes(s, min_voc, max_negative_rate) for s in screens)
        lines.append(f"{kept} of {len(screens)} episodes pass (VOC >= {min_voc}, negative-delta rate <= "
                     f"{max_negative_rate})")
    return lines


def write_keep(path: str | Path, kept: Mapping[str, Sequence[int]], **facts: object) -> None:
    """Write the filter's result (``kept_episodes``) as JSON, with the facts that produced it."""
    Path(path).write_text(json.dumps({**facts, "episodes": {g: list(map(int, e)) for g, e in kept.items()}}, indent=1))


def load_keep(path: str | Path) -> dict[str, set[int]]:
    """Read a ``--keep`` file (``robot-rl replay inspect --progress-model ... --keep FILE``)."""
    try:
        episodes = json.loads(Path(path).read_text())["episodes"]
        return {str(g): {int(e) for e in v} for g, v in episodes.items()}
    except FileNotFoundError:
        raise ReplayError(f"{path}: no such keep file; write one with robot-rl replay inspect STORE "
                          "--progress-model MODEL --min-voc X --keep FILE") from None
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ReplayError(f"{path} is not a keep file ({err}); write one with robot-rl replay inspect STORE "
                          "--progress-model MODEL --min-voc X --keep FILE") from None
