#!/bin/bash
# The three ways to switch execguard on, each tested without a terminal (so a
# confirm is refused: fail closed):
#   1. execguard run -- CMD
#   2. eval "$(execguard shell-init bash)" (and zsh, fish when installed)
#   3. a sandbox: /etc/ld.so.preload in a private mount namespace, and
#      LD_PRELOAD in bubblewrap
# plus: a broken rule file stops `execguard run` (and shell-init) before
# anything starts, with file:line:column and exit 78.
#
# Fake destructive tools only: a temp dir first in PATH with `terraform` and
# `dropdb` scripts that append to a log. Output: TAP.
set -u

EXECGUARD=${EG_EXECGUARD:?EG_EXECGUARD not set}
LIB=${EG_LIBRARY:?EG_LIBRARY not set}
SRC=${EG_SOURCE_ROOT:?EG_SOURCE_ROOT not set}

T=$(mktemp -d /tmp/eg-enable.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bin" "$T/home" "$T/config" "$T/state" "$T/cache" "$T/sysrules" "$T/run" "$T/zdot"
chmod 700 "$T/run"
LOG=$T/ran.log
for tool in terraform dropdb; do
	printf '#!/bin/sh\nprintf "%%s\\n" "%s $*" >> "%s"\n' "$tool" "$LOG" > "$T/bin/$tool"
	chmod 755 "$T/bin/$tool"
done

# No terminal anywhere (setsid -w below makes sure of it), private config.
export PATH="$T/bin:$PATH"
export HOME="$T/home" XDG_CONFIG_HOME="$T/config" XDG_STATE_HOME="$T/state"
export XDG_CACHE_HOME="$T/cache" XDG_RUNTIME_DIR="$T/run"
export EXECGUARD_SYSTEM_DIR="$T/sysrules" EXECGUARD_PACKS_DIR="$SRC/patterns"
unset LD_PRELOAD EXECGUARD_POLICY ZDOTDIR

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
	shift
	for f in "$@"; do [ -f "$f" ] && sed 's/^/#   /' "$f"; done
}
ran() { [ -s "$LOG" ] && cat "$LOG"; }
reset() { rm -f "$LOG" "$T"/out "$T"/err; }

# ---------------------------------------------------------------- 1. run
reset
setsid -w "$EXECGUARD" run -- bash -c 'terraform destroy' </dev/null >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 126 ] && [ -z "$(ran)" ] && grep -q 'execguard: blocked: terraform destroy' "$T/err" &&
	grep -q 'no terminal' "$T/err"; then
	ok "run: bash -c 'terraform destroy' without a terminal is refused (126)"
else
	not_ok "run: bash -c 'terraform destroy' without a terminal is refused (got $rc)" "$T/err"
fi

reset
setsid -w "$EXECGUARD" run terraform destroy </dev/null >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 126 ] && [ -z "$(ran)" ] && grep -q 'blocked' "$T/err"; then
	ok "run: CMD itself is checked before it starts (126)"
else
	not_ok "run: CMD itself is checked before it starts (got $rc)" "$T/err"
fi

reset
setsid -w "$EXECGUARD" run -- bash -c 'terraform plan && echo "P=$LD_PRELOAD" && echo "F=$EXECGUARD_POLICY" && echo "L=$EXECGUARD_LIBRARY" && grep -c libexecguard /proc/self/maps' \
	</dev/null >"$T/out" 2>"$T/err"
rc=$?
pol=$(sed -n 's/^F=//p' "$T/out")
# the session's copy of this build's library (tests/integration/test_session_copy.sh)
if [ $rc -eq 0 ] && [ "$(ran)" = "terraform plan" ] &&
	grep -qx "P=${pol%/*}/lib-[0-9a-f]*-[0-9a-f]*/libexecguard.so" "$T/out" && grep -qx "L=$LIB" "$T/out" &&
	[ -n "$pol" ] && [ -f "$pol" ] && ! grep -qx 0 "$T/out"; then
	ok "run: a harmless command runs, with this build's library and a policy file"
else
	not_ok "run: a harmless command runs, with this build's library (got $rc)" "$T/out" "$T/err"
fi

reset
"$EXECGUARD" run -- definitely-not-a-command-xyz </dev/null >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 127 ] && grep -q 'not found' "$T/err" && ok "run: unknown command exits 127" ||
	not_ok "run: unknown command exits 127 (got $rc)" "$T/err"

"$EXECGUARD" run >"$T/out" 2>"$T/err"
rc1=$?
"$EXECGUARD" run -- >"$T/out" 2>>"$T/err"
rc2=$?
"$EXECGUARD" run --bogus-option ls >"$T/out" 2>>"$T/err"
rc3=$?
[ $rc1 -eq 64 ] && [ $rc2 -eq 64 ] && [ $rc3 -eq 64 ] && ok "run: usage errors exit 64" ||
	not_ok "run: usage errors exit 64 (got $rc1 $rc2 $rc3)" "$T/err"

"$EXECGUARD" run --help >"$T/out" 2>&1 && grep -q 'usage: execguard run' "$T/out" &&
	ok "run --help" || not_ok "run --help" "$T/out"

# A broken rule file: nothing starts, file:line:column, 78.
reset
mkdir -p "$T/config/execguard"
printf 'rule broken.one\n  program   terraform\n  match     (unclosed\n  action    confirm\n  reason    x\n  example   terraform x\n' \
	> "$T/config/execguard/broken.rules"
setsid -w "$EXECGUARD" run -- touch "$T/started" </dev/null >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 78 ] && [ ! -e "$T/started" ] && grep -Eq 'broken\.rules:3:[0-9]+:' "$T/err"; then
	ok "run: a broken rule file stops it before CMD starts (78, file:line:column)"
else
	not_ok "run: a broken rule file stops it before CMD starts (got $rc)" "$T/err"
fi
"$EXECGUARD" shell-init bash >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 78 ] && [ ! -s "$T/out" ] && grep -Eq 'broken\.rules:3:[0-9]+:' "$T/err"; then
	ok "shell-init: a broken rule file prints nothing to eval (78, file:line:column)"
else
	not_ok "shell-init: a broken rule file prints nothing to eval (got $rc)" "$T/out" "$T/err"
fi
rm -f "$T/config/execguard/broken.rules"

# ---------------------------------------------------------------- 2. shell-init
"$EXECGUARD" shell-init tcsh >"$T/out" 2>"$T/err"
rc1=$?
"$EXECGUARD" shell-init >"$T/out" 2>>"$T/err"
rc2=$?
[ $rc1 -eq 64 ] && [ $rc2 -eq 64 ] && ok "shell-init: unknown or missing shell exits 64" ||
	not_ok "shell-init: unknown or missing shell exits 64 (got $rc1 $rc2)" "$T/err"

# The rc file evaluates the snippet (as a user would), then, in the guarded
# shell, reports whether the library is mapped and tries terraform destroy.
# A working snippet restarts the shell once: the rc file runs twice.
shell_case() { # shell rcfile-writer run-command...
	local sh=$1
	shift
	reset
	rm -f "$T/rc.count" "$T/result"
	setsid -w "$@" </dev/null >"$T/out" 2>"$T/err"
	local rc=$? count res
	count=$(wc -l <"$T/rc.count" 2>/dev/null || echo 0)
	res=$(cat "$T/result" 2>/dev/null)
	if [ $rc -eq 0 ] && [ "$count" -eq 2 ] && [ "$res" = "LOADED rc=126 from=$LIB" ] && [ -z "$(ran)" ] &&
		grep -q 'execguard: blocked: terraform destroy' "$T/err"; then
		ok "shell-init $sh: the shell restarts guarded once, with the session copy of the library; terraform destroy is refused"
	else
		echo "# rc=$rc rc-file runs=$count result='$res' ran='$(ran)'" >"$T/why"
		not_ok "shell-init $sh: the shell restarts guarded once; terraform destroy is refused" \
			"$T/why" "$T/out" "$T/err"
	fi
}

cat >"$T/home/.bashrc" <<EOF
echo rc >> '$T/rc.count'
eval "\$('$EXECGUARD' shell-init bash)"
case "\$(cat /proc/\$\$/maps)" in */execguard/lib-*/libexecguard.so*) l=LOADED ;; *) l=NOT-LOADED ;; esac
terraform destroy
echo "\$l rc=\$? from=\$EXECGUARD_LIBRARY" > '$T/result'
exit 0
EOF
shell_case bash bash -i

if command -v zsh >/dev/null; then
	cat >"$T/zdot/.zshrc" <<EOF
echo rc >> '$T/rc.count'
eval "\$('$EXECGUARD' shell-init zsh)"
case "\$(cat /proc/\$\$/maps)" in */execguard/lib-*/libexecguard.so*) l=LOADED ;; *) l=NOT-LOADED ;; esac
terraform destroy
echo "\$l rc=\$? from=\$EXECGUARD_LIBRARY" > '$T/result'
exit 0
EOF
	shell_case zsh env ZDOTDIR="$T/zdot" zsh -i
else
	skip "shell-init zsh" "zsh not installed"
fi

if command -v fish >/dev/null; then
	mkdir -p "$T/config/fish"
	cat >"$T/config/fish/config.fish" <<EOF
echo rc >> '$T/rc.count'
'$EXECGUARD' shell-init fish | source
set -l l NOT-LOADED
string match -q '*/execguard/lib-*/libexecguard.so*' </proc/\$fish_pid/maps; and set l LOADED
terraform destroy
echo "\$l rc=\$status from=\$EXECGUARD_LIBRARY" > '$T/result'
exit 0
EOF
	shell_case fish fish -i
	rm -f "$T/config/fish/config.fish"
else
	skip "shell-init fish" "fish not installed"
fi

# In a script (not interactive) the snippet does nothing: no exec.
reset
setsid -w bash -c 'eval "$("$0" shell-init bash)"; echo still-here; terraform plan' "$EXECGUARD" \
	</dev/null >"$T/out" 2>"$T/err"
grep -q still-here "$T/out" && [ "$(ran)" = "terraform plan" ] &&
	ok "shell-init: a non-interactive shell is left alone" ||
	not_ok "shell-init: a non-interactive shell is left alone" "$T/out" "$T/err"

# ---------------------------------------------------------------- 3. sandboxes
# /etc/ld.so.preload, in a private mount namespace only (the host's /etc is
# never touched): a copy of /etc with the line, bind-mounted over /etc, or
# (when the host has the file) just a file bind-mounted over it.
reset
if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
	skip "sandbox: /etc/ld.so.preload" "needs root and unshare -m"
else
	cat >"$T/ns.sh" <<'EOF'
set -e
T=$1 LIB=$2
if [ -e /etc/ld.so.preload ]; then
	{ cat /etc/ld.so.preload; echo "$LIB"; } > "$T/ld.so.preload"
	mount --bind "$T/ld.so.preload" /etc/ld.so.preload
else
	cp -a /etc "$T/etc"
	echo "$LIB" > "$T/etc/ld.so.preload"
	mount --bind "$T/etc" /etc
fi
set +e
bash -c 'terraform destroy; echo "rc=$?"; grep -c libexecguard /proc/self/maps'
EOF
	host_before=$(cat /etc/ld.so.preload 2>/dev/null || echo NONE)
	setsid -w unshare -m --propagation private bash "$T/ns.sh" "$T" "$LIB" </dev/null >"$T/out" 2>"$T/err"
	host_after=$(cat /etc/ld.so.preload 2>/dev/null || echo NONE)
	if grep -qx 'rc=126' "$T/out" && [ -z "$(ran)" ] && ! grep -qx 0 "$T/out" &&
		grep -q 'execguard: blocked: terraform destroy' "$T/err" && [ "$host_before" = "$host_after" ]; then
		ok "sandbox: /etc/ld.so.preload in a private mount namespace refuses terraform destroy"
	else
		not_ok "sandbox: /etc/ld.so.preload in a private mount namespace" "$T/out" "$T/err"
	fi
	# Nothing to re-inject there when the sandbox sets no EXECGUARD_ value
	# (no LD_PRELOAD either): an exec with a NULL environment goes through,
	# as the kernel takes it, empty.
	sed -i 's/^bash -c .*/"$3" execve-null-env \/usr\/bin\/env; echo "null-env rc=$?"/' "$T/ns.sh"
	rm -rf "$T/etc"
	setsid -w env -i PATH=/usr/bin:/bin unshare -m --propagation private bash "$T/ns.sh" "$T" "$LIB" \
		"$EG_TEST_BIN/eg_exec_variants" </dev/null >"$T/out" 2>"$T/err"
	grep -qx 'null-env rc=0' "$T/out" &&
		ok "sandbox: /etc/ld.so.preload, no EXECGUARD_ value: an exec with a NULL environment runs" ||
		not_ok "sandbox: /etc/ld.so.preload, an exec with a NULL environment" "$T/out" "$T/err"
	rm -rf "$T/etc"
fi

reset
if ! command -v bwrap >/dev/null; then
	skip "sandbox: bubblewrap with LD_PRELOAD" "bwrap not installed"
elif ! bwrap --dev-bind / / true 2>"$T/err"; then
	skip "sandbox: bubblewrap with LD_PRELOAD" "bwrap does not work here: $(head -1 "$T/err")"
else
	setsid -w bwrap --dev-bind / / --setenv LD_PRELOAD "$LIB" -- \
		bash -c 'terraform destroy; echo "rc=$?"; env -u LD_PRELOAD bash -c "terraform destroy; echo rc2=\$?"' \
		</dev/null >"$T/out" 2>"$T/err"
	if grep -qx 'rc=126' "$T/out" && grep -qx 'rc2=126' "$T/out" && [ -z "$(ran)" ]; then
		ok "sandbox: bwrap --setenv LD_PRELOAD refuses terraform destroy (also after env -u)"
	else
		not_ok "sandbox: bwrap --setenv LD_PRELOAD" "$T/out" "$T/err"
	fi
fi

echo "1..$n"
[ $failed -eq 0 ]
