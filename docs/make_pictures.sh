#!/usr/bin/env bash
# Remake the profiling pictures in docs/img/ from a real run: the stencil at 2 ranks with
# tiny tiles (--test-mode), profiled with its dataflow and event graphs; a headless
# Chromium screenshot of timeline.html, and the graph PDFs as PNGs (pdftoppm).
# Needs: .venv (scripts/setup.sh), chromium, poppler-utils. Usage: docs/make_pictures.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/img}   # where the pictures go (tests/docs writes them elsewhere)
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! .venv/bin/hpcarray run -n 2 --workers 1 --test-mode --profile "$work/prof" --dataflow \
        --event examples/stencil.py --size 30 --iters 1 --warmup 0 >"$work/run.log" 2>&1; then
    cat "$work/run.log" >&2
    exit 1
fi

rm -f "$out/timeline.png"
chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
# --virtual-time-budget lets the page's scripts (plotly) draw before the shot is taken.
"$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --enable-unsafe-swiftshader \
    --user-data-dir="$work/chromium" --hide-scrollbars --window-size=1400,780 \
    --virtual-time-budget=5000 --screenshot="$out/timeline.png" \
    "file://$work/prof/timeline.html" >"$work/chromium.log" 2>&1 || true
[ -s "$out/timeline.png" ] || { cat "$work/chromium.log" >&2; exit 1; }

pdftoppm -png -r 60 -singlefile "$work/prof/dataflow_stencil.pdf" "$out/dataflow"
pdftoppm -png -r 40 -singlefile "$work/prof/event_graph_stencil.pdf" "$out/event_graph"
ls -l "$out"/*.png
