"""Which GPU a rank uses, and whether CuPy can run there.

One rank per GPU: a rank takes GPU (local rank mod the GPUs it sees). Where the job
binds one GPU per rank (CUDA_VISIBLE_DEVICES, srun --gpus-per-task, jsrun -g 1) every rank
sees one GPU and takes it.
"""

from __future__ import annotations

import os

# Launchers' local rank variables: Slurm, Open MPI, MPICH/Intel MPI (hydra), MVAPICH,
# Cray PALS, LSF jsrun.
LOCAL_RANK_VARIABLES = ("SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                        "MV2_COMM_WORLD_LOCAL_RANK", "PALS_LOCAL_RANKID",
                        "JSM_NAMESPACE_LOCAL_RANK")


def local_rank(nranks: int, environ=None) -> int:
    """This rank's index among the ranks on its node: from the launcher's variables, else
    MPI's shared-memory split of the world (every rank calls this at the same point:
    Runtime start), else 0."""
    env = os.environ if environ is None else environ
    for name in LOCAL_RANK_VARIABLES:
        text = env.get(name, "")
        if text.strip().isdigit():
            return int(text)
    if nranks > 1:
        try:
            from mpi4py import MPI
        except ImportError:
            return 0
        if MPI.Is_initialized() and not MPI.Is_finalized():
            node = MPI.COMM_WORLD.Split_type(MPI.COMM_TYPE_SHARED)
            try:
                return node.Get_rank()
            finally:
                node.Free()
    return 0


def probe(local: int):
    """(cupy, device index) where CuPy imports and this rank sees a GPU; else the reason
    (one line) that it cannot run here."""
    try:
        import cupy
    except ImportError as err:
        return f"CuPy does not import ({err}); install hpcarray[gpu] (CUDA 13) or " \
               "hpcarray[gpu-cuda12]"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # noqa: BLE001 - CUDARuntimeError: no driver, no device
        return f"no usable GPU ({_first_line(err)})"
    if count < 1:
        return "no GPU visible to this rank"
    return cupy, local % count


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
