"""Test program that fails on rank 1 with a recognisable message."""

import os

rank = int(os.environ.get("SLURM_PROCID", "0"))
if rank == 1:
    raise RuntimeError("deliberate failure on rank 1")
print(f"rank {rank} fine", flush=True)
