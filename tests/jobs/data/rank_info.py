"""Test program for the job tests: one line of rank facts and a numpy checksum per rank."""

import os
import sys

import numpy as np

rank = int(os.environ.get("SLURM_PROCID", os.environ.get("PMI_RANK", "0")))
size = int(os.environ.get("SLURM_NTASKS", os.environ.get("PMI_SIZE", "1")))
node = os.environ.get("SLURMD_NODENAME", "local")
local = os.environ.get("SLURM_LOCALID", "0")
gpus = os.environ.get("CUDA_VISIBLE_DEVICES", "-")
checksum = int(np.arange(1000, dtype=np.int64).sum() * (rank + 1))
args = "|".join(sys.argv[1:])
print(
    f"rank={rank} size={size} node={node} local={local} gpus={gpus} "
    f"checksum={checksum} args={args}",
    flush=True,
)
