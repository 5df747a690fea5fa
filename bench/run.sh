#!/usr/bin/env bash
# The overhead benchmark (bench/overhead.c), with the machine described:
#   bench/run.sh [BUILD_DIR] [CHILDREN] [ROUNDS]
# Build with --buildtype=release for figures to publish.
set -euo pipefail
build=${1:-build}
n=${2:-1000}
rounds=${3:-9}
[ -x "$build/bench/overhead" ] || { echo "build first: meson compile -C $build" >&2; exit 1; }
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cpus;" \
  "kernel $(uname -r); $(ldd --version | head -1)"
echo "uptime:$(uptime)"
exec "$build/bench/overhead" -n "$n" -r "$rounds"
