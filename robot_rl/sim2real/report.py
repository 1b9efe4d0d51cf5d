"""``report.json`` (numbers) and PNG plots of a sim-to-real replay."""
from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from robot_rl.sim2real.core import Sim2RealReport


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def write_report(report: Sim2RealReport, directory: str | Path) -> dict[str, Path]:
    """Write ``report.json``, ``ee_trajectories.png`` and ``errors.png``; return their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    episodes = [{k: v for k, v in asdict(e).items() if k not in ("ee_recorded", "ee_replayed")}
                for e in report.episodes]
    doc = {"location": report.location, "group": report.group, "config": report.config,
           "summary": report.summary(), "episodes": episodes}
    paths = {"json": out / "report.json", "trajectories": out / "ee_trajectories.png", "errors": out / "errors.png"}
    paths["json"].write_text(json.dumps(_finite(doc), indent=2))
    _plot(report, paths)
    return paths


def _plot(report: Sim2RealReport, paths: dict[str, Path]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = report.episodes[:6]
    fig, axes = plt.subplots(1, max(len(shown), 1), figsize=(3.2 * max(len(shown), 1), 3.2), squeeze=False)
    for ax, episode in zip(axes[0], shown):
        rec, rep = np.array(episode.ee_recorded), np.array(episode.ee_replayed)
        ax.plot(rec[:, 0], rec[:, 1], "-", label="recorded")
        ax.plot(rep[:, 0], rep[:, 1], "--", label="replayed in sim")
        ax.set_title(f"episode {episode.index}: RMSE {episode.ee_rmse_m * 1000:.1f} mm", fontsize=9)
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        ax.axis("equal")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(paths["trajectories"], dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for episode in shown:
        error = np.linalg.norm(np.array(episode.ee_recorded) - np.array(episode.ee_replayed), axis=1)
        ax.plot(error * 1000, label=f"episode {episode.index}")
    ax.axhline(report.config["max_ee_rmse_m"] * 1000, color="r", ls=":", label="RMSE gate")
    ax.set_xlabel("step")
    ax.set_ylabel("ee distance recorded vs replayed (mm)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(paths["errors"], dpi=90)
    plt.close(fig)
