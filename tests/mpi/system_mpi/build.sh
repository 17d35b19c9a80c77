#!/usr/bin/env bash
# A system MPI for the tests: Debian's Open MPI, and mpi4py built from source against it
# into a separate directory (put first on PYTHONPATH, it shadows the mpich-wheel mpi4py of
# the virtualenv). Usage: build.sh PYTHON TARGET_DIR. Installs openmpi with apt-get when
# run as root and it is missing. Exit status 0 when TARGET_DIR holds a working mpi4py.
set -euo pipefail
PY=$1
TARGET=$2
if ! command -v mpicc >/dev/null || ! dpkg -s openmpi-bin >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            openmpi-bin libopenmpi-dev >/dev/null
    else
        echo "system MPI: openmpi-bin and libopenmpi-dev are not installed" >&2
        exit 1
    fi
fi
if [ ! -f "$TARGET/mpi4py/__init__.py" ]; then
    MPICC=$(command -v mpicc) "$PY" -m pip install -q --no-binary mpi4py --no-deps \
        --target "$TARGET" mpi4py
fi
PYTHONPATH="$TARGET" "$PY" -c "import mpi4py.MPI as M; print(M.Get_library_version().splitlines()[0])"
