#!/bin/bash
# `meson install` into a temporary root (--destdir), then the installed tree
# is used from there and again after being moved elsewhere:
#   - every piece is where it belongs (tool, library, packs, man pages,
#     completions, the example /etc/execguard/local.rules);
#   - the installed tool finds the installed library and packs by its own
#     location (doctor says which), and `execguard run` refuses a guarded
#     `terraform destroy` without a terminal while a harmless command runs;
#   - the installed library loaded with a bare LD_PRELOAD reads the installed
#     packs (a probe rule added to them decides);
#   - the man pages format without warnings, the completions complete.
#
# Nothing is installed outside the temp dir. Fake terraform only. TAP.
set -u

BUILD=${EG_BUILD_ROOT:?EG_BUILD_ROOT not set}

T=$(mktemp -d /tmp/eg-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bin" "$T/home" "$T/state" "$T/cache" "$T/run"
chmod 700 "$T/run"
LOG=$T/ran.log
printf '#!/bin/sh\nprintf "%%s\\n" "terraform $*" >> "%s"\n' "$LOG" >"$T/bin/terraform"
chmod 755 "$T/bin/terraform"

export PATH="$T/bin:$PATH"
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_STATE_HOME="$T/state"
export XDG_CACHE_HOME="$T/cache" XDG_RUNTIME_DIR="$T/run"
# No EXECGUARD_PACKS_DIR: the installed tree must find its own packs. The
# system directory is the installed one (not this machine's /etc/execguard).
unset LD_PRELOAD EXECGUARD_POLICY EXECGUARD_MODE EXECGUARD_PACKS_DIR EXECGUARD_AUDIT_LOG

n=0
failed=0
rc=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
	echo "#   exit status: $rc"
	for f in "$T/out" "$T/err"; do [ -s "$f" ] && head -c 4000 "$f" | sed 's/^/#   /'; done
}
t() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
g() { setsid -w "$@" </dev/null >"$T/out" 2>"$T/err"; rc=$?; }
out_has() { grep -Eq -- "$1" "$T/out"; }
err_has() { grep -Eq -- "$1" "$T/err"; }

g meson install -C "$BUILD" --no-rebuild --destdir "$T/dest"
if [ $rc -ne 0 ]; then
	not_ok "meson install --destdir"
	echo "1..$n"
	exit 1
fi
ok "meson install --destdir into a temp dir"

# Where did it go? The prefix is whatever the build was configured with.
EXE=$(find "$T/dest" -path '*/bin/execguard' -type f | head -1)
LIB=$(find "$T/dest" -name libexecguard.so -type f | head -1)
P=${EXE%/bin/execguard}
t "the tool is in PREFIX/bin, the library under PREFIX" eval '[ -x "$EXE" ] && [ -f "$LIB" ] && [ "${LIB#"$P"/}" != "$LIB" ]'
SHARE=$P/share
[ -d "$SHARE/execguard" ] || SHARE=$(dirname "$(find "$T/dest" -type d -name execguard -path '*/share/*' | head -1)")
t "11 rule packs in PREFIX/share/execguard/patterns" eval '[ "$(ls "$SHARE/execguard/patterns"/*.rules | wc -l)" -eq 11 ]'
t "man pages execguard(1) and execguard.rules(5)" eval \
	'[ -f "$SHARE/man/man1/execguard.1" ] && [ -f "$SHARE/man/man5/execguard.rules.5" ]'
t "completions for bash, zsh and fish" eval \
	'[ -f "$SHARE/bash-completion/completions/execguard" ] && [ -f "$SHARE/fish/vendor_completions.d/execguard.fish" ] &&
	 ls "$SHARE"/zsh/*/_execguard >/dev/null 2>&1'
SYSRULES=$(find "$T/dest" -name local.rules -path '*/execguard/*' | head -1)
t "the example local.rules in the system rules directory" eval '[ -n "$SYSRULES" ] && grep -q "^#rule local" "$SYSRULES"'
export EXECGUARD_SYSTEM_DIR=${SYSRULES%/local.rules}

# The installed tree, where it is and then moved: the same checks.
installed_tree_checks() { # where
	local where=$1 exe=$2 lib=$3 share=$4
	g "$exe" doctor
	t "$where: doctor names the installed library and packs, lint clean" eval \
		"[ \$rc -eq 0 ] && out_has '^  library: +$lib \\(not loaded' &&
		 out_has '^ +$share/execguard/patterns/terraform.rules' && out_has '^  rule files: +12 files, [0-9]+ rules, lint clean'"

	rm -f "$LOG"
	g "$exe" run -- bash -c 'terraform destroy'
	t "$where: execguard run -- bash -c 'terraform destroy' without a terminal is refused" eval \
		'[ $rc -eq 126 ] && [ ! -e "$LOG" ] && err_has "execguard: blocked: terraform destroy"'
	g "$exe" run -- bash -c 'terraform plan; echo "P=$LD_PRELOAD"; echo "L=$EXECGUARD_LIBRARY"'
	t "$where: a harmless command runs, with the session's copy of the installed library preloaded" eval \
		"[ \$rc -eq 0 ] && [ \"\$(cat \"\$LOG\")\" = 'terraform plan' ] &&
		 out_has '^P=/.*/execguard/lib-[0-9a-f-]+/libexecguard.so\$' && out_has '^L=$lib\$'"

	# A probe rule in the installed packs: only a library that reads them
	# refuses the probe program.
	printf 'rule zz.install-probe\n  program   eg-install-probe\n  match     now\n  action    deny\n  reason    probe\n  example   eg-install-probe now\n' \
		>"$share/execguard/patterns/zz-probe.rules"
	printf '#!/bin/sh\necho probe ran\n' >"$T/bin/eg-install-probe"
	chmod 755 "$T/bin/eg-install-probe"
	g env LD_PRELOAD="$lib" bash -c 'eg-install-probe now; echo "rc=$?"'
	t "$where: the library under a bare LD_PRELOAD reads the installed packs" eval \
		'out_has "^rc=126$" && ! out_has "probe ran" && err_has "zz\\.install-probe"'
	g env LD_PRELOAD="$lib" "$exe" status
	t "$where: status under a bare LD_PRELOAD" eval '[ $rc -eq 0 ] && out_has "^execguard: on \\(LD_PRELOAD, [0-9]+ rules\\)$"'
	rm -f "$share/execguard/patterns/zz-probe.rules"
}
installed_tree_checks "installed" "$EXE" "$LIB" "$SHARE"

mkdir -p "$T/moved"
mv "$P" "$T/moved/prefix"
installed_tree_checks "moved elsewhere" "$T/moved/prefix${EXE#"$P"}" "$T/moved/prefix${LIB#"$P"}" \
	"$T/moved/prefix${SHARE#"$P"}"
SHARE=$T/moved/prefix${SHARE#"$P"}

# ------------------------------------------------------------------ man pages
if command -v groff >/dev/null; then
	for page in "$SHARE/man/man1/execguard.1" "$SHARE/man/man5/execguard.rules.5"; do
		g groff -man -ww -z "$page"
		t "man page ${page##*/} formats without warnings" eval '[ $rc -eq 0 ] && [ ! -s "$T/err" ]'
	done
else
	skip "man pages format" "groff not installed"
fi

# ------------------------------------------------------------------ completions
BC=/usr/share/bash-completion/bash_completion
if [ -r "$BC" ]; then
	g bash -c '
		source "$1" 2>/dev/null; source "$2"
		c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		      COMPREPLY=(); _execguard 2>/dev/null; echo "${COMPREPLY[*]}"; }
		c execguard doc; c execguard shell-init ""; c execguard run terrafor; c execguard log --j' \
		_ "$BC" "$SHARE/bash-completion/completions/execguard"
	t "bash completion: verbs, shells, commands after run, options" eval \
		'[ "$(sed -n 1p "$T/out")" = doctor ] && [ "$(sed -n 2p "$T/out")" = "bash zsh fish" ] &&
		 sed -n 3p "$T/out" | grep -qw terraform && [ "$(sed -n 4p "$T/out")" = --json ]'
else
	skip "bash completion" "bash-completion not installed"
fi
if command -v fish >/dev/null; then
	g fish -c 'source $argv[1]; complete -C "execguard sta"; complete -C "execguard shell-init f"' \
		"$SHARE/fish/vendor_completions.d/execguard.fish"
	t "fish completion: verbs and shells" eval 'out_has "^status" && out_has "^fish$"'
else
	skip "fish completion" "fish not installed"
fi
if command -v zsh >/dev/null; then
	z=$(ls "$SHARE"/zsh/*/_execguard | head -1)
	g zsh -n "$z"
	t "zsh completion parses and declares #compdef execguard" eval '[ $rc -eq 0 ] && head -1 "$z" | grep -qx "#compdef execguard"'
else
	skip "zsh completion" "zsh not installed"
fi

echo "1..$n"
[ $failed -eq 0 ]
