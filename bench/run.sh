#!/usr/bin/env bash
# The overhead benchmark (bench/overhead.c), with the machine described:
#   bench/run.sh [BUILD_DIR] [CHILDREN=300] [ROUNDS=31]
# Many short rounds: each round's ratios are taken between loops run seconds
# apart, and their median is what the targets are read against.
# Build with --buildtype=release for figures to publish.
set -euo pipefail
build=${1:-build}
n=${2:-300}
rounds=${3:-31}
[ -x "$build/bench/overhead" ] || { echo "build first: meson compile -C $build" >&2; exit 1; }
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cpus;" \
  "kernel $(uname -r); $(ldd --version | head -1)"
echo "uptime:$(uptime)"
exec "$build/bench/overhead" -n "$n" -r "$rounds"
