#!/usr/bin/env bash
# Valgrind memcheck on the tool and on the preload library (issue 9): no
# invalid read or write, no use of uninitialised memory, no definite or
# indirect leak. Every memcheck error fails (--error-exitcode).
#   - execguard check (argv, -c shell strings, wrappers, a critical rule),
#     lint, rules, run, log, --help, a usage error and a broken rule file;
#   - programs with libexecguard.so preloaded, run under memcheck: exec
#     variants refused and allowed, posix_spawn, system, popen, and threads
#     spawning while another calls setenv.
# Fake destructive tools only ($FAKE/terraform appends to a log); the CLI's
# `check` runs nothing.
set -u

EG=${EG_EXECGUARD:?EG_EXECGUARD not set}
LIB=${EG_LIBRARY:?EG_LIBRARY not set}
BIN=${EG_TEST_BIN:?EG_TEST_BIN not set}
SRC=${EG_SOURCE_ROOT:?EG_SOURCE_ROOT not set}
if ! command -v valgrind > /dev/null; then
	echo "skip: valgrind is not installed"
	exit 77
fi
T=$(mktemp -d /tmp/eg-valgrind.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/fake" "$T/empty" "$T/home" "$T/bad" "$T/cache"
CALLS=$T/calls.log
printf '#!/bin/sh\necho "FAKE terraform $*" >> "%s"\n' "$CALLS" > "$T/fake/terraform"
chmod +x "$T/fake/terraform"
printf 'rule broken\n  program x\n  match (\n' > "$T/bad/broken.rules"

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }

VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
	--show-leak-kinds=definite,indirect --track-fds=no --trace-children=no)

envs() {
	env -i PATH="$T/fake:/usr/bin:/bin" HOME="$T/home" LANG=C XDG_CACHE_HOME="$T/cache" \
		XDG_CONFIG_HOME="$T/empty" XDG_STATE_HOME="$T/home" EXECGUARD_SYSTEM_DIR="$T/empty" \
		EXECGUARD_PACKS_DIR="$SRC/patterns" "$@"
}

# memcheck NAME WANT_RC CMD... : valgrind must report nothing (rc 99 is its
# error code) and the command must exit with WANT_RC ("-": any).
# With PRELOAD=1, libexecguard.so is preloaded into the program memcheck
# runs, with no controlling terminal (a confirm is refused).
PRELOAD=0
memcheck() {
	local name=$1 want=$2
	shift 2
	if [ $PRELOAD = 1 ]; then
		# --run-libc-freeres=no: at exit valgrind calls glibc's
		# __libc_freeres, which takes glibc's environment lock; in a child
		# forked while another thread was inside setenv that lock is held
		# forever (a valgrind artefact: a native _exit takes no lock).
		envs LD_PRELOAD="$LIB" setsid -w "${VG[@]}" --run-libc-freeres=no "$@" > "$T/out" 2> "$T/err" < /dev/null
	else
		envs "${VG[@]}" "$@" > "$T/out" 2> "$T/err" < /dev/null
	fi
	local rc=$?
	if [ $rc = 99 ] || grep -q '^==[0-9]*==' "$T/err"; then
		bad "$name: memcheck errors"; grep '^==' "$T/err" | head -n 30 | sed 's/^/     /'
	elif [ "$want" != - ] && [ $rc != "$want" ]; then
		bad "$name: exit $rc, want $want"; head -n 5 "$T/err" | sed 's/^/     /'
	else
		ok "$name (exit $rc)"
	fi
}

memcheck "check: destructive argv" 1 "$EG" check -- terraform -chdir=infra destroy
memcheck "check: critical rule" 1 "$EG" check -- dropdb orders
memcheck "check: deny" 2 "$EG" check -- rm -rf /
memcheck "check: shell string with wrappers" 1 "$EG" check -c 'cd x && sudo -u ops env A=1 timeout 5 bash -c "terraform destroy" | tee log'
memcheck "check: loader and ssh" 1 "$EG" check -- /lib64/ld-linux-x86-64.so.2 /usr/bin/ssh host 'dropdb x'
memcheck "check: benign" 0 "$EG" check -- ls -la
memcheck "check: 3000 arguments" 0 "$EG" check -- echo $(seq 3000)
memcheck "lint: every pack, every example" 0 "$EG" lint
memcheck "lint: a broken file" 1 "$EG" lint "$T/bad/broken.rules"
memcheck "rules" 0 "$EG" rules
memcheck "run: broken rules stop before the command" 78 env EXECGUARD_SYSTEM_DIR="$T/bad" "$EG" run -- true
memcheck "run: a benign command" 0 "$EG" run -- true
memcheck "log: empty log" - "$EG" log -n 5
memcheck "--help" 0 "$EG" --help
memcheck "usage error" 64 "$EG" check

# The library inside programs run by memcheck. --trace-children=no: the
# children exec'd are not traced, the hook runs in the traced parent (or in
# its fork/vfork child before the exec).
: > "$CALLS"
PRELOAD=1
memcheck "library: execv refused" 20 "$BIN/eg_exec_variants" execv "$T/fake/terraform" destroy
memcheck "library: posix_spawn refused" 20 "$BIN/eg_exec_variants" posix_spawn "$T/fake/terraform" destroy
memcheck "library: posix_spawnp allowed" 0 "$BIN/eg_exec_variants" posix_spawnp terraform plan
memcheck "library: system refused" 0 "$BIN/eg_exec_variants" system 'terraform destroy'
memcheck "library: popen refused" 20 "$BIN/eg_exec_variants" popen 'terraform destroy'
memcheck "library: execve allowed" - "$BIN/eg_exec_variants" execve /bin/true
memcheck "library: 4 threads spawning, setenv churning" 0 "$BIN/eg_harden" spawn-setenv 4 8 "$T/fake/terraform" destroy
grep -q 'FAKE terraform destroy' "$CALLS" && bad "a refused fake ran: $(cat "$CALLS")" || ok "no refused fake ran"

echo "passed $PASS, failed $FAIL"
[ "$FAIL" = 0 ]
