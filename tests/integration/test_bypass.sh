#!/usr/bin/env bash
# The agent cannot switch the guard off (issue 9, part 5). Every route an
# agent running as the user might take to run a blocked command unguarded:
# a nested `execguard run`, environment variables, LD_PRELOAD rewrites, the
# dynamic loader run directly, LD_AUDIT, /proc/self/exe re-exec, and rule
# files that try to weaken protected rules. Each one either stays guarded
# (asserted) or is a documented limitation (SECURITY.md, "Known bypasses"),
# whose current behaviour is asserted so that a change shows up here.
#
# Fake destructive tools only: $FAKE/terraform is a script and
# $FAKE_ELF/terraform a small ELF program; both only append to a log.
# No controlling terminal (setsid): a confirm is refused, fail closed.
set -u
. "$(dirname "$0")/fixtures.sh"

LIB=${EG_LIBRARY:?EG_LIBRARY not set}
BIN=${EG_TEST_BIN:?EG_TEST_BIN not set}
EG=${EG_EXECGUARD:?EG_EXECGUARD not set}
T=$(mktemp -d /tmp/eg-bypass.XXXXXX)
chmod 755 "$T" # the trust cases run a command as nobody
trap 'rm -rf "$T"' EXIT

FAKE=$T/fake
FAKE_ELF=$T/fake-elf
CALLS=$T/calls.log
mkdir -p "$FAKE" "$FAKE_ELF" "$T/packs" "$T/empty" "$T/home" "$T/work" "$T/cache"
eg_fake_tools "$FAKE" "$CALLS" terraform
cp "$BIN/eg_fake_tool" "$FAKE_ELF/terraform"
: > "$CALLS"
chmod 666 "$CALLS"

eg_terraform_rule "terraform tofu" > "$T/packs/test.rules"

GPATH="$FAKE:/usr/local/bin:/usr/bin:/bin"
LDSO=$(readlink -f /lib64/ld-linux-x86-64.so.2 2>/dev/null || true)
[ -x "$LDSO" ] || LDSO=$(ls /lib*/ld-linux*.so* 2>/dev/null | head -n1)

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }

base_env() {
	env -i PATH="$GPATH" HOME="$T/home" LANG=C XDG_CACHE_HOME="$T/cache" \
		EXECGUARD_PACKS_DIR="$T/packs" EXECGUARD_SYSTEM_DIR="$T/empty" \
		XDG_CONFIG_HOME="$T/empty" EG_FAKE_LOG="$CALLS" "$@"
}
# A session as `execguard run` makes it (compiled policy), no terminal.
session() {
	base_env setsid -w "$EG" run -- "$@" < /dev/null
}

# stays_guarded NAME CMD... : run inside a session; the fake must not run
# and a refusal must be on stderr.
stays_guarded() {
	local name=$1
	shift
	: > "$CALLS"
	(cd "$T/work" && session "$@" > "$T/out" 2> "$T/err")
	local rc=$?
	if grep -q 'destroy' "$CALLS"; then
		bad "$name: the blocked fake ran (rc=$rc)"; sed 's/^/     /' "$T/err" | head -8
	elif ! grep -q '^execguard: blocked: ' "$T/err"; then
		bad "$name: no refusal on stderr (rc=$rc)"; sed 's/^/     /' "$T/err" | head -8
	else
		ok "$name: stays guarded (rc=$rc)"
	fi
}

# A policy built from no rules at all: what an agent would like to use.
LOOSE=$(base_env EXECGUARD_PACKS_DIR="$T/empty" "$EG" run -- sh -c 'echo "$EXECGUARD_POLICY"' 2>&1)
[ -f "$LOOSE" ] || bad "could not build the loose policy: $LOOSE"

# ------------------------------------------------ nested execguard run
stays_guarded "nested execguard run" "$EG" run -- terraform destroy
stays_guarded "nested execguard run with empty packs and user rules" \
	env EXECGUARD_PACKS_DIR="$T/empty" XDG_CONFIG_HOME="$T/empty" "$EG" run -- terraform destroy
stays_guarded "nested execguard run inside bash -c" \
	bash -c 'EXECGUARD_PACKS_DIR=/nonexistent "$0" run -- bash -c "terraform destroy"' "$EG"

# ------------------------------------------------ environment variables
stays_guarded "EXECGUARD_POLICY pointing at a policy with no rules" \
	env EXECGUARD_POLICY="$LOOSE" bash -c 'terraform destroy'
stays_guarded "EXECGUARD_PACKS_DIR/SYSTEM_DIR/XDG_CONFIG_HOME emptied" \
	env EXECGUARD_PACKS_DIR="$T/empty" EXECGUARD_SYSTEM_DIR="$T/empty" XDG_CONFIG_HOME=/nonexistent \
	bash -c 'terraform destroy'
stays_guarded "EXECGUARD_PROMPT_TIMEOUT huge" env EXECGUARD_PROMPT_TIMEOUT=99999999 bash -c 'terraform destroy'
stays_guarded "env -i" env -i PATH="$GPATH" bash -c 'terraform destroy'

# ------------------------------------------------ LD_PRELOAD rewrites
stays_guarded "LD_PRELOAD emptied" env LD_PRELOAD= bash -c 'terraform destroy'
stays_guarded "LD_PRELOAD replaced by another library" \
	env LD_PRELOAD="$BIN/eg_failalloc.so" bash -c 'terraform destroy'
stays_guarded "LD_PRELOAD unset in a Python child" \
	python3 -c 'import os, subprocess, sys; e = dict(os.environ); e.pop("LD_PRELOAD"); sys.exit(subprocess.run(["bash", "-c", "terraform destroy"], env=e).returncode)'

# ------------------------------------------------ the dynamic loader
if [ -x "$LDSO" ]; then
	stays_guarded "loader run directly: $LDSO PROG" "$LDSO" "$FAKE_ELF/terraform" destroy
	stays_guarded "loader with --argv0/--library-path/--inhibit-cache" \
		"$LDSO" --library-path /nonexistent --inhibit-cache --argv0 innocent "$FAKE_ELF/terraform" destroy
	stays_guarded "loader with --preload of another library" \
		"$LDSO" --preload "$BIN/eg_failalloc.so" "$FAKE_ELF/terraform" destroy
	stays_guarded "loader from bash -c" bash -c "$LDSO $FAKE_ELF/terraform destroy"
	stays_guarded "loader running a shell" "$LDSO" /bin/bash -c 'terraform destroy'
	# --list loads the program without running it
	: > "$CALLS"
	session "$LDSO" --list "$FAKE_ELF/terraform" > "$T/out" 2> "$T/err"
	[ $? = 0 ] && ! grep -q . "$CALLS" && ! grep -q execguard "$T/err" &&
		ok "loader --list: runs nothing, not refused" || bad "loader --list: $(cat "$T/err")"
	# benign programs through the loader are untouched
	out=$(session "$LDSO" "$FAKE_ELF/terraform" plan 2>&1)
	grep -q 'FAKE-ELF plan' "$CALLS" && [ -z "$out" ] &&
		ok "loader running a benign command: runs, says nothing" || bad "loader benign: $out"
else
	echo "skip loader cases: no ld-linux found"
fi

# ------------------------------------------------ /proc/self/exe, argv[0], fd paths
stays_guarded "exec -a innocent (argv[0] renamed)" bash -c 'exec -a innocent terraform destroy'
stays_guarded "exec through /proc/self/fd/N" python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.execv("/proc/self/fd/%d" % fd, ["innocent", "destroy"])' "$FAKE_ELF/terraform"
stays_guarded "an approved program re-executing /proc/self/exe" \
	env EG_FAKE_REEXEC=1 "$FAKE_ELF/terraform" plan

# ------------------------------------------------ LD_AUDIT (documented limitation)
# An audit library the agent built rebinds execve in the programs it is
# loaded into, past the hooks. The exec that carries LD_AUDIT is checked;
# the execs its program makes are not. SECURITY.md lists this; the
# mitigation is a boundary the agent cannot cross (another user, a sandbox,
# seccomp). Asserted as it is today, so that a fix shows up here.
: > "$CALLS"
session env LD_AUDIT="$BIN/eg_audit_rebind.so" bash -c 'terraform destroy' > "$T/out" 2> "$T/err"
if grep -q 'FAKE terraform destroy' "$CALLS"; then
	ok "LD_AUDIT rebinding execve: known bypass, behaves as documented (the fake ran)"
else
	bad "LD_AUDIT rebinding execve is now guarded: update SECURITY.md and this test ($(head -c 300 "$T/err"))"
fi
: > "$CALLS"
# The same through the loader's --audit option is decided at the loader's
# exec, with the shell string read: guarded.
if [ -x "$LDSO" ]; then
	stays_guarded "loader --audit running a shell" \
		"$LDSO" --audit "$BIN/eg_audit_rebind.so" /bin/bash -c 'terraform destroy'
fi

# ------------------------------------------------ rule files that weaken the defaults
# Only files the user cannot write (root-owned, not group/world-writable, in
# such a directory) may weaken a rule from such a file. As root everything
# is the user's own, so root may weaken anything.
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	NOBODY=65534
	mkdir -p "$T/trust/packs" "$T/trust/sys" "$T/trust/user/execguard" "$T/trust/gw"
	cp "$T/packs/test.rules" "$T/trust/packs/"
	chmod 755 "$T/trust" "$T/trust/packs" "$T/trust/sys"
	chmod 644 "$T/trust/packs/test.rules"
	weaken='override test.terraform-destroy
  program   terraform tofu
  match     (^|\s)destroy(\s|$)
  action    allow
  reason    Weakened.
  example   terraform destroy
'
	printf '%s' "$weaken" > "$T/trust/user/execguard/weaken.rules"
	chown -R $NOBODY:$NOBODY "$T/trust/user"
	# read-only to its owner: still the user's own file
	chmod 444 "$T/trust/user/execguard/weaken.rules"
	chmod 555 "$T/trust/user/execguard"
	# a copy nobody can reach (the build tree may be under a private home)
	cp "$EG" "$T/trust/execguard" && chmod 755 "$T/trust/execguard"
	run_nobody() {
		env -i PATH="$GPATH" HOME="$T/trust/user" LANG=C EXECGUARD_PACKS_DIR="$T/trust/packs" \
			EXECGUARD_SYSTEM_DIR="$1" XDG_CONFIG_HOME="$2" \
			setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$T/trust/execguard" check -- terraform destroy
	}
	out=$(run_nobody "$T/empty" "$T/trust/user" 2>&1)
	rc=$?
	{ [ $rc = 78 ] || [ $rc = 1 ]; } && grep -q 'cannot override protected rule' <<< "$out" &&
		ok "user's own read-only file (0444 in a 0555 dir) cannot weaken a root-owned rule (rc=$rc)" ||
		bad "user's read-only file weakened a protected rule: rc=$rc $out"
	# the same override in a root-owned system directory: honoured
	printf '%s' "$weaken" > "$T/trust/sys/weaken.rules"
	chmod 644 "$T/trust/sys/weaken.rules"
	out=$(run_nobody "$T/trust/sys" "$T/empty" 2>&1)
	rc=$?
	[ $rc = 0 ] && grep -q '^allow' <<< "$out" &&
		ok "root-owned system file may weaken a root-owned rule" || bad "system override: rc=$rc $out"
	# root-owned but group-writable: not trusted
	chmod 664 "$T/trust/sys/weaken.rules"
	out=$(run_nobody "$T/trust/sys" "$T/empty" 2>&1)
	rc=$?
	grep -q 'cannot override protected rule' <<< "$out" &&
		ok "group-writable root file cannot weaken (rc=$rc)" || bad "group-writable file weakened: rc=$rc $out"
	# root-owned file in a world-writable directory: not trusted
	cp "$T/trust/sys/weaken.rules" "$T/trust/gw/weaken.rules"
	chmod 644 "$T/trust/gw/weaken.rules"
	chmod 1777 "$T/trust/gw"
	out=$(run_nobody "$T/trust/gw" "$T/empty" 2>&1)
	rc=$?
	grep -q 'cannot override protected rule' <<< "$out" &&
		ok "root file in a world-writable directory cannot weaken (rc=$rc)" || bad "world-writable dir: rc=$rc $out"
	# root: every file is its own; the override is honoured
	out=$(env -i PATH="$GPATH" HOME="$T/home" LANG=C EXECGUARD_PACKS_DIR="$T/trust/packs" \
		EXECGUARD_SYSTEM_DIR="$T/empty" XDG_CONFIG_HOME="$T/trust/user" "$EG" check -- terraform destroy 2>&1)
	rc=$?
	[ $rc = 0 ] && grep -q '^allow' <<< "$out" && ok "root may weaken (its own files)" || bad "root override: rc=$rc $out"
else
	echo "skip rule-trust cases: not root or no setpriv"
fi

echo "passed $PASS, failed $FAIL"
[ "$FAIL" = 0 ]
