"""Plots next to the numbers: PNGs written beside the calibration YAML (matplotlib, Agg backend)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend first)
import numpy as np  # noqa: E402

from robot_rl.calibration.handeye import HandEyeReport  # noqa: E402
from robot_rl.calibration.intrinsics import COVERAGE_GRID, IntrinsicsReport  # noqa: E402


def plot_intrinsics(report: IntrinsicsReport, path: str | Path) -> Path:
    """Per-view RMS reprojection error (rejected views red, missing boards grey) and corner coverage."""
    fig, (ax_err, ax_cov) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [3, 1]})
    names = [v.source for v in report.views]
    values = [v.rms_px if v.rms_px is not None else 0.0 for v in report.views]
    colors = ["lightgrey" if v.rms_px is None else "tab:red" if v.rejected else "tab:blue" for v in report.views]
    ax_err.bar(range(len(names)), values, color=colors)
    ax_err.axhline(report.rms_px, color="k", linestyle="--", label=f"overall RMS {report.rms_px:.3f} px")
    ax_err.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
    ax_err.set_ylabel("RMS reprojection error (px)")
    ax_err.set_title(f"{report.intrinsics.camera_name or 'camera'}: per-view error (red: rejected, grey: no board)")
    ax_err.legend()
    counts = report.coverage.counts
    ax_cov.imshow(counts, cmap="Greens", vmin=0)
    for r in range(COVERAGE_GRID):
        for c in range(COVERAGE_GRID):
            ax_cov.text(c, r, str(int(counts[r, c])), ha="center", va="center",
                        color="red" if counts[r, c] == 0 else "black")
    ax_cov.set_xticks([])
    ax_cov.set_yticks([])
    ax_cov.set_title(f"corners per image region ({report.coverage.fraction * 100:.0f}% covered)")
    return _save(fig, path)


def plot_handeye(report: HandEyeReport, path: str | Path) -> Path:
    """Residual per sample (mm and deg) and each method's distance from the chosen one."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    res = report.chosen
    x = np.arange(len(report.sources))
    axes[0].bar(x, res.residual_mm, color="tab:blue")
    axes[0].set_ylabel("mm")
    axes[0].set_title(f"translation residual per sample ({res.method}), rms {res.rms_mm:.2f} mm")
    axes[1].bar(x, res.residual_deg, color="tab:orange")
    axes[1].set_ylabel("deg")
    axes[1].set_title(f"rotation residual per sample, rms {res.rms_deg:.3f} deg")
    for ax in axes[:2]:
        ax.set_xticks(x, report.sources, rotation=60, ha="right", fontsize=7)
    spread = report.spread()
    names = list(spread)
    axes[2].bar(np.arange(len(names)) - 0.2, [spread[n][0] for n in names], 0.4, label="mm")
    axes[2].bar(np.arange(len(names)) + 0.2, [spread[n][1] for n in names], 0.4, label="deg")
    axes[2].set_xticks(range(len(names)), names, rotation=30)
    axes[2].set_title("distance of each method from the chosen one")
    axes[2].legend()
    return _save(fig, path)


def _save(fig: plt.Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
