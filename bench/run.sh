#!/usr/bin/env bash
# The overhead benchmark (bench/overhead.c), with the machine described:
#   bench/run.sh [BUILD_DIR] [CHILDREN=10] [ROUNDS=600]
# Many short rounds: each round's ratios are taken between batches of
# CHILDREN run within a fraction of a second of each other, and their median
# (with its 95 % interval) is what the targets are read against.
# Build with --buildtype=release for figures to publish.
set -euo pipefail
build=${1:-build}
n=${2:-10}
rounds=${3:-600}
[ -x "$build/bench/overhead" ] || { echo "build first: meson compile -C $build" >&2; exit 1; }
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cpus;" \
  "kernel $(uname -r); $(ldd --version | head -1)"
echo "uptime:$(uptime)"
exec "$build/bench/overhead" -n "$n" -r "$rounds"
