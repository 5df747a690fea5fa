#!/usr/bin/env bash
# Fork+exec overhead of the guard, as a ratio against the same loop without
# the library, measured in one run with the rounds interleaved.
#   bench/run.sh [BUILD_DIR] [N] [ROUNDS]
set -euo pipefail
build=${1:-build}
n=${2:-2000}
rounds=${3:-7}
eg="$build/cli/execguard"
fe="$build/bench/forkexec"
empty="$(cd "$build/bench" && pwd)/empty_preload.so"
[ -x "$eg" ] && [ -x "$fe" ] || { echo "build first: meson compile -C $build" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A program no rule names (/bin/true), and one the packs index (git, here a
# harmless copy of /bin/true named git, so its rules are tried and compiled).
cp /bin/true "$tmp/git"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_case() { # label wrapper mode program...   (wrapper: guard | empty)
  local label=$1 wrapper=$2 mode=$3; shift 3
  : > "$tmp/base"; : > "$tmp/guard"
  for _ in $(seq "$rounds"); do
    "$fe" "$mode" "$n" "$@" >> "$tmp/base"
    if [ "$wrapper" = guard ]; then
      "$eg" run -- "$fe" "$mode" "$n" "$@" >> "$tmp/guard"
    else
      LD_PRELOAD="$empty" "$fe" "$mode" "$n" "$@" >> "$tmp/guard"
    fi
  done
  local b g
  b=$(median < "$tmp/base"); g=$(median < "$tmp/guard")
  awk -v l="$label" -v b="$b" -v g="$g" 'BEGIN {
    printf "%-34s without %7.1f us   with %7.1f us   ratio %.3f\n", l, b/1000, g/1000, g/b }'
}

echo "fork+exec loop, $n children, median of $rounds interleaved rounds, $(nproc) cpus"
echo "rules in effect: $("$eg" rules | tail -1)"
run_case "spawn /bin/true, empty preload" empty spawn /bin/true
run_case "spawn /bin/true (no rule)" guard spawn /bin/true
run_case "fork+execv /bin/true (no rule)" guard fork /bin/true
run_case "spawn git status (indexed)" guard spawn "$tmp/git" status
