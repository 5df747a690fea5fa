#!/usr/bin/env bash
# The session copy of the library (lib/library_copy.h): `execguard run`
# preloads a copy that carries the policy in a segment of its own, so no
# guarded process opens the policy file. What must hold:
#   - the copy is what CMD preloads, and a guarded process maps no policy
#     file, yet the rules are enforced;
#   - the copy is a cache of the file EXECGUARD_POLICY names: another file
#     named there is the one used;
#   - a copy deleted in the middle of a session: the next exec gets the
#     library it was made from (still guarded, never a missing LD_PRELOAD
#     entry, which the loader would skip);
#   - where no copy can be made, the library itself and the file, as before;
#   - a nested run keeps the session's copy, once; a damaged copy is
#     rewritten by the next run;
#   - the copy is mapped at a 64 KiB boundary, its headers in one mapping
#     with its code, nothing of it writable and executable; a first check
#     reads no code past its first 128 KiB and nothing of its .rodata;
#   - a fork leaves the policy's pages out of the copy the child gets of
#     the data mapping; a copy whose policy header points outside its data
#     is not trusted (the file is mapped instead).
#
# Fake destructive tools only: `terraform` and `dropdb` in a temp dir first
# in PATH that append to a log; no terminal (setsid), so a confirm is refused.
#
# Needs EG_EXECGUARD and EG_LIBRARY (tests/integration/meson.build).
set -u
. "$(dirname "$0")/fixtures.sh"

EG=${EG_EXECGUARD:?EG_EXECGUARD not set}
LIB=${EG_LIBRARY:?EG_LIBRARY not set}
T=$(mktemp -d /tmp/eg-copy.XXXXXX)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

FAKE=$T/fake
CALLS=$T/calls.log
mkdir -p "$FAKE" "$T/packs" "$T/empty" "$T/home" "$T/cfg2/execguard"
eg_fake_tools "$FAKE" "$CALLS" terraform dropdb
eg_terraform_rule terraform > "$T/packs/test.rules"
cat > "$T/cfg2/execguard/extra.rules" <<'EOF'
rule extra.dropdb
  program   dropdb
  match     .
  action    deny
  reason    Test rule: drops a database.
  example   dropdb prod
EOF

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }

GPATH="$FAKE:/usr/local/bin:/usr/bin:/bin"
# `execguard run` (cfg: the XDG_CONFIG_HOME to use), no terminal
run() {
	local cfg=$1
	shift
	env -i PATH="$GPATH" HOME="$T/home" LANG=C XDG_CACHE_HOME="$T/cache" \
		EXECGUARD_PACKS_DIR="${PACKS:-$T/packs}" EXECGUARD_SYSTEM_DIR="$T/empty" XDG_CONFIG_HOME="$cfg" \
		setsid -w "$EG" run -- "$@" < /dev/null
}
# what a guarded process's environment holds: NAME
session_var() {
	run "$T/empty" /usr/bin/env | sed -n "s/^$1=//p"
}

# ----------------------------------------------------- the copy is preloaded
COPY=$(session_var LD_PRELOAD)
POLICY=$(session_var EXECGUARD_POLICY)
FROM=$(session_var EXECGUARD_LIBRARY)
case $COPY in
"$T/cache/execguard/lib-"*/libexecguard.so) ok "CMD preloads the session copy ($COPY)" ;;
*) bad "LD_PRELOAD is '$COPY', not a copy under $T/cache/execguard" ;;
esac
[ "$FROM" = "$LIB" ] && ok "EXECGUARD_LIBRARY names the library the copy was made from" ||
	bad "EXECGUARD_LIBRARY is '$FROM', want $LIB"
[ -f "$POLICY" ] && ok "the policy file is still written ($POLICY)" || bad "no policy file '$POLICY'"

# The policy: the policy file's bytes, inside the data segment, where an
# EG_PT_POLICY header (LOOS+0x454750) in the PT_NOTE entry's place says.
if command -v readelf > /dev/null; then
	psize=$(stat -c %s "$POLICY")
	hdr=$(readelf -lW "$COPY")
	pol=$(echo "$hdr" | awk '$1 == "LOOS+0x454750" { print $2, $3, $5 }')
	data=$(echo "$hdr" | awk '$1 == "LOAD" && $7 == "RW" { print $2, $3, $5 }')
	read -r p_off p_va p_sz <<< "${pol:-0 0 0}"
	read -r d_off d_va d_sz <<< "${data:-0 0 0}"
	if [ -n "$pol" ] && [ -n "$data" ] && [ $((p_sz)) = "$psize" ] &&
		[ $((p_va)) -ge $((d_va)) ] && [ $((p_va + p_sz)) -le $((d_va + d_sz)) ] &&
		[ $((p_off - d_off)) = $((p_va - d_va)) ] && ! echo "$hdr" | grep -q '^ *NOTE' &&
		[ "$(echo "$hdr" | grep -c '^ *LOAD')" = 3 ]; then
		ok "the copy's data segment carries the policy ($psize bytes), said by an EG_PT_POLICY header; no PT_NOTE, no PT_LOAD more"
	else
		bad "the copy's program headers:"; echo "$hdr" | sed 's/^/     /'
	fi
	# dd, not tail: what is read of the zeros after it would be mapped by
	# the kernel with the block's pages (fault-around) in the checks below
	if cmp -s <(dd if="$COPY" bs=4096 skip=$((p_off / 4096)) count=$(((psize + 4095) / 4096)) 2> /dev/null |
		head -c "$psize") "$POLICY"; then
		ok "where that header says, the policy file's bytes"
	else
		bad "the copy does not hold the policy file at $p_off"
	fi
else
	echo "skip readelf checks (no readelf)"
fi

maps=$(run "$T/empty" /bin/cat /proc/self/maps)
if echo "$maps" | grep -qF "$COPY" && ! echo "$maps" | grep -q 'policy-.*\.bin'; then
	ok "a guarded process maps the copy and opens no policy file"
else
	bad "maps of a guarded cat:"; echo "$maps" | grep -E 'execguard|policy' | sed 's/^/     /'
fi
# the copy's first PT_LOAD asks for a 64 KiB boundary (the code every
# guarded process runs then lies in one fault-around window; library_copy.c).
# Three processes: the kernel alone gives one such a boundary 1 time in 16.
bases=""
for i in 1 2 3; do
	base=$(run "$T/empty" /bin/cat /proc/self/maps | grep -F "$COPY" | head -1 | cut -d- -f1)
	bases="${bases:+$bases }${base:-none}"
done
aligned=0
for base in $bases; do
	[ "$base" != none ] && [ $(( 0x$base % 0x10000 )) -eq 0 ] && aligned=$((aligned + 1))
done
if [ "$aligned" = 3 ]; then
	ok "the copy is mapped at a 64 KiB boundary (0x${bases// /, 0x})"
else
	bad "the copy is mapped at 0x${bases// /, 0x}: not all at a 64 KiB boundary"
fi

# the copy's headers joined its code (library_copy.c): its first mapping
# is the code's, from offset 0; no mapping of it is both writable and
# executable, and .rodata and the relocated data stay apart, read-only
copy_maps=$(echo "$maps" | grep -F "$COPY")
first=$(echo "$copy_maps" | head -1 | awk '{print $2, $3}')
if [ "$first" = "r-xp 00000000" ] && ! echo "$copy_maps" | awk '{print $2}' | grep -q 'wx' &&
	[ "$(echo "$copy_maps" | grep -c ' r-xp ')" = 1 ] && [ "$(echo "$copy_maps" | grep -c ' r--p ')" -ge 2 ]; then
	ok "the copy's headers are mapped with its code; .rodata and the relocated data read-only apart"
else
	bad "the copy's mappings:"; echo "$copy_maps" | sed 's/^/     /'
fi

# Spawns of a program no rule names (the first prepares the fast way, the
# second takes it), then the first check of a program the rules name, in
# the process that makes them (posix_spawn: the check runs in the caller),
# read nothing of the copy's .rodata and no code past its first 128 KiB: two windows of
# the kernel's fault-around, at its default of 64 KiB (lib/preload/
# hot_path.ld). `terraform destroyer` goes into the rule's groups without
# matching, where PCRE2 reads its table of opcode lengths (which lies with
# the relocated data, not in .rodata); the fake runs.
if command -v readelf > /dev/null && command -v python3 > /dev/null; then
	rodata_off=$(readelf -lW "$COPY" | awk '$1 == "LOAD" && $7 == "R" && $8 ~ /^0x/ { print $2; exit }')
	: > "$CALLS"
	rss=$(run "$T/empty" python3 -c '
import os, sys
for _ in range(2):  # the first prepares the fast way (exec_fast.h), the second takes it
    os.waitpid(os.posix_spawn("/bin/true", ["true"], os.environ), 0)
pid = os.posix_spawnp("terraform", ["terraform", "destroyer"], os.environ)
os.waitpid(pid, 0)
copy, cur = os.environ["LD_PRELOAD"], None
for line in open("/proc/self/smaps"):
    f = line.split()
    if "-" in f[0] and len(f) >= 5 and ":" in f[3]:
        cur = (f[1], int(f[2], 16)) if len(f) >= 6 and f[5] == copy else None
    elif cur and f[0] == "Rss:":
        print(cur[0], hex(cur[1]), f[1])
' 2> "$T/err")
	code_kb=$(echo "$rss" | awk '$1 == "r-xp" && $2 == "0x0" { print $3 }')
	rodata_kb=$(echo "$rss" | awk -v o="$(printf '%#x' $((rodata_off & ~0xfff)))" '$2 == o { print $3 }')
	if grep -q "FAKE terraform destroyer" "$CALLS" && [ -n "$code_kb" ] && [ "$code_kb" -le 128 ] &&
		[ "$rodata_kb" = 0 ]; then
		ok "a first check maps ${code_kb} KiB of the copy's code and nothing of its .rodata"
	else
		bad "after a first check (rodata at $rodata_off), the copy's Rss:"
		echo "$rss" | sed 's/^/     /'; sed 's/^/     /' "$T/err" "$CALLS"
	fi
fi

# A fork copies the page table entries of a mapping the process has
# written (the data segment, which carries the policy) into the child; the
# fork hook first drops those of the policy's pages (preload_init.c,
# eg_preload_before_fork). Before the fork, the process has read the
# policy (a check), so its pages are in; after it, in the data mappings
# only the pages the process wrote (Rss = Anonymous). The whole copy read
# first: its zeros in the page cache too, as after the kernel has read
# ahead into them, the kernel maps them with the block's pages.
if command -v python3 > /dev/null; then
	cat "$COPY" > /dev/null
	forked=$(run "$T/empty" python3 -c '
import os
def data_pages():
    copy, cur, rss, anon = os.environ["LD_PRELOAD"], False, 0, 0
    for line in open("/proc/self/smaps"):
        f = line.split()
        if "-" in f[0] and len(f) >= 5 and ":" in f[3]:
            cur = len(f) >= 6 and f[5] == copy and f[1] == "rw-p"
        elif cur and f[0] == "Rss:":
            rss += int(f[1])
        elif cur and f[0] == "Anonymous:":
            anon += int(f[1])
    return rss, anon
os.waitpid(os.posix_spawnp("terraform", ["terraform", "plan"], os.environ), 0)
print("before", *data_pages())
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print("after", *data_pages())
' 2> "$T/err")
	read -r _ b_rss b_anon <<< "$(echo "$forked" | grep '^before')"
	read -r _ a_rss a_anon <<< "$(echo "$forked" | grep '^after')"
	if [ -n "${b_rss:-}" ] && [ -n "${a_rss:-}" ] && [ "$b_rss" -gt "$b_anon" ] && [ "$a_rss" = "$a_anon" ]; then
		ok "after a fork, the data mappings hold only written pages (Rss $b_rss -> $a_rss KiB, Anonymous $a_anon)"
	else
		bad "the copy's data mappings around a fork (Rss, Anonymous KiB): $(echo $forked)"; sed 's/^/     /' "$T/err"
	fi
fi

# The zeros between the library's .bss and the policy: with the copy in the
# page cache, zeros included (read back after an eviction, as read-ahead
# does), the kernel maps some of them with the data segment's first page
# when the loader reads it (fault-around); the first spawn (posix_spawn,
# libc's system) drops them (preload_init.c, eg_preload_before_spawn), and
# they stay out through a check that reads the policy's pages. Twice: with
# the test's rules (the policy starts at a 64 KiB boundary) and with the
# default packs (it starts inside the zeros' last 64 KiB window, so that a
# first read of its pages there would map them again).
PACKS_SRC=$(cd "$(dirname "$0")/../../patterns" 2> /dev/null && pwd)
if command -v readelf > /dev/null && command -v python3 > /dev/null && [ -n "$PACKS_SRC" ]; then
	lib_end=$(readelf -lW "$FROM" | awk '$1 == "LOAD" && $7 == "RW" { print $3, $6 }')
	read -r l_va l_msz <<< "${lib_end:-0 0}"
	gap_from=$(( (l_va + l_msz + 4095) & ~4095 ))
	for packs in "$T/packs" "$PACKS_SRC"; do
	copy=$(PACKS=$packs session_var LD_PRELOAD)
	blk_va=$(readelf -lW "$copy" | awk '$1 == "LOOS+0x454750" { print $3 }')
	gap_to=$(( ${blk_va:-0} & ~4095 ))
	layout="policy at $(printf '%#x' "$gap_to"), $([ $((gap_to % 65536)) = 0 ] && echo "a" || echo "inside a") 64 KiB window"
	cat "$copy" > /dev/null
	for how in posix_spawn system; do
	zeros=$(PACKS=$packs run "$T/empty" python3 -c '
import ctypes, os, struct, sys
gap_from, gap_to = int(sys.argv[1]), int(sys.argv[2])
copy = os.environ["LD_PRELOAD"]
base = min(int(l.split("-")[0], 16) for l in open("/proc/self/maps") if l.rstrip().endswith(copy))
def present():
    with open("/proc/self/pagemap", "rb") as pm:
        n = 0
        for a in range(base + gap_from, base + gap_to, 4096):
            pm.seek(a // 4096 * 8)
            n += struct.unpack("<Q", pm.read(8))[0] >> 63
        return n
at_start = present()
if at_start == 0:  # the kernel mapped none: map one, as it would
    ctypes.string_at(base + gap_from, 1)
print("start", at_start, present())
if sys.argv[3] == "system":  # libc system(), which starts its shell itself
    os.system("true")
else:
    os.waitpid(os.posix_spawn("/bin/true", ["true"], os.environ), 0)
print("spawned", present())
for prog in ("terraform", "dropdb", "git", "kubectl", "aws"):  # checks of named programs
    os.waitpid(os.posix_spawnp("terraform", [prog, "--version"], os.environ), 0)
print("checked", present())
' "$gap_from" "$gap_to" "$how" 2> "$T/err")
	read -r _ z_start z_before <<< "$(echo "$zeros" | grep '^start')"
	z_spawned=$(echo "$zeros" | sed -n 's/^spawned //p')
	z_checked=$(echo "$zeros" | sed -n 's/^checked //p')
	if [ $((gap_to - gap_from)) -gt 0 ] && [ "${z_before:-0}" -gt 0 ] && [ "$z_spawned" = 0 ] &&
		[ "$z_checked" = 0 ]; then
		ok "the zeros before the policy ($layout): $z_start pages mapped at start, none after $how and checks"
	else
		bad "the zeros before the policy ($gap_from-$gap_to, $layout), pages mapped around $how: $(echo $zeros)"
		sed 's/^/     /' "$T/err"
	fi
	done
	done
fi

# A copy whose EG_PT_POLICY header says the policy lies outside its data
# segment: the constructor does not read there, and maps the file that
# EXECGUARD_POLICY names instead (still guarded).
if command -v python3 > /dev/null; then
	mkdir -p "$T/badhdr"
	python3 - "$COPY" "$T/badhdr/libexecguard.so" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
phoff = struct.unpack_from("<Q", b, 0x20)[0]
phentsize, phnum = struct.unpack_from("<HH", b, 0x36)
for i in range(phnum):
    at = phoff + i * phentsize
    if struct.unpack_from("<I", b, at)[0] == 0x60454750:
        struct.pack_into("<Q", b, at + 16, 0x7fff0000)  # p_vaddr: far past the data
open(sys.argv[2], "wb").write(b)
PY
	: > "$CALLS"
	out=$(env -i PATH="$GPATH" HOME="$T/home" LANG=C LD_PRELOAD="$T/badhdr/libexecguard.so" \
		EXECGUARD_POLICY="$POLICY" EXECGUARD_LIBRARY="$LIB" setsid -w \
		sh -c '/bin/cat /proc/self/maps; terraform destroy; echo "rc=$?"' < /dev/null 2> "$T/err")
	if echo "$out" | grep -qF "$POLICY" && echo "$out" | grep -qx 'rc=126' &&
		! grep -q 'FAKE terraform destroy' "$CALLS"; then
		ok "a copy whose policy header points outside its data: the policy file is mapped, still guarded"
	else
		bad "copy with a bad policy header:"; echo "$out" | grep -E 'rc=|policy' | sed 's/^/     /'
		sed 's/^/     /' "$T/err" "$CALLS"
	fi
fi

: > "$CALLS"
run "$T/empty" sh -c 'terraform destroy' 2> "$T/err"
rc=$?
if [ "$rc" = 126 ] && ! grep -q 'FAKE terraform destroy' "$CALLS" && grep -q '^execguard: blocked: ' "$T/err"; then
	ok "the copy's policy is enforced: terraform destroy refused (rc 126)"
else
	bad "terraform destroy under the copy: rc=$rc"; cat "$CALLS" "$T/err" | sed 's/^/     /'
fi
: > "$CALLS"
run "$T/empty" sh -c 'terraform plan' 2> "$T/err"
grep -q 'FAKE terraform plan' "$CALLS" && ok "terraform plan runs under the copy" ||
	{ bad "terraform plan did not run"; sed 's/^/     /' "$T/err"; }

# ------------------------------- the file EXECGUARD_POLICY names is the one used
POLICY2=$(run "$T/cfg2" /usr/bin/env | sed -n 's/^EXECGUARD_POLICY=//p')
[ -n "$POLICY2" ] && [ "$POLICY2" != "$POLICY" ] || bad "no second policy ('$POLICY2')"
direct() { # LD_PRELOAD=$COPY with EXECGUARD_POLICY=$1
	local pol=$1
	shift
	env -i PATH="$GPATH" HOME="$T/home" LANG=C LD_PRELOAD="$COPY" EXECGUARD_POLICY="$pol" \
		EXECGUARD_LIBRARY="$LIB" setsid -w "$@" < /dev/null
}
: > "$CALLS"
direct "$POLICY2" sh -c 'dropdb prod' 2> "$T/err"
rc=$?
if [ "$rc" = 126 ] && ! grep -q 'FAKE dropdb' "$CALLS"; then
	ok "a copy given another EXECGUARD_POLICY enforces that file's rules (dropdb denied)"
else
	bad "dropdb under the copy with policy 2: rc=$rc"; cat "$CALLS" "$T/err" | sed 's/^/     /'
fi
direct "$POLICY2" /bin/cat /proc/self/maps | grep -qF "$POLICY2" &&
	ok "... and maps that file" || bad "policy 2 is not mapped"
: > "$CALLS"
direct "$POLICY" sh -c 'dropdb prod' 2> "$T/err"
grep -q 'FAKE dropdb prod' "$CALLS" && ok "with its own policy's name, the copy's rules (dropdb runs)" ||
	{ bad "dropdb did not run under the copy's own policy"; sed 's/^/     /' "$T/err"; }

# ------------------------------------------- a copy deleted during the session
: > "$CALLS"
out=$(run "$T/empty" sh -c 'rm -rf "${LD_PRELOAD%/*}"
	sh -c "echo \"preload=\$LD_PRELOAD\"; /bin/cat /proc/self/maps"
	terraform destroy; echo "rc=$?"
	terraform plan' 2> "$T/err")
if echo "$out" | grep -qx "preload=$LIB" && echo "$out" | grep -qF "$POLICY" &&
	! echo "$out" | grep -qF "$COPY"; then
	ok "copy deleted: the next exec preloads $LIB and maps the policy file"
else
	bad "copy deleted: children got:"; echo "$out" | grep -E 'preload=|execguard|policy' | sed 's/^/     /'
fi
if echo "$out" | grep -qx 'rc=126' && ! grep -q 'FAKE terraform destroy' "$CALLS" &&
	grep -q 'FAKE terraform plan' "$CALLS" && ! grep -q 'cannot be preloaded' "$T/err"; then
	ok "copy deleted: still guarded (destroy refused, plan runs, no loader error)"
else
	bad "copy deleted: rc line '$(echo "$out" | grep rc=)'"; cat "$CALLS" "$T/err" | sed 's/^/     /'
fi

# ------------------------------------------------------------ nested run
COPY=$(session_var LD_PRELOAD) # made again by that run
nested=$(run "$T/empty" "$EG" run -- /usr/bin/env | sed -n 's/^LD_PRELOAD=//p')
[ "$nested" = "$COPY" ] && ok "a nested run keeps the session's copy, once ($nested)" ||
	bad "nested run: LD_PRELOAD='$nested', want '$COPY'"

# ------------------------------------------------- a damaged copy is rewritten
chmod u+w "$COPY" && printf 'junk' > "$COPY"
again=$(session_var LD_PRELOAD)
if [ "$again" = "$COPY" ] && [ "$(stat -c %s "$COPY")" -gt 4096 ] &&
	run "$T/empty" /bin/cat /proc/self/maps | grep -qF "$COPY"; then
	ok "a damaged copy is rewritten by the next run and loads"
else
	bad "damaged copy: LD_PRELOAD='$again', size $(stat -c %s "$COPY")"
fi

# ------------------------------------ where no copy can be made: the library
dir=${COPY%/*}
rm -rf "$dir" && mkdir -m 0777 "$dir" && chmod 0777 "$dir"
pre=$(session_var LD_PRELOAD)
from=$(session_var EXECGUARD_LIBRARY)
: > "$CALLS"
run "$T/empty" sh -c 'terraform destroy' 2> "$T/err"
rc=$?
if [ "$pre" = "$LIB" ] && [ -z "$from" ] && [ "$rc" = 126 ] && ! grep -q 'FAKE terraform destroy' "$CALLS"; then
	ok "a copy directory others can write is not used: $LIB and the file (still guarded)"
else
	bad "unusable copy dir: LD_PRELOAD='$pre' EXECGUARD_LIBRARY='$from' rc=$rc"
fi

# A cache on a noexec mount: the loader could not map code from a copy there.
mkdir -p "$T/noexec"
if unshare -m true 2>/dev/null; then
	pre=$(env -i PATH="$GPATH" HOME="$T/home" LANG=C XDG_CACHE_HOME="$T/noexec" \
		EXECGUARD_PACKS_DIR="$T/packs" EXECGUARD_SYSTEM_DIR="$T/empty" XDG_CONFIG_HOME="$T/empty" \
		unshare -m --propagation private sh -c 'mount -t tmpfs -o noexec tmpfs "$1" && exec "$2" run -- /usr/bin/env' \
		sh "$T/noexec" "$EG" < /dev/null | sed -n 's/^LD_PRELOAD=//p')
	[ "$pre" = "$LIB" ] && ok "a cache mounted noexec gets no copy: $LIB is preloaded" ||
		bad "noexec cache: LD_PRELOAD='$pre', want $LIB"
else
	echo "skip noexec cache (no mount namespace here)"
fi

echo "session copy: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
