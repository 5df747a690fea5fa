#!/bin/bash
# `execguard doctor` and `execguard status` in every state the guard can be
# in: off, `execguard run`, shell-init, a bare LD_PRELOAD, /etc/ld.so.preload
# (private mount namespace, root only), and broken (a policy file gone, a
# library that does not exist, a broken rule file); the policy-freshness line,
# the last decisions from the audit log, usage errors.
#
# No terminal (setsid -w), private HOME and XDG directories, packs from the
# source tree. The only "dangerous" program is a fake terraform in a temp dir
# first in PATH. Output: TAP.
set -u

EG=${EG_EXECGUARD:?EG_EXECGUARD not set}
LIB=${EG_LIBRARY:?EG_LIBRARY not set}
SRC=${EG_SOURCE_ROOT:?EG_SOURCE_ROOT not set}

T=$(mktemp -d /tmp/eg-doctor.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bin" "$T/home" "$T/config" "$T/state" "$T/cache" "$T/sysrules" "$T/run"
chmod 700 "$T/run"
LOG=$T/ran.log
printf '#!/bin/sh\nprintf "%%s\\n" "terraform $*" >> "%s"\n' "$LOG" >"$T/bin/terraform"
chmod 755 "$T/bin/terraform"

export PATH="$T/bin:$PATH"
export HOME="$T/home" XDG_CONFIG_HOME="$T/config" XDG_STATE_HOME="$T/state"
export XDG_CACHE_HOME="$T/cache" XDG_RUNTIME_DIR="$T/run"
export EXECGUARD_SYSTEM_DIR="$T/sysrules" EXECGUARD_PACKS_DIR="$SRC/patterns"
unset LD_PRELOAD EXECGUARD_POLICY EXECGUARD_MODE EXECGUARD_AUDIT_LOG
N_RULES=$("$EG" rules | sed -n 's/^\([0-9]*\) rules[ ,].*/\1/p')
rc=0

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
	echo "#   exit status: $rc"
	for f in "$T/out" "$T/err"; do [ -s "$f" ] && sed 's/^/#   /' "$f"; done
}
t() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
# g CMD...: run without a terminal, output in $T/out, $T/err, status in $rc
g() { setsid -w "$@" </dev/null >"$T/out" 2>"$T/err"; rc=$?; }
out_has() { grep -Eq -- "$1" "$T/out"; }
out_line() { grep -Eq -- "^[ !] $1" "$T/out"; } # a doctor line: key, then text

[ -n "$N_RULES" ] && [ "$N_RULES" -gt 0 ] && ok "the packs load ($N_RULES rules)" ||
	not_ok "the packs load"

# ------------------------------------------------------------------ off
g "$EG" status
t "status, guard off: 'execguard: off', exit 1" eval '[ $rc -eq 1 ] && [ "$(cat "$T/out")" = "execguard: off" ]'
g "$EG" doctor
t "doctor, guard off: exit 0, says OFF and how to switch it on" eval \
	'[ $rc -eq 0 ] && out_line "guard: +OFF" && out_has "execguard run -- CMD" && out_has "^no problems found$"'
t "doctor names this build's library, not loaded" eval "out_line 'library: +$LIB \\(not loaded'"
t "doctor lists the rule files and says they lint clean" eval \
	'out_line "rule files: +11 files, $N_RULES rules, lint clean" && out_has " $SRC/patterns/terraform.rules"'
t "doctor: no terminal, confirm rules refuse" eval 'out_line "terminal: +none .*refuse"'
t "doctor: the approval channel" eval 'out_line "approval: +terminal \\(/dev/tty\\)"'
t "doctor: a strict-mode line that says whether this machine can run it" eval \
	'out_line "strict mode: +(available, not in force here|not available on this machine: .+)"'
t "doctor: the audit log, nothing recorded yet" eval \
	'out_line "audit log: +$T/state/execguard/audit.jsonl: nothing recorded yet"'
t "doctor: no policy line outside a session" eval '! out_line "policy:"'

# ------------------------------------------------------------------ execguard run
g "$EG" run -- "$EG" status
t "status under execguard run: on (execguard run, N rules), exit 0" eval \
	'[ $rc -eq 0 ] && [ "$(cat "$T/out")" = "execguard: on (execguard run, $N_RULES rules)" ]'
g "$EG" run -- "$EG" doctor
t "doctor under execguard run: mode, loaded library, fresh policy" eval \
	'[ $rc -eq 0 ] && out_line "guard: +on in this shell, through execguard run" &&
	 out_line "library: +$T/cache/execguard/lib-[0-9a-f-]+/libexecguard.so \\(loaded; the session.s copy of $LIB, with its policy in it\\)" && out_line "policy: +$T/cache/execguard/policy-[0-9a-f]+\\.bin, $N_RULES rules" &&
	 out_has "the same as the rule files now"'

# The rule files change during the session: doctor says so (the file is
# written by the shell itself, a redirection, not a program).
mkdir -p "$T/config/execguard" && g "$EG" run -- sh -c 'printf "rule local.x\n  program   xyzzy\n  match     boom\n  action    confirm\n  reason    r\n  example   xyzzy boom\n" > "$XDG_CONFIG_HOME/execguard/local.rules"; "$0" doctor' "$EG"
t "doctor in a session whose rule files changed: says a new session will use them" eval \
	'[ $rc -eq 0 ] && out_has "the rule files have changed since" && out_has "local.rules \\(writable by you\\)"'
rm -f "$T/config/execguard/local.rules"

# A refused command shows up among the last decisions.
g "$EG" run -- bash -c 'terraform destroy'
g "$EG" doctor
t "doctor shows the last decisions from the audit log" eval \
	'[ ! -s "$LOG" ] && out_line "audit log: +$T/state/execguard/audit.jsonl, 1 record" && out_has "confirm/no-terminal +terraform\\.destroy +[0-9a-f]{16} +terraform destroy"'

# ------------------------------------------------------------------ shell-init
cat >"$T/home/.bashrc" <<EOF
eval "\$('$EG' shell-init bash)"
'$EG' status > '$T/status.out'
echo "rc=\$?" >> '$T/status.out'
exit 0
EOF
rm -f "$T/status.out"
g bash -i
rc=$(tail -1 "$T/status.out" 2>/dev/null)
t "status in a shell-init shell: on (execguard shell-init, N rules)" eval \
	'[ "$(head -1 "$T/status.out")" = "execguard: on (execguard shell-init, $N_RULES rules)" ] && [ "$rc" = rc=0 ]'
rm -f "$T/home/.bashrc"

# ------------------------------------------------------------------ bare LD_PRELOAD
g env LD_PRELOAD="$LIB" "$EG" status
t "status with a bare LD_PRELOAD: on (LD_PRELOAD, N rules read by the library)" eval \
	'[ $rc -eq 0 ] && [ "$(cat "$T/out")" = "execguard: on (LD_PRELOAD, $N_RULES rules)" ]'
g env LD_PRELOAD="$LIB" "$EG" doctor
t "doctor with a bare LD_PRELOAD: mode, no policy line, rule files, rule cache" eval \
	'[ $rc -eq 0 ] && out_line "guard: +on in this shell, through LD_PRELOAD" && ! out_line "policy:" &&
	out_line "rule cache: " &&
	 out_line "rule files: +11 files"'

# ------------------------------------------------------------------ broken
g env LD_PRELOAD="$LIB" EXECGUARD_POLICY="$T/gone.bin" "$EG" status
t "status with the policy file gone: BROKEN, exit 2" eval \
	'[ $rc -eq 2 ] && out_has "^execguard: BROKEN \\(the policy file $T/gone.bin is missing or damaged"'
g env LD_PRELOAD="$LIB" EXECGUARD_POLICY="$T/gone.bin" "$EG" doctor
t "doctor with the policy file gone: a '!' policy line, exit 1" eval \
	'[ $rc -eq 1 ] && grep -q "^! policy: .*every command is refused" "$T/out" && out_has "^1 problem found"'
g env LD_PRELOAD="$T/nowhere/libexecguard.so" "$EG" status
t "status with LD_PRELOAD naming a missing library: BROKEN, exit 2" eval \
	'[ $rc -eq 2 ] && out_has "^execguard: BROKEN \\(LD_PRELOAD names $T/nowhere/libexecguard.so, but it is not loaded"'

mkdir -p "$T/config/execguard"
printf 'rule broken.one\n  program   terraform\n  match     (unclosed\n  action    confirm\n  reason    x\n  example   terraform x\n' \
	>"$T/config/execguard/broken.rules"
g "$EG" doctor
t "doctor with a broken rule file: '!' rule files line, file:line:column on stderr, exit 1" eval \
	'[ $rc -eq 1 ] && grep -Eq "^! rule files: +12 files: 1 problem" "$T/out" && grep -Eq "broken\\.rules:3:[0-9]+:" "$T/err"'
# A bad regex fails closed when first used; a file that does not parse makes
# the library refuse every command.
printf 'rule broken.one\n  program   terraform\n  match     destroy\n  reason    x\n  example   terraform x\n' \
	>"$T/config/execguard/broken.rules"
g env LD_PRELOAD="$LIB" "$EG" status
t "status with a bare LD_PRELOAD and a rule file that does not parse: BROKEN, exit 2" eval \
	'[ $rc -eq 2 ] && out_has "^execguard: BROKEN \\(LD_PRELOAD: the rule files do not load"'
rm -f "$T/config/execguard/broken.rules"

# ------------------------------------------------------------------ settings
printf 'set approve-elsewhere on\nset prompt-timeout 60\n' >"$T/sysrules/settings.rules"
g "$EG" doctor
t "doctor: approve-elsewhere and prompt-timeout from a settings file" eval \
	'out_line "approval: +terminal \(/dev/tty\), or .execguard approve CODE. from another terminal \(set in $T/sysrules/settings.rules\)" &&
	 out_has "a question waits 60 s for an answer"'
g env EXECGUARD_PROMPT_TIMEOUT=7 "$EG" doctor
t "doctor: EXECGUARD_PROMPT_TIMEOUT wins over the setting, as in the library" eval \
	'out_has "a question waits 7 s for an answer"'
printf 'set approver /opt/approve --json\n' >"$T/sysrules/settings.rules"
g "$EG" run -- "$EG" doctor
t "doctor in a session: the approver command from the session's policy" eval \
	'out_line "approval: +the approver command /opt/approve --json \(set in $T/sysrules/settings.rules\)" &&
	 out_has "a question waits 120 s"'
rm -f "$T/sysrules/settings.rules"

# ------------------------------------------------------------------ usage
g "$EG" doctor extra
t "doctor with an argument: 64" eval '[ $rc -eq 64 ] && grep -q "usage: execguard doctor" "$T/err"'
g "$EG" status --bogus
t "status with an argument: 64" eval '[ $rc -eq 64 ]'
g "$EG" doctor --help
t "doctor --help" eval '[ $rc -eq 0 ] && out_has "^usage: execguard doctor"'
g "$EG" status --help
t "status --help" eval '[ $rc -eq 0 ] && out_has "^usage: execguard status"'

# ------------------------------------------------------------------ /etc/ld.so.preload
# In a private mount namespace only: the host's /etc is never touched.
if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
	skip "status with /etc/ld.so.preload" "needs root and unshare -m"
else
	cat >"$T/ns.sh" <<'EOF'
set -e
T=$1 LIB=$2 EG=$3
if [ -e /etc/ld.so.preload ]; then
	{ cat /etc/ld.so.preload; echo "$LIB"; } > "$T/ld.so.preload"
	mount --bind "$T/ld.so.preload" /etc/ld.so.preload
else
	cp -a /etc "$T/etc"
	echo "$LIB" > "$T/etc/ld.so.preload"
	mount --bind "$T/etc" /etc
fi
set +e
"$EG" status
EOF
	host_before=$(cat /etc/ld.so.preload 2>/dev/null || echo NONE)
	g unshare -m --propagation private bash "$T/ns.sh" "$T" "$LIB" "$EG"
	host_after=$(cat /etc/ld.so.preload 2>/dev/null || echo NONE)
	t "status with the library in /etc/ld.so.preload: on (/etc/ld.so.preload, N rules)" eval \
		'[ $rc -eq 0 ] && [ "$(cat "$T/out")" = "execguard: on (/etc/ld.so.preload, $N_RULES rules)" ] &&
		 [ "$host_before" = "$host_after" ]'
	rm -rf "$T/etc"
fi

echo "1..$n"
[ $failed -eq 0 ]
