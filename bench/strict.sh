#!/usr/bin/env bash
# Cost per exec of strict mode next to preload mode: the same fork+exec loop
# run plain, under `execguard run` (the preload library) and under
# `execguard run --strict` (seccomp supervisor; the library is loaded too,
# but steps aside), rounds interleaved in one run.
#   bench/strict.sh [BUILD_DIR] [N] [ROUNDS]
# Prints the median time per child for each and the cost each mode adds.
set -euo pipefail
build=${1:-build}
n=${2:-1000}
rounds=${3:-7}
eg="$build/cli/execguard"
fe="$build/bench/forkexec"
[ -x "$eg" ] && [ -x "$fe" ] || { echo "build first: meson compile -C $build" >&2; exit 1; }
if ! "$eg" run --strict -- true 2>/dev/null; then
	echo "strict mode is not available here:" >&2
	"$eg" run --strict -- true || true
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# a program the packs index (its rules are tried): a copy of /bin/true named git
cp /bin/true "$tmp/git"
# a script: strict mode's check after exec also predicts its interpreter line
printf '#!/bin/sh\n' > "$tmp/script"
chmod +x "$tmp/script"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_case() { # label mode program...
	local label=$1 mode=$2; shift 2
	: > "$tmp/plain"; : > "$tmp/preload"; : > "$tmp/strict"
	for _ in $(seq "$rounds"); do
		"$fe" "$mode" "$n" "$@" >> "$tmp/plain"
		"$eg" run -- "$fe" "$mode" "$n" "$@" >> "$tmp/preload"
		"$eg" run --strict -- "$fe" "$mode" "$n" "$@" >> "$tmp/strict"
	done
	local b p s
	b=$(median < "$tmp/plain"); p=$(median < "$tmp/preload"); s=$(median < "$tmp/strict")
	awk -v l="$label" -v b="$b" -v p="$p" -v s="$s" 'BEGIN {
		printf "%-30s plain %7.1f us   preload %7.1f us (+%6.1f)   strict %7.1f us (+%6.1f)\n",
			l, b/1000, p/1000, (p-b)/1000, s/1000, (s-b)/1000 }'
}

echo "fork+exec loop, $n children, median of $rounds interleaved rounds, $(nproc) cpus"
echo "rules in effect: $("$eg" rules | tail -1)"
run_case "spawn /bin/true (no rule)" spawn /bin/true
run_case "fork+execv /bin/true" fork /bin/true
run_case "spawn git (indexed)" spawn "$tmp/git" status
run_case "spawn a #! script" spawn "$tmp/script"
