#!/usr/bin/env bash
# Short fuzzing run for the test suite: FUZZER SEED_DIR SECONDS.
# The seeds are copied to a scratch directory (the committed corpus stays as
# it is); every seed runs first, then new inputs until SECONDS are spent. Any
# crash, leak, timeout or sanitizer report fails, with the input printed.
set -u
fuzzer=$1 seeds=$2 secs=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/eg-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/art"
cp "$seeds"/* "$work/corpus/"
n=$(ls "$work/corpus" | wc -l)
echo "# $(basename "$fuzzer"): $n seeds, ${secs}s"
"$fuzzer" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/art/" "$work/corpus" >"$work/log" 2>&1
rc=$?
grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$work/log"
if [ $rc -ne 0 ] || ls "$work/art" | grep -q .; then
  echo "FAIL: $(basename "$fuzzer") exited $rc"
  tail -n 60 "$work/log"
  for f in "$work"/art/*; do
    [ -e "$f" ] || continue
    echo "--- input $(basename "$f") (hex):"
    od -An -tx1 -v "$f" | head -n 40
  done
  exit 1
fi
echo "ok: no crash"
