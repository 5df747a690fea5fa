#!/usr/bin/env bash
# Cost per exec of strict mode next to preload mode: the same fork+exec loop
# run plain, under `execguard run` (the preload library) and under
# `execguard run --strict` (seccomp supervisor; the library is loaded too,
# but steps aside), rounds interleaved in one run.
#   bench/strict.sh [BUILD_DIR] [N] [ROUNDS]
# For each, the median over the rounds of: wall time per child (what the
# loop waits), and CPU time per child (user + system of every process of the
# run, the supervisor included: steadier than wall time on a shared machine).
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

# "WALL_NS CPU_NS" per child for one run of the loop
measure() {
	python3 - "$n" "$@" <<'PY'
import resource, subprocess, sys
n = int(sys.argv[1])
out = subprocess.run(sys.argv[2:], stdout=subprocess.PIPE, check=True).stdout.split()[-1]
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(int(out), int((r.ru_utime + r.ru_stime) * 1e9 / n))
PY
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_case() { # label mode program...
	local label=$1 mode=$2; shift 2
	: > "$tmp/plain"; : > "$tmp/preload"; : > "$tmp/strict"
	for _ in $(seq "$rounds"); do
		measure "$fe" "$mode" "$n" "$@" >> "$tmp/plain"
		measure "$eg" run -- "$fe" "$mode" "$n" "$@" >> "$tmp/preload"
		measure "$eg" run --strict -- "$fe" "$mode" "$n" "$@" >> "$tmp/strict"
	done
	local m=()
	for f in plain preload strict; do
		m+=("$(cut -d' ' -f1 < "$tmp/$f" | median)" "$(cut -d' ' -f2 < "$tmp/$f" | median)")
	done
	awk -v l="$label" -v bw="${m[0]}" -v bc="${m[1]}" -v pw="${m[2]}" -v pc="${m[3]}" \
	    -v sw="${m[4]}" -v sc="${m[5]}" 'BEGIN {
		printf "%-26s wall: plain %6.0f  preload %+6.0f  strict %+6.0f   cpu: plain %6.0f  preload %+6.0f  strict %+6.0f\n",
			l, bw/1000, (pw-bw)/1000, (sw-bw)/1000, bc/1000, (pc-bc)/1000, (sc-bc)/1000 }'
}

echo "fork+exec loop, $n children, median of $rounds interleaved rounds, $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rules in effect: $("$eg" rules | tail -1)"
echo "microseconds per child: the plain loop, and what each mode adds"
run_case "spawn /bin/true (no rule)" spawn /bin/true
run_case "fork+execv /bin/true" fork /bin/true
run_case "spawn git (indexed)" spawn "$tmp/git" status
run_case "spawn a #! script" spawn "$tmp/script"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
