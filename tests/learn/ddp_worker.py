"""Run under torchrun: a tiny learner on synthetic data; every rank saves its final parameters."""
from __future__ import annotations

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from robot_rl.learn import distributed
from robot_rl.learn.synthetic import SyntheticSampler
from robot_rl.learn.trainer import Trainer
from tests.learn.conftest import tiny_config


def main(out: Path) -> None:
    torch.set_num_threads(1)
    config = tiny_config(out / "run", ["learner.learning_starts=10", "learner.utd_ratio=1"])
    info = distributed.init_distributed(torch.device("cpu"))
    assert info.world_size == 2, info
    initial = None
    sampler = SyntheticSampler(["front"], 16, 10, {"synthetic": 40}, seed=100 + info.rank)  # each rank its own data
    trainer = Trainer(config, sampler, console=False, dist_info=info, device=torch.device("cpu"), resume=False)
    initial = {k: v.detach().clone() for k, v in trainer.sac.state_dict().items()}
    trainer.run(stop_when_idle=True)
    final = {k: v.detach().contiguous() for k, v in trainer.sac.state_dict().items()}
    save_file(final, str(out / f"rank{info.rank}.safetensors"))
    save_file({k: v.contiguous() for k, v in initial.items()}, str(out / f"initial{info.rank}.safetensors"))
    (out / f"rank{info.rank}.updates").write_text(str(trainer.updates))
    distributed.shutdown(info)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
