#!/usr/bin/env bash
# The overhead benchmark (bench/overhead.c), with the machine described:
#   bench/run.sh [BUILD_DIR] [CHILDREN=10] [ROUNDS=600] [OVERHEAD_OPTION...]
# Many short rounds: each round's ratios are taken between batches of
# CHILDREN run within a fraction of a second of each other, and their median
# (with its 95 % interval) is what the targets are read against.
# Build with --buildtype=release for figures to publish.
set -euo pipefail
build=${1:-build}
n=${2:-10}
rounds=${3:-600}
shift $(($# < 3 ? $# : 3))
[ -x "$build/bench/overhead" ] || { echo "build first: meson compile -C $build" >&2; exit 1; }
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cpus;" \
  "kernel $(uname -r); $(ldd --version | head -1)"
# What a page costs depends most on how the machine is virtualized (a
# hypervisor that shadows page tables in software makes each page a process
# touches first costly) and on page-table isolation (two page-table switches
# per system call): both are printed. dmesg needs root; lscpu otherwise.
hv=$( (dmesg 2>/dev/null | sed -n 's/.*Hypervisor detected: *//p' | head -1) || true)
[ -n "$hv" ] || hv=$(lscpu | sed -n 's/^Hypervisor vendor: *//p')
[ -n "$hv" ] || ! grep -qw hypervisor /proc/cpuinfo || hv="one (kind not known without root)"
echo "hypervisor: ${hv:-none detected}; meltdown:" \
  "$(cat /sys/devices/system/cpu/vulnerabilities/meltdown 2>/dev/null || echo unknown)"
echo "uptime:$(uptime)"
exec "$build/bench/overhead" -n "$n" -r "$rounds" "$@"
