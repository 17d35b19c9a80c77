#!/usr/bin/env bash
# A system MPI for the tests: Debian's Open MPI, and mpi4py built from source against it
# into a separate directory (put first on PYTHONPATH, it shadows the mpich-wheel mpi4py of
# the virtualenv). Usage: build.sh PYTHON TARGET_DIR. Installs openmpi with apt-get when
# run as root and it is missing. Exit status 0 when TARGET_DIR holds a working mpi4py.
set -euo pipefail
PY=$1
TARGET=$2
if ! dpkg -s libopenmpi-dev >/dev/null 2>&1 || ! dpkg -s openmpi-bin >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            openmpi-bin libopenmpi-dev >/dev/null
    else
        echo "system MPI: openmpi-bin and libopenmpi-dev are not installed" >&2
        exit 1
    fi
fi
# Open MPI's own compiler wrapper (a plain `mpicc` may be the mpich wheel's, first on the
# virtualenv's PATH).
MPICC=/usr/bin/mpicc.openmpi
[ -x "$MPICC" ] || MPICC=/usr/bin/mpicc
check() {
    PYTHONPATH="$TARGET" "$PY" -c \
        "import mpi4py.MPI as M; print(M.Get_library_version().splitlines()[0])"
}
if [ -f "$TARGET/mpi4py/__init__.py" ] && check 2>/dev/null; then
    exit 0
fi
rm -rf "$TARGET"  # missing, or built against another MPI
# Open MPI's headers first: the build adds the virtualenv's include directory, where the
# mpich wheel puts its own mpi.h.
CFLAGS="$("$MPICC" --showme:compile)" MPICC=$MPICC "$PY" -m pip install -q \
    --no-binary mpi4py --no-deps --no-cache-dir --target "$TARGET" mpi4py
check
