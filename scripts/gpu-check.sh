#!/usr/bin/env bash
# The GPU check (issue 16): on one H100/H200, in at most 8 minutes, with what GPU machines
# have (Python 3.12, numpy, numba, cupy-cuda13x, mpi4py, pytest, hypothesis, jinja2, pyyaml;
# no network: hpcarray is used from this checkout through PYTHONPATH, nothing installed).
#   kernels   every fused call of the differential programs, also run by the GPU backend's
#             generated kernels on GPU copies of its inputs, against the CPU's values
#   suite     differential test files with forced tiny tiles on HPCARRAY_BACKEND=cupy
#   examples  the examples' checksums on HPCARRAY_BACKEND=cupy against NumPy's; the stencil
#             recorded: every task's GPU span from CUDA events on the rank's stream
#   bench     stencil N=16384, Black-Scholes 1e8, CG: NumPy, plain CuPy and hpcarray, with
#             effective bandwidth
# Usage: scripts/gpu-check.sh [--only STAGE,...] [--quick] [--help]
# Exit status: 0 all passed, 1 a stage failed, 2 bad arguments, 3 no GPU here.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ]; then PY=.venv/bin/python; fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# a stage that hangs must not eat the machine's time: the whole check stops at 8 minutes
exec timeout --signal=TERM --kill-after=10 480 "$PY" scripts/gpu_check.py "$@"
