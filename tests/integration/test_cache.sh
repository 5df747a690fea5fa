#!/usr/bin/env bash
# The compiled rule cache (issue 7): `execguard cache` and the library loaded
# with a bare LD_PRELOAD (no `execguard run`, no EXECGUARD_POLICY).
#   - hit: the guarded process opens no rule file (strace), only the cache;
#   - every kind of change makes the cache stale: an in-place edit of the
#     same size right after the cache was written (mtime even put back), a
#     new or removed file, a user rule file, another XDG_CONFIG_HOME, HOME,
#     packs directory or library;
#   - a damaged cache (truncated, a byte changed in its key or its block) is
#     ignored: the rule files are parsed, decisions stay right;
#   - trust: a cache that is group-writable, or a user's own cache that
#     carries rules from root-owned files (forged with a perfect key), is not
#     used; the root-owned system cache is; a user cannot write one for
#     protected rules; an unreadable rule file still fails closed;
#   - decisions are the same with and without the cache;
#   - no guarded process writes a cache.
# Fake destructive tools only ($FAKE/terraform appends to a log); no
# terminal (setsid): a confirm is refused. Nothing outside a temp dir is
# touched (EXECGUARD_SYSTEM_CACHE_DIR points into it).
set -u
. "$(dirname "$0")/fixtures.sh"

EG_BUILD=${EG_EXECGUARD:?EG_EXECGUARD not set}
LIB_BUILD=${EG_LIBRARY:?EG_LIBRARY not set}
BUILD_ROOT=${EG_BUILD_ROOT:?EG_BUILD_ROOT not set}
T=$(mktemp -d /tmp/eg-cache.XXXXXX)
chmod 755 "$T" # some cases run as nobody
trap 'rm -rf "$T"' EXIT

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }

# A relocatable copy of the tool and the library (a user other than root
# may not reach the build tree): the tool finds the library beside it.
LIBREL=$(sed -n 's/^#define EG_LIBDIR_REL "\(.*\)"$/\1/p' "$BUILD_ROOT/eg_config.h")
[ -n "$LIBREL" ] || LIBREL=lib
mkdir -p "$T/inst/bin" "$T/inst/$LIBREL"
cp "$EG_BUILD" "$T/inst/bin/execguard"
cp "$LIB_BUILD" "$T/inst/$LIBREL/libexecguard.so"
chmod -R a+rX "$T/inst"
EG=$T/inst/bin/execguard
LIB=$T/inst/$LIBREL/libexecguard.so

FAKE=$T/fake
CALLS=$T/calls.log
mkdir -p "$FAKE" "$T/packs" "$T/sys" "$T/cfg" "$T/home" "$T/cache" "$T/syscache"
eg_fake_tools "$FAKE" "$CALLS" terraform kubectl
: > "$CALLS"
chmod 666 "$CALLS"

eg_terraform_rule "terraform tofu" > "$T/packs/a.rules"
cat > "$T/packs/b.rules" <<'EOF'
rule test.kubectl-delete-ns
  program   kubectl
  match     ^delete\s+(ns|namespace)\b
  action    deny
  reason    Test rule: deletes a namespace.
  example   kubectl delete ns prod
EOF
chmod 644 "$T/packs/"*.rules

GPATH="$FAKE:/usr/local/bin:/usr/bin:/bin"
# The environment of a guarded process and of `execguard cache`.
base_env() {
	env -i PATH="$GPATH" HOME="$T/home" LANG=C XDG_CACHE_HOME="$T/cache" \
		XDG_CONFIG_HOME="$T/cfg" EXECGUARD_PACKS_DIR="$T/packs" EXECGUARD_SYSTEM_DIR="$T/sys" \
		EXECGUARD_SYSTEM_CACHE_DIR="${SYSC:-$T/syscache}" "$@"
}
# guarded CMD...: bare LD_PRELOAD, no terminal; stdout+stderr to $T/out
guarded() {
	: > "$CALLS"
	base_env LD_PRELOAD="$LIB" setsid -w "$@" < /dev/null > "$T/out" 2>&1
}
# decisions EXTRA_ENV...: the outcome of a fixed set of commands, one line each
decisions() {
	local c
	for c in "terraform destroy" "terraform plan" "kubectl delete ns prod" "kubectl get pods" \
		"tofu destroy -auto-approve" "bash -c 'terraform destroy'"; do
		: > "$CALLS"
		base_env "$@" LD_PRELOAD="$LIB" setsid -w bash -c "$c" < /dev/null > "$T/dout" 2>&1
		printf '%s | ran=%s | %s\n' "$c" "$(grep -c FAKE "$CALLS")" \
			"$(grep -o 'blocked: .*' "$T/dout" | head -n1 | cut -c1-60)"
	done
}
HAVE_STRACE=0
command -v strace > /dev/null && HAVE_STRACE=1
# opened_rules EXTRA_ENV...: rule files and cache files a guarded /bin/true opens
opened() {
	base_env "$@" strace -f -qq -e trace=open,openat -o "$T/strace" \
		-E LD_PRELOAD="$LIB" /bin/true
	grep -oE '"[^"]*\.(rules|bin)"' "$T/strace" | tr -d '"' | sort -u
}
check_state() { base_env "$@" "$EG" cache --check 2>&1; }

# ------------------------------------------------ no cache yet
out=$(check_state)
rc=$?
[ $rc = 1 ] && grep -q 'none written' <<< "$out" && ok "--check without a cache: exit 1 ($out)" ||
	bad "--check without a cache: rc=$rc $out"
decisions > "$T/decisions.parsed"
grep -q 'terraform destroy | ran=0 | blocked' "$T/decisions.parsed" &&
	grep -q 'terraform plan | ran=1' "$T/decisions.parsed" &&
	grep -q 'kubectl delete ns prod | ran=0 | blocked' "$T/decisions.parsed" &&
	ok "without a cache the rule files decide (parsed)" || bad "parsed decisions: $(cat "$T/decisions.parsed")"
if [ $HAVE_STRACE = 1 ]; then
	o=$(opened)
	grep -q 'a.rules' <<< "$o" && ok "without a cache the rule files are opened" || bad "no rules opened? $o"
fi
[ -z "$(find "$T/cache" "$T/syscache" -type f)" ] && ok "no guarded process wrote a cache" ||
	bad "a guarded process wrote: $(find "$T/cache" "$T/syscache" -type f)"

# ------------------------------------------------ write, hit
out=$(base_env "$EG" cache 2>&1)
rc=$?
[ $rc = 0 ] && grep -q "^wrote $T/cache/execguard/rules-" <<< "$out" && ok "execguard cache writes the user's cache" ||
	bad "execguard cache: rc=$rc $out"
if [ "$(id -u)" = 0 ]; then
	[ "$(ls "$T/syscache" | wc -l)" = 2 ] && ok "as root it also writes the two system caches" ||
		bad "system caches: $(ls -l "$T/syscache")"
	[ -z "$(find "$T/syscache" -type f ! -perm 0644)" ] && [ -z "$(find "$T/cache/execguard" -type f ! -perm 0600)" ] &&
		ok "modes: system 0644, user 0600" || bad "modes: $(ls -l "$T/syscache" "$T/cache/execguard")"
fi
ls "$T/cache/execguard" | grep -q 'tmp' && bad "a temp file was left" || ok "no temp file left"
out=$(check_state)
[ $? = 0 ] && grep -q 'cache in use' <<< "$out" && ok "--check: $out" || bad "--check after writing: $out"
if [ $HAVE_STRACE = 1 ]; then
	o=$(opened)
	! grep -q '\.rules' <<< "$o" && grep -q 'rules-.*\.bin' <<< "$o" &&
		ok "hit: no rule file opened, the cache is ($(tr '\n' ' ' <<< "$o"))" || bad "hit opens: $o"
else
	echo "skip strace checks: no strace"
fi
decisions > "$T/decisions.cached"
diff "$T/decisions.parsed" "$T/decisions.cached" > "$T/diff" &&
	ok "decisions with the cache = without ($(wc -l < "$T/decisions.cached") commands)" ||
	bad "decisions differ: $(cat "$T/diff")"
# the cache is rewritten in place of the old one (same name), not added
base_env "$EG" cache > /dev/null 2>&1
[ "$(ls "$T/cache/execguard" | wc -l)" = 1 ] && ok "writing again replaces the file" ||
	bad "files: $(ls "$T/cache/execguard")"

# stale CASE: the state must not be "in use", and the guard must still decide
stale() {
	local name=$1
	shift
	out=$(check_state "$@")
	if [ $? = 0 ]; then
		bad "$name: cache still in use ($out)"
	else
		ok "$name: not used ($(sed 's/.*: //' <<< "$out"))"
	fi
}
recache() { base_env EXECGUARD_SYSTEM_CACHE_DIR="$T/syscache" "$EG" cache > /dev/null 2>&1 || bad "execguard cache failed"; }

# ------------------------------------------------ invalidation
# an in-place edit of the same size, immediately after the cache was
# written (same second), with its mtime put back: ctime still tells
recache
before=$(stat -c '%i %s %Y' "$T/packs/a.rules")
mt=$(stat -c '%y' "$T/packs/a.rules")
sed 's/action    confirm/action    deny   /' "$T/packs/a.rules" > "$T/a.new"
dd if="$T/a.new" of="$T/packs/a.rules" conv=notrunc status=none
touch -d "$mt" "$T/packs/a.rules"
after=$(stat -c '%i %s %Y' "$T/packs/a.rules")
[ "$before" = "$after" ] && ok "edit in place: same inode, size and mtime ($after)" ||
	bad "edit changed identity: $before -> $after"
stale "same-size in-place edit, mtime put back"
guarded terraform destroy
grep -qi 'denied' "$T/out" && ! grep -q FAKE "$CALLS" && ok "the edited rule decides (deny)" ||
	bad "edited rule: $(cat "$T/out")"
recache
out=$(check_state)
[ $? = 0 ] && ok "rewritten: in use again" || bad "after recache: $out"
guarded terraform destroy
grep -qi 'denied' "$T/out" && ok "the new cache has the edit" || bad "new cache: $(cat "$T/out")"
cp "$T/a.new" "$T/a.keep"
sed 's/action    deny   /action    confirm/' "$T/a.keep" > "$T/packs/a.rules" # back (new inode? no: same)

recache
echo '# nothing' > "$T/packs/c.rules"
stale "a new file in the packs directory"
recache
rm "$T/packs/c.rules"
stale "a file removed from the packs directory"
recache
mkdir -p "$T/sys" && echo '# local' > "$T/sys/local.rules"
stale "a new file in the system directory"
recache
rm "$T/sys/local.rules"
stale "a file removed from the system directory"
recache
mkdir -p "$T/cfg/execguard" && echo '# mine' > "$T/cfg/execguard/mine.rules"
stale "a new user rule file"
recache
out=$(check_state)
[ $? = 0 ] && grep -q "$T/cache/" <<< "$out" && ok "with user rules the user's own cache is used" ||
	bad "user cache with user rules: $out"
# a user directory without rule files: the system cache is the right one
out=$(check_state XDG_CONFIG_HOME="$T/cfg2")
[ $? = 0 ] && grep -q "$T/syscache/" <<< "$out" &&
	ok "another XDG_CONFIG_HOME without rule files: the system cache" || bad "cfg2: $out"
# from here on the user's own cache alone (no system cache to fall back on)
export SYSC=$T/nosys
mkdir -p "$T/cfg2/execguard" "$T/home2/.config/execguard"
echo '# other' > "$T/cfg2/execguard/other.rules"
echo '# other' > "$T/home2/.config/execguard/other.rules"
stale "another XDG_CONFIG_HOME" XDG_CONFIG_HOME="$T/cfg2"
stale "another HOME (no XDG_CONFIG_HOME)" XDG_CONFIG_HOME= HOME="$T/home2"
rm -r "$T/cfg/execguard"
stale "the user rule directory removed"
recache
cp -a "$T/packs" "$T/packs2"
stale "another packs directory" EXECGUARD_PACKS_DIR="$T/packs2"
stale "another system directory" EXECGUARD_SYSTEM_DIR="$T/sys2"
cp "$LIB" "$T/lib.new" && mv "$T/lib.new" "$LIB" # the same bytes, a new file
stale "the library replaced"
recache
chmod 600 "$T/packs/b.rules"
stale "a rule file's mode changed"
chmod 644 "$T/packs/b.rules"

# ------------------------------------------------ damaged caches
recache
UC=$(ls "$T/cache/execguard/"rules-*.bin)
cp "$UC" "$T/good.bin"
damaged() {
	local name=$1
	cp "$T/good.bin" "$UC.tmp" && chmod 600 "$UC.tmp"
	python3 - "$UC.tmp" "$2" <<'EOF'
import sys
path, how = sys.argv[1], sys.argv[2]
data = bytearray(open(path, 'rb').read())
if how == 'truncate':
    data = data[:len(data) - 100]
elif how == 'half':
    data = data[:len(data) // 2]
elif how == 'key':
    data[200] ^= 0x40
elif how == 'block':
    import struct
    data[struct.unpack_from('<I', data, 44)[0]] ^= 0x20  # the block's magic (block_off)
elif how == 'version':
    data[12] ^= 1
open(path, 'wb').write(data)
EOF
	mv "$UC.tmp" "$UC"
	out=$(check_state)
	rc=$?
	guarded terraform destroy
	local blocked=$?
	if [ $rc = 0 ]; then
		bad "$name: damaged cache in use"
	elif grep -q FAKE "$CALLS" || ! grep -q 'blocked' "$T/out"; then
		bad "$name: the guard did not refuse: $(cat "$T/out")"
	else
		ok "$name: ignored, rule files parsed, still refused ($(sed 's/.*: //' <<< "$out"); rc=$blocked)"
	fi
}
damaged "truncated by 100 bytes" truncate
damaged "cut in half" half
damaged "a byte of the key changed" key
damaged "the block's header changed" block
damaged "the block format version changed" version
cp "$T/good.bin" "$UC"

# ------------------------------------------------ trust
recache
chmod 620 "$UC"
stale "the user's cache group-writable"
chmod 600 "$UC"
chmod 775 "$T/cache/execguard"
stale "the user's cache directory group-writable"
chmod 700 "$T/cache/execguard"

if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	NOBODY=65534
	# root-owned packs: protected for nobody
	mkdir -p "$T/p/packs" "$T/p/sys" "$T/p/nhome" "$T/p/ncache"
	cp "$T/packs/"*.rules "$T/p/packs/"
	chmod 755 "$T/p" "$T/p/packs" "$T/p/sys"
	chmod 644 "$T/p/packs/"*.rules
	chown $NOBODY:$NOBODY "$T/p/nhome" "$T/p/ncache"
	nenv() {
		env -i PATH="$GPATH" HOME="$T/p/nhome" LANG=C XDG_CACHE_HOME="$T/p/ncache" \
			EXECGUARD_PACKS_DIR="$T/p/packs" EXECGUARD_SYSTEM_DIR="$T/p/sys" \
			EXECGUARD_SYSTEM_CACHE_DIR="$T/p/syscache" "$@"
	}
	as_nobody() { nenv setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$@"; }
	nguarded() {
		: > "$CALLS"
		nenv LD_PRELOAD="$LIB" setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
			setsid -w "$@" < /dev/null > "$T/out" 2>&1
	}
	out=$(as_nobody "$EG" cache 2>&1)
	rc=$?
	[ $rc = 1 ] && grep -q 'not written' <<< "$out" && [ -z "$(ls -A "$T/p/ncache")" ] &&
		ok "a user cannot write a cache for root-owned rules (exit 1)" || bad "nobody's cache: rc=$rc $out"
	# root writes the system cache; nobody (no rule files of its own) uses it
	out=$(nenv XDG_CACHE_HOME="$T/p/rcache" "$EG" cache 2>&1) || bad "root's system cache: $out"
	out=$(as_nobody "$EG" cache --check 2>&1)
	[ $? = 0 ] && grep -q "$T/p/syscache" <<< "$out" && ok "nobody uses the root-owned system cache" ||
		bad "nobody, system cache: $out"
	nguarded terraform destroy
	grep -q blocked "$T/out" && ! grep -q FAKE "$CALLS" && ok "nobody, system cache: destroy refused" ||
		bad "nobody, system cache: $(cat "$T/out")"
	nguarded terraform plan
	grep -q 'FAKE terraform plan' "$CALLS" && ok "nobody, system cache: plan runs" || bad "plan: $(cat "$T/out")"
	# a forged cache of nobody's own, with a perfect key for the protected
	# packs but the block of an empty rule set: never used
	SYSU=
	for f in "$T/p/syscache/"rules-*.bin; do
		[ "$(od -An -tu4 -j16 -N4 "$f" | tr -d ' ')" = 1 ] && SYSU=$f # reader: other users
	done
	mkdir -p "$T/p/empty"
	chmod 755 "$T/p/empty"
	nenv XDG_CACHE_HOME="$T/p/rcache" EXECGUARD_PACKS_DIR="$T/p/empty" \
		EXECGUARD_SYSTEM_CACHE_DIR="$T/p/esys" "$EG" cache > /dev/null 2>&1
	EMPTYBLK=$(ls "$T/p/esys/"rules-*.bin | head -n1)
	# with a rule file of its own the system cache does not apply, and
	# --check names the user's cache file nobody would look for
	mkdir -p "$T/p/nhome/.config/execguard"
	echo '# mine' > "$T/p/nhome/.config/execguard/mine.rules"
	chown -R $NOBODY:$NOBODY "$T/p/nhome/.config"
	FORGED=$(as_nobody "$EG" cache --check 2>&1 | sed -n 's/^no cache in use: \([^:]*\): none written$/\1/p')
	if [ -n "$SYSU" ] && [ -n "$EMPTYBLK" ] && [ -n "$FORGED" ]; then
		mkdir -p "$(dirname "$FORGED")"
		python3 - "$SYSU" "$EMPTYBLK" "$FORGED" "$T/p/nhome/.config/execguard" $NOBODY <<'EOF'
import struct, sys
src, empty, out, udir, uid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
d = open(src, 'rb').read()
e = open(empty, 'rb').read()
H = '<8s14I32sQ'
hs = struct.calcsize(H)
f = list(struct.unpack_from(H, d, 0))
# fields: magic version block_version reader scope uid n_entries entries_off strings_off strings_len block_off block_size dir0 dir1 dir2 eg_version key_sum
strings_off, strings_len = f[8], f[9]
strings = d[strings_off:strings_off + strings_len] + udir.encode() + b'\0'
ef = struct.unpack_from(H, e, 0)
block = e[ef[10]:ef[10] + ef[11]]                  # the empty rule set's block
f[4] = 0                                            # scope: everything
f[5] = uid                                          # written by nobody
f[9] = len(strings)
f[14] = strings_len                                 # the user dir path
head = d[:strings_off] + strings
while len(head) % 8:
    head += b'\0'
f[10] = len(head)
f[11] = len(block)
f[16] = 0
head = struct.pack(H, *f) + head[hs:]
h = 14695981039346656037
for b in head:
    h = ((h ^ b) * 1099511628211) & 0xffffffffffffffff
f[16] = h
open(out, 'wb').write(struct.pack(H, *f) + head[hs:] + block)
EOF
		chown -R $NOBODY:$NOBODY "$T/p/ncache" && chmod 700 "$(dirname "$FORGED")" && chmod 600 "$FORGED"
		out=$(as_nobody "$EG" cache --check 2>&1)
		rc=$?
		[ $rc = 1 ] && grep -q 'protected' <<< "$out" &&
			ok "a forged user cache (perfect key, no rules) for root-owned rules is not used: $(sed 's/.*: //' <<< "$out")" ||
			bad "forged cache: rc=$rc $out"
		nguarded terraform destroy
		grep -q blocked "$T/out" && ! grep -q FAKE "$CALLS" && ok "nobody with the forged cache: destroy still refused" ||
			bad "forged cache weakened the rules: $(cat "$T/out")"
		# the same, with the protected files left out of its key: the
		# library looks at the directories itself
		python3 - "$FORGED" <<'EOF'
import struct, sys
path = sys.argv[1]
d = bytearray(open(path, 'rb').read())
H = '<8s14I32sQ'
f = list(struct.unpack_from(H, d, 0))
f[6] = 1          # only the library's entry
f[16] = 0
struct.pack_into(H, d, 0, *f)
h = 14695981039346656037
for b in d[:f[10]]:
    h = ((h ^ b) * 1099511628211) & 0xffffffffffffffff
f[16] = h
struct.pack_into(H, d, 0, *f)
open(path, 'wb').write(d)
EOF
		out=$(as_nobody "$EG" cache --check 2>&1)
		rc=$?
		[ $rc = 1 ] && grep -q 'root-owned' <<< "$out" &&
			ok "a forged user cache whose key leaves the protected files out is not used: $(sed 's/.*: //' <<< "$out")" ||
			bad "forged cache without protected entries: rc=$rc $out"
		nguarded terraform destroy
		grep -q blocked "$T/out" && ! grep -q FAKE "$CALLS" && ok "nobody with that forged cache: destroy still refused" ||
			bad "forged cache (short key) weakened the rules: $(cat "$T/out")"
	else
		bad "could not set up the forged cache (sys=$SYSU empty=$EMPTYBLK forged=$FORGED)"
	fi
	# nobody's own packs: nobody's own cache is used; an unreadable rule
	# file afterwards still fails closed
	mkdir -p "$T/n/packs" "$T/n/home" "$T/n/cache"
	cp "$T/packs/"*.rules "$T/n/packs/"
	chown -R $NOBODY:$NOBODY "$T/n"
	chmod 755 "$T/n"
	oenv() {
		env -i PATH="$GPATH" HOME="$T/n/home" LANG=C XDG_CACHE_HOME="$T/n/cache" \
			EXECGUARD_PACKS_DIR="$T/n/packs" EXECGUARD_SYSTEM_DIR="${NSYS:-$T/n/sys}" \
			EXECGUARD_SYSTEM_CACHE_DIR="$T/p/syscache" setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$@"
	}
	# a root-owned rule directory, even without rule files: nobody's own
	# cache would not be used, so none is written
	out=$(NSYS=$T/p/sys oenv "$EG" cache 2>&1)
	rc=$?
	[ $rc = 1 ] && grep -q "$T/p/sys: root-owned" <<< "$out" && [ -z "$(ls -A "$T/n/cache")" ] &&
		ok "a root-owned system directory: no user cache written (exit 1)" || bad "root-owned sys dir: rc=$rc $out"
	out=$(oenv "$EG" cache 2>&1)
	rc=$?
	out2=$(oenv "$EG" cache --check 2>&1)
	[ $rc = 0 ] && [ $? = 0 ] && grep -q "$T/n/cache" <<< "$out2" &&
		ok "nobody's own rule files: nobody's own cache is written and used" || bad "nobody own: rc=$rc $out / $out2"
	chmod 000 "$T/n/packs/a.rules"
	: > "$CALLS"
	oenv env LD_PRELOAD="$LIB" setsid -w terraform destroy < /dev/null > "$T/out" 2>&1
	! grep -q FAKE "$CALLS" && grep -q blocked "$T/out" &&
		ok "an unreadable rule file after caching: refused (fail closed): $(grep -o 'blocked.*' "$T/out" | cut -c1-70)" ||
		bad "unreadable rule file: $(cat "$T/out")"
else
	echo "skip trust cases: not root or no setpriv"
fi

echo "# $PASS passed, $FAIL failed"
[ $FAIL = 0 ]
