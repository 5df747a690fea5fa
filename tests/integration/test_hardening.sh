#!/usr/bin/env bash
# Hardening (issue 9): stress and faults on the hook path. No deadlock, no
# crash and no silent allow in any of them:
#   - 16 threads spawning (posix_spawn, fork, vfork) while another thread
#     rewrites the environment with setenv, with short and long values (a
#     hook that measured the environment with one and built the child's
#     with the other would write past its storage); each child that neither
#     ran nor was refused is named (how it was started, its status);
#   - fork + exec from a signal handler while the main thread spawns;
#   - vfork children from Python threads, posix_spawn under load;
#   - a rule directory that changes while processes start;
#   - memory running out (ENOMEM from malloc or mmap) while the rules load
#     or a command is checked: fail closed;
#   - file descriptors used up (EMFILE) when a command must be checked.
# (The prompt under SIGWINCH, SIGTSTP, SIGSTOP/SIGCONT, a hangup and EMFILE
# is in test_prompt_faults.py, on a real pty.)
#
# Fake destructive tools only: $FAKE/terraform is a script that appends to a
# log; nothing here runs a real one. No controlling terminal (setsid): a
# confirm cannot be asked and is refused.
set -u
. "$(dirname "$0")/fixtures.sh"

LIB=${EG_LIBRARY:?EG_LIBRARY not set}
BIN=${EG_TEST_BIN:?EG_TEST_BIN not set}
FAILALLOC=$BIN/eg_failalloc.so
T=$(mktemp -d /tmp/eg-harden.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT

FAKE=$T/fake
CALLS=$T/calls.log
mkdir -p "$FAKE" "$T/packs" "$T/empty" "$T/home" "$T/work"
eg_fake_tools "$FAKE" "$CALLS" terraform
: > "$CALLS"

eg_terraform_rule "terraform tofu" > "$T/packs/test.rules"

GPATH="$FAKE:/usr/local/bin:/usr/bin:/bin"
PY=$(command -v python3 || true)

# Run under the library with the test rules, no terminal, clean environment.
guarded() {
	env -i PATH="$GPATH" HOME="$T/home" LANG=C LD_PRELOAD="$LIB" \
		EXECGUARD_PACKS_DIR="$T/packs" EXECGUARD_SYSTEM_DIR="$T/empty" \
		XDG_CONFIG_HOME="$T/empty" EXECGUARD_AUDIT_LOG="$T/audit.jsonl" \
		setsid -w "$@" < /dev/null
}

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }
fake_ran() { grep -q 'FAKE terraform destroy' "$CALLS"; }

# expect_counts NAME OUTPUT-FILE RC : the driver's counters say nothing went
# wrong, and the fake's own log agrees.
expect_counts() {
	local name=$1 out=$2 rc=$3
	if [ "$rc" -ge 124 ]; then
		bad "$name: timed out or killed (rc=$rc, a deadlock or a crash)"; sed 's/^/     /' "$out"
	elif fake_ran; then
		bad "$name: the blocked fake ran"; sed 's/^/     /' "$out"
	elif [ "$rc" != 0 ]; then
		bad "$name: rc=$rc"; sed 's/^/     /' "$out"
	else
		ok "$name: $(tr '\n' ' ' < "$out")"
	fi
	: > "$CALLS"
}

# ------------------------------------------------ threads and setenv
timeout 300 env LD_PRELOAD="$LIB" PATH="$GPATH" EXECGUARD_PACKS_DIR="$T/packs" \
	EXECGUARD_SYSTEM_DIR="$T/empty" XDG_CONFIG_HOME="$T/empty" HOME="$T/home" \
	EXECGUARD_AUDIT_LOG="$T/audit.jsonl" setsid -w \
	"$BIN/eg_harden" spawn-setenv 16 60 "$FAKE/terraform" destroy > "$T/out" 2> "$T/err" < /dev/null
rc=$?
grep -q 'blocked ran=0 refused=480$' "$T/out" || rc=1
expect_counts "16 threads x 60 children (posix_spawn/fork/vfork), setenv churning" "$T/out" $rc
grep -c '^execguard: blocked: ' "$T/err" > "$T/n"
[ "$(cat "$T/n")" -ge 1 ] && ok "refusals reported on stderr ($(cat "$T/n") messages)" ||
	bad "no refusal message: $(head -c 500 "$T/err")"

# ------------------------------------------------ fork in a signal handler
timeout 300 env LD_PRELOAD="$LIB" PATH="$GPATH" EXECGUARD_PACKS_DIR="$T/packs" \
	EXECGUARD_SYSTEM_DIR="$T/empty" XDG_CONFIG_HOME="$T/empty" HOME="$T/home" \
	EXECGUARD_AUDIT_LOG="$T/audit.jsonl" setsid -w \
	"$BIN/eg_harden" signal-fork 300 "$FAKE/terraform" destroy > "$T/out" 2> "$T/err" < /dev/null
rc=$?
grep -q 'forked in the handler: [1-9]' "$T/out" || rc=1
expect_counts "fork+exec in a SIGALRM handler while spawning" "$T/out" $rc

# ------------------------------------------------ Python: vfork, posix_spawn, threads
if [ -n "$PY" ]; then
	cat > "$T/py_stress.py" <<'EOF'
import os, subprocess, sys, threading
fake = sys.argv[1]
bad = []
counts = {"ran": 0, "refused": 0}
lock = threading.Lock()

def note(kind, ok, what):
    with lock:
        counts[kind] += 1
        if not ok:
            bad.append(what)

def worker(t):
    for i in range(40):
        if (i + t) % 2:
            # subprocess uses vfork here (no preexec_fn): the check runs in
            # the vfork child
            r = subprocess.run(["/bin/true"])
            note("ran", r.returncode == 0, "benign subprocess rc=%d" % r.returncode)
            try:
                subprocess.run([fake, "destroy"], stderr=subprocess.DEVNULL)
                note("refused", False, "blocked subprocess started")
            except PermissionError:
                note("refused", True, "")
        else:
            pid = os.posix_spawn("/bin/true", ["/bin/true"], os.environ)
            st = os.waitpid(pid, 0)[1]
            note("ran", st == 0, "benign posix_spawn status %d" % st)
            try:
                pid = os.posix_spawn(fake, [fake, "destroy"], os.environ)
                os.waitpid(pid, 0)
                note("refused", False, "blocked posix_spawn started")
            except PermissionError:
                note("refused", True, "")

# Load: threads that only burn CPU and allocate, next to the spawners.
stop = False
def burn():
    x = 0
    while not stop:
        x += sum(range(1000))
        _ = [bytearray(4096) for _ in range(16)]

burners = [threading.Thread(target=burn) for _ in range(2)]
for b in burners:
    b.start()
ts = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
for t in ts:
    t.start()
for t in ts:
    t.join()
stop = True
for b in burners:
    b.join()
print("ran=%d refused=%d wrong=%d" % (counts["ran"], counts["refused"], len(bad)))
for b in bad[:5]:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF
	timeout 300 env LD_PRELOAD="$LIB" PATH="$GPATH" EXECGUARD_PACKS_DIR="$T/packs" \
		EXECGUARD_SYSTEM_DIR="$T/empty" XDG_CONFIG_HOME="$T/empty" HOME="$T/home" \
		EXECGUARD_AUDIT_LOG="$T/audit.jsonl" setsid -w \
		"$PY" "$T/py_stress.py" "$FAKE/terraform" > "$T/out" 2> "$T/err" < /dev/null
	rc=$?
	expect_counts "python: 8 threads, subprocess (vfork) and posix_spawn, 2 CPU burners" "$T/out" $rc
else
	echo "skip python stress: no python3"
fi

# ------------------------------------------------ rule directory changing
# Without EXECGUARD_POLICY every process loads the rule files itself. While
# children start, another loop replaces the rule file (atomic rename, as
# editors and package managers do) with versions that all keep the rule,
# and adds and removes a second file. Every blocked child must be refused;
# a benign child may only be refused by failing closed, never the reverse.
mkdir -p "$T/live"
cp "$T/packs/test.rules" "$T/live/a.rules"
churn_rules() {
	local i=0
	while :; do
		i=$((i + 1))
		{ cat "$T/packs/test.rules"; printf '\nrule test.extra-%d\n  program   extra%d\n  match     .\n  action    log\n  reason    Churn %d.\n  example   extra%d x\n' $i $i $i $i; } > "$T/live/.a.tmp"
		mv -f "$T/live/.a.tmp" "$T/live/a.rules"
		if [ $((i % 2)) = 0 ]; then
			printf 'rule test.b-%d\n  program   bprog\n  match     .\n  action    log\n  reason    B.\n  example   bprog x\n' $i > "$T/live/.b.tmp"
			mv -f "$T/live/.b.tmp" "$T/live/b.rules"
		else
			rm -f "$T/live/b.rules"
		fi
	done
}
churn_rules &
CHURN=$!
timeout 300 env LD_PRELOAD="$LIB" PATH="$GPATH" EXECGUARD_PACKS_DIR="$T/live" \
	EXECGUARD_SYSTEM_DIR="$T/empty" XDG_CONFIG_HOME="$T/empty" HOME="$T/home" \
	EXECGUARD_AUDIT_LOG="$T/audit.jsonl" setsid -w \
	"$BIN/eg_harden" spawn-loop 300 "$FAKE/terraform" destroy > "$T/out" 2> "$T/err" < /dev/null
rc=$?
grep -q '^ran=0 refused=300 other=0$' "$T/out" || rc=1
expect_counts "rule directory rewritten while 300 blocked children start" "$T/out" $rc
timeout 300 env LD_PRELOAD="$LIB" PATH="$GPATH" EXECGUARD_PACKS_DIR="$T/live" \
	EXECGUARD_SYSTEM_DIR="$T/empty" XDG_CONFIG_HOME="$T/empty" HOME="$T/home" \
	EXECGUARD_AUDIT_LOG="$T/audit.jsonl" setsid -w \
	"$BIN/eg_harden" spawn-loop 300 /bin/true > "$T/out" 2> "$T/err" < /dev/null
rc=$?
grep -q '^ran=300 refused=0 other=0$' "$T/out" || rc=1
expect_counts "rule directory rewritten while 300 benign children start" "$T/out" $rc
kill $CHURN 2>/dev/null
wait $CHURN 2>/dev/null

# A session started with `execguard run` keeps the rules it started with:
# the compiled policy file does not change when the rule files do.
POLICY_OUT=$(env -i PATH="$GPATH" HOME="$T/home" XDG_CACHE_HOME="$T/cache" \
	EXECGUARD_PACKS_DIR="$T/live" EXECGUARD_SYSTEM_DIR="$T/empty" XDG_CONFIG_HOME="$T/empty" \
	"${EG_EXECGUARD:?}" run -- sh -c 'echo "$EXECGUARD_POLICY"' 2>&1)
if [ -f "$POLICY_OUT" ]; then
	: > "$T/live/a.rules"
	out=$(env -i PATH="$GPATH" LD_PRELOAD="$LIB" EXECGUARD_POLICY="$POLICY_OUT" \
		EXECGUARD_AUDIT_LOG="$T/audit.jsonl" setsid -w "$BIN/eg_harden" spawn-loop 20 "$FAKE/terraform" destroy 2>/dev/null < /dev/null)
	[ "$out" = "ran=0 refused=20 other=0" ] && ! fake_ran &&
		ok "a running session keeps its rules after the rule file is emptied" ||
		bad "session lost its rules: $out"
	: > "$CALLS"
else
	bad "execguard run did not give a policy file: $POLICY_OUT"
fi

# ------------------------------------------------ ENOMEM
# The failing allocator is preloaded with the library. The N-th allocation
# (malloc family or mmap) and every later one fail, for N from 0 up past what
# loading the rules needs: the blocked command is never run, and the process
# never crashes. Once N is large enough the rules load and the benign
# command runs again.
enomem_sweep() {
	local what=$1 max=$2 mode=$3
	local n crashed=0 ran=0 refused=0 other=0 first_ok=-1
	for n in $(seq 0 "$max"); do
		: > "$CALLS"
		env -i PATH="$GPATH" HOME="$T/home" LANG=C LD_PRELOAD="$FAILALLOC:$LIB" \
			"$what=$n" $mode EXECGUARD_SYSTEM_DIR="$T/empty" XDG_CONFIG_HOME="$T/empty" \
			EXECGUARD_AUDIT_LOG="$T/audit.jsonl" \
			setsid -w "$BIN/eg_exec_variants" execv "$FAKE/terraform" destroy > "$T/out" 2> "$T/err" < /dev/null
		rc=$?
		if fake_ran; then
			ran=$((ran + 1)); echo "     $what=$n: the blocked fake ran"
		elif [ $rc -ge 128 ]; then
			crashed=$((crashed + 1)); echo "     $what=$n: killed by signal $((rc - 128))"
		elif grep -q '^execguard: blocked: ' "$T/err"; then
			refused=$((refused + 1))
		else
			other=$((other + 1)) # the driver itself could not run (no memory for it)
		fi
		env -i PATH="$GPATH" LD_PRELOAD="$FAILALLOC:$LIB" "$what=$n" $mode \
			EXECGUARD_SYSTEM_DIR="$T/empty" XDG_CONFIG_HOME="$T/empty" HOME="$T/home" \
			setsid -w "$BIN/eg_exec_variants" execv /bin/true > /dev/null 2>&1 < /dev/null
		[ $? = 0 ] && [ $first_ok = -1 ] && first_ok=$n
	done
	local label="ENOMEM sweep $what=0..$max ($mode)"
	if [ $ran = 0 ] && [ $crashed = 0 ] && [ $refused -gt 0 ] && [ $first_ok -ge 0 ]; then
		ok "$label: refused $refused, driver could not start $other, benign runs from N=$first_ok"
	else
		bad "$label: ran=$ran crashed=$crashed refused=$refused other=$other first_ok=$first_ok"
		sed 's/^/     /' "$T/err" | head -5
	fi
}
# Rules from the rule files (every process parses them: malloc)...
enomem_sweep EG_FAIL_MALLOC_AFTER 100 "EXECGUARD_PACKS_DIR=$T/packs"
# ... or from a compiled policy (mmap of the file, the arena, the scratch).
enomem_sweep EG_FAIL_MMAP_AFTER 12 "EXECGUARD_POLICY=$POLICY_OUT"
enomem_sweep EG_FAIL_MMAP_AFTER 12 "EXECGUARD_PACKS_DIR=$T/packs"
: > "$CALLS"

# ------------------------------------------------ EMFILE
# No descriptor left when a command must be checked (and, for a confirm,
# asked): the blocked one is refused with a message, a benign one runs.
out=$(guarded "$BIN/eg_harden" emfile "$FAKE/terraform" destroy 2> "$T/err")
rc=$?
if ! fake_ran && [ $rc = 20 ] && grep -q 'errno=EACCES' <<< "$out" && grep -q '^execguard: blocked: ' "$T/err"; then
	ok "EMFILE: blocked command refused with a message"
else
	bad "EMFILE: rc=$rc out=$out err=$(cat "$T/err")"
fi
: > "$CALLS"
# (/bin/true itself then cannot open libc.so without a descriptor, guarded
# or not: what counts is that the exec was not refused.)
out=$(guarded "$BIN/eg_harden" emfile /bin/true 2>&1)
rc=$?
! grep -q 'exec failed\|^execguard:' <<< "$out" && ok "EMFILE: benign command is executed (rc=$rc)" ||
	bad "EMFILE benign: rc=$rc $out"

echo "passed $PASS, failed $FAIL"
[ "$FAIL" = 0 ]
