"""Plot per-tick latencies written by ``bench_policy_latency.py --samples``: over time, and as a distribution.

    python benchmarks/plot_policy_latency.py out.png "H100, CUDA graph=gpu.csv" "2-core CPU=cpu.csv"

Each argument after the image is ``label=path`` (or a bare path, labelled with its file name). The time
panel shows whether slow ticks are spread out, periodic or bunched (a machine warming up); the
distribution panel marks the issue's targets.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

TARGETS_MS = {"CPU p50 target": 10.0, "GPU p99 target": 5.0}


def read_samples(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(seconds since the first tick, latency ms) from a ``--samples`` CSV."""
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    if data.shape[1] != 3:
        raise ValueError(f"{path}: expected the columns tick,time_s,latency_ms (bench_policy_latency.py --samples)")
    return data[:, 1], data[:, 2]


def plot(series: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, (over_time, cdf) = plt.subplots(2, 1, figsize=(9, 7))
    for label, (t, latency) in series.items():
        p50, p99 = np.percentile(latency, [50, 99])
        name = f"{label} (p50 {p50:.1f}, p99 {p99:.1f} ms)"
        over_time.plot(t, latency, ".", markersize=2, label=name)
        cdf.plot(np.sort(latency), np.arange(1, latency.size + 1) / latency.size, label=name)
    for text, ms in TARGETS_MS.items():
        cdf.axvline(ms, color="grey", linestyle=":", linewidth=1)
        cdf.text(ms, 0.02, f" {text}", rotation=90, fontsize=7, color="grey", va="bottom")
    over_time.set(yscale="log", xlabel="time since the first measured tick (s)", ylabel="publish -> action (ms)",
                  title="policy latency per tick")
    cdf.set(xscale="log", xlabel="publish -> action (ms)", ylabel="fraction of ticks")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    for axis, log_axis in ((over_time, over_time.yaxis), (cdf, cdf.xaxis)):
        log_axis.set_major_formatter(plain)
        log_axis.set_minor_formatter(plain)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("image", type=Path, help="the PNG to write")
    parser.add_argument("samples", nargs="+", help="label=path of a --samples CSV, or a path")
    args = parser.parse_args(argv)
    series = {}
    for item in args.samples:
        label, _, path = item.rpartition("=")
        series[label or Path(path).stem] = read_samples(Path(path))
    plot(series, args.image)
    print(f"wrote {args.image}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
