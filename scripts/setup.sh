#!/usr/bin/env bash
# Set up a development environment: a virtualenv in .venv with hpcarray (editable) and its
# test, MPI, benchmark, docs and gpu-build (NVRTC: the CUDA kernels compile without a GPU)
# extras, plus the Debian tools the tests use (Graphviz's dot,
# poppler's pdfinfo, headless Chromium) when run as root on Debian/Ubuntu.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# pip's output goes to a log, shown in full only when pip fails: a new user sees a few lines.
log=.venv/setup-pip.log
pip_quietly() {
    if ! .venv/bin/python -m pip "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "setup: error: pip $* failed (output above; also in $log)" >&2
        exit 1
    fi
}
echo "setup: installing hpcarray (editable) with its test, MPI, benchmark, docs and gpu-build extras into .venv"
pip_quietly install --upgrade pip
pip_quietly install -e '.[test,mpi,bench,docs,gpu-build]'

want=(graphviz poppler-utils chromium)
missing=()
for pkg in "${want[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "setup: installing ${missing[*]} (apt-get)"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    else
        echo "setup: optional Debian packages missing: ${missing[*]}" \
             "(tests that need them are skipped; install with apt-get as root)" >&2
    fi
fi
echo "setup: done ($(.venv/bin/python -c 'import hpcarray; print("hpcarray", hpcarray.__version__)'))"
