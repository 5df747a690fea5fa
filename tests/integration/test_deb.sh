#!/bin/bash
# The Debian package: built with `dpkg-buildpackage -us -uc -b` from a clean
# copy of the source (the files git knows, or the tree without build
# directories), then
#   - with CI=true as root: installed with dpkg -i, used, purged;
#   - otherwise: unpacked with dpkg-deb -x into a temp root and used there
#     (the installed tool finds its library and packs relative to itself).
# "Used": `execguard run -- bash -c 'terraform destroy'` with a fake
# terraform and no terminal is refused, a harmless command runs, doctor names
# the packaged library and packs and finds the rules lint clean. The package
# must not enable the guard system-wide: no maintainer script, no
# /etc/ld.so.preload, and the host's file is unchanged after installing.
#
# Skipped when dpkg-buildpackage or debhelper is missing. TAP.
set -u

SRC=${EG_SOURCE_ROOT:?EG_SOURCE_ROOT not set}

if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
	echo "1..0 # SKIP dpkg-buildpackage or debhelper not installed"
	exit 77
fi

T=$(mktemp -d /tmp/eg-deb.XXXXXX)
INSTALLED=
cleanup() {
	if [ -n "$INSTALLED" ]; then
		dpkg -P execguard >/dev/null 2>&1 || echo "# WARNING: dpkg -P execguard failed"
	fi
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/bin" "$T/home" "$T/state" "$T/cache" "$T/run" "$T/src"
chmod 700 "$T/run"
LOG=$T/ran.log
printf '#!/bin/sh\nprintf "%%s\\n" "terraform $*" >> "%s"\n' "$LOG" >"$T/bin/terraform"
chmod 755 "$T/bin/terraform"

n=0
failed=0
rc=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
	echo "#   exit status: $rc"
	for f in "$T/out" "$T/err"; do [ -s "$f" ] && tail -c 4000 "$f" | sed 's/^/#   /'; done
}
t() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
g() { setsid -w "$@" </dev/null >"$T/out" 2>"$T/err"; rc=$?; }
out_has() { grep -Eq -- "$1" "$T/out"; }
err_has() { grep -Eq -- "$1" "$T/err"; }

# ------------------------------------------------------------------ clean copy
VERSION=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -1)
D=$T/src/execguard-$VERSION
mkdir -p "$D"
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
	# tracked and new (not ignored) files, as they are in the work tree
	(cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -xf - -C "$D"
else
	tar -C "$SRC" --exclude='./build*' --exclude=./.git --exclude=./obj-* -cf - . | tar -xf - -C "$D"
fi
t "a clean copy of the source, without build directories" eval \
	'[ -f "$D/debian/control" ] && [ -f "$D/meson.build" ] && ! ls -d "$D"/build* >/dev/null 2>&1'
g dpkg-parsechangelog -l "$D/debian/changelog" -S Version
t "debian/changelog's version is the project's ($VERSION)" eval '[ "$(cat "$T/out")" = "$VERSION" ]'

# ------------------------------------------------------------------ build
(cd "$D" && DEB_BUILD_OPTIONS="nocheck parallel=2" nice -n 10 \
	dpkg-buildpackage -us -uc -b -Pnocheck </dev/null >"$T/out" 2>&1)
rc=$?
: >"$T/err"
DEB=$(ls "$T"/src/execguard_"$VERSION"_*.deb 2>/dev/null | head -1)
if [ $rc -ne 0 ] || [ -z "$DEB" ]; then
	not_ok "dpkg-buildpackage -us -uc -b builds execguard_${VERSION}_*.deb"
	echo "1..$n"
	exit 1
fi
ok "dpkg-buildpackage -us -uc -b builds ${DEB##*/}"

dpkg-deb -c "$DEB" | awk '{print $6}' >"$T/contents"
for f in ./usr/bin/execguard ./usr/share/execguard/patterns/terraform.rules \
	./usr/share/man/man1/execguard.1.gz ./usr/share/man/man5/execguard.rules.5.gz \
	./usr/share/bash-completion/completions/execguard ./usr/share/zsh/vendor-completions/_execguard \
	./usr/share/fish/vendor_completions.d/execguard.fish ./etc/execguard/local.rules; do
	grep -qx -- "$f" "$T/contents" || echo "missing $f" >>"$T/missing"
done
grep -Eq '^\./usr/lib/[^/]+/libexecguard\.so$' "$T/contents" || echo "missing the library" >>"$T/missing"
cp "$T/missing" "$T/out" 2>/dev/null || : >"$T/out"
t "the package holds the tool, the library, the packs, man pages, completions, local.rules" \
	eval '[ ! -s "$T/missing" ]'

dpkg-deb -e "$DEB" "$T/control"
t "no maintainer scripts (nothing runs at install), no /etc/ld.so.preload in the package" eval \
	'! ls "$T/control" | grep -Eq "^(pre|post)(inst|rm)|config$" && ! grep -q "ld\.so\.preload" "$T/contents"'
t "/etc/execguard/local.rules is a conffile" eval 'grep -qx /etc/execguard/local.rules "$T/control/conffiles"'

# ------------------------------------------------------------------ use it
export PATH="$T/bin:$PATH"
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_STATE_HOME="$T/state"
export XDG_CACHE_HOME="$T/cache" XDG_RUNTIME_DIR="$T/run"
unset LD_PRELOAD EXECGUARD_POLICY EXECGUARD_MODE EXECGUARD_PACKS_DIR EXECGUARD_SYSTEM_DIR EXECGUARD_AUDIT_LOG

if [ "${CI:-}" = true ] && [ "$(id -u)" -eq 0 ] && ! dpkg -s execguard >/dev/null 2>&1; then
	HOW="installed with dpkg -i"
	host_before=$(cat /etc/ld.so.preload 2>/dev/null || echo NONE)
	g dpkg -i "$DEB"
	INSTALLED=1
	t "dpkg -i" eval '[ $rc -eq 0 ]'
	ROOT=
else
	HOW="unpacked with dpkg-deb -x"
	ROOT=$T/root
	g dpkg-deb -x "$DEB" "$ROOT"
	t "dpkg-deb -x" eval '[ $rc -eq 0 ]'
	export EXECGUARD_SYSTEM_DIR=$ROOT/etc/execguard
fi
EXE=$ROOT/usr/bin/execguard
LIB=$(ls "$ROOT"/usr/lib/*/libexecguard.so | head -1)

rm -f "$LOG"
g "$EXE" run -- bash -c 'terraform destroy'
t "$HOW: execguard run -- bash -c 'terraform destroy' without a terminal is refused" eval \
	'[ $rc -eq 126 ] && [ ! -e "$LOG" ] && err_has "execguard: blocked: terraform destroy" && err_has "no terminal"'
g "$EXE" run -- bash -c 'terraform plan'
t "$HOW: a harmless command runs" eval '[ $rc -eq 0 ] && [ "$(cat "$LOG")" = "terraform plan" ]'
g "$EXE" doctor
t "$HOW: doctor names the packaged library and packs, rules lint clean" eval \
	'[ $rc -eq 0 ] && out_has "^  library: +$LIB \\(not loaded" &&
	 out_has "^ +$ROOT/usr/share/execguard/patterns/terraform.rules" && out_has "lint clean"'

if [ -n "$INSTALLED" ]; then
	host_after=$(cat /etc/ld.so.preload 2>/dev/null || echo NONE)
	t "installing did not touch /etc/ld.so.preload" eval '[ "$host_before" = "$host_after" ]'
	g dpkg -P execguard
	INSTALLED=
	t "dpkg -P removes it all" eval '[ $rc -eq 0 ] && [ ! -e /usr/bin/execguard ] && [ ! -e /etc/execguard/local.rules ]'
fi

echo "1..$n"
[ $failed -eq 0 ]
