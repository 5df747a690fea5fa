#!/usr/bin/env bash
# Real workloads, unchanged (issue 9, part 4). Each workload runs twice in
# the same directory, once plainly and once under `execguard run` with the
# default rule packs, and what it produced must be the same:
#   - a real C project (execguard's own sources) built with meson + ninja,
#     and with make -j2: same exit status, same files, byte-identical objects;
#   - a Python test suite that uses subprocess, os.system, posix_spawn and
#     multiprocessing (workload_subprocess.py): same verbose report;
#   - npm scripts with pre/post hooks and nested `npm run`: same output;
#   - git operations with hooks (pre-commit, commit-msg, post-commit,
#     post-checkout, pre-rebase), fixed dates: same output, same hashes;
#   - less and vim on a pseudo-terminal (workload_tty.py): same bytes on the
#     terminal (less), same file (vim), terminal modes restored.
# Under the guard the audit log must stay empty: no rule matched, so the
# library had nothing to do but stay out of the way.
set -u

EG=${EG_EXECGUARD:?EG_EXECGUARD not set}
SRC=${EG_SOURCE_ROOT:?EG_SOURCE_ROOT not set}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/eg-workloads.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/home" "$T/empty" "$T/cache" "$T/state"
AUDIT=$T/state/audit.jsonl

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }

# The same environment both ways; the guarded one adds `execguard run --`.
envrun() {
	env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME="$T/home" LANG=C.UTF-8 TERM=dumb \
		XDG_CACHE_HOME="$T/cache" XDG_CONFIG_HOME="$T/empty" EXECGUARD_SYSTEM_DIR="$T/empty" \
		EXECGUARD_PACKS_DIR="$SRC/patterns" EXECGUARD_AUDIT_LOG="$AUDIT" \
		GIT_AUTHOR_NAME=A GIT_AUTHOR_EMAIL=a@example.org GIT_COMMITTER_NAME=A \
		GIT_COMMITTER_EMAIL=a@example.org GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' \
		GIT_COMMITTER_DATE='2024-01-01T00:00:00Z' GIT_CONFIG_NOSYSTEM=1 \
		npm_config_cache="$T/cache/npm" npm_config_update_notifier=false npm_config_fund=false \
		npm_config_audit=false "$@" < /dev/null
}
plain() { envrun "$@"; }
guarded() { envrun "$EG" run -- "$@"; }

# compare NAME PLAIN-FILE GUARDED-FILE
compare() {
	if cmp -s "$2" "$3"; then
		ok "$1: same result with and without the guard"
	else
		bad "$1: differs under the guard"; diff "$2" "$3" | head -n 20 | sed 's/^/     /'
	fi
}

# workload NAME SETUP-FN RUN-FN : setup, run plainly, setup again, run guarded
workload() {
	local name=$1 setup=$2 run=$3
	$setup && (plain bash -c "$run" > "$T/plain.out" 2>&1; echo "rc=$?" >> "$T/plain.out")
	$setup && (guarded bash -c "$run" > "$T/guarded.out" 2>&1; echo "rc=$?" >> "$T/guarded.out")
	compare "$name" "$T/plain.out" "$T/guarded.out"
}

# ------------------------------------------------ C project: meson + ninja
mkdir -p "$T/proj"
setup_proj() {
	rm -rf "$T/proj" && mkdir -p "$T/proj" &&
		cp -r "$SRC/meson.build" "$SRC/meson_options.txt" "$SRC/lib" "$SRC/cli" "$SRC/include" \
			"$SRC/patterns" "$SRC/bench" "$T/proj/" &&
		mkdir -p "$T/proj/tests" && cp "$SRC/tests/meson.build" "$T/proj/tests/"
}
# What a build produced: every file and the hash of each object and program
# (meson's own logs and databases record times and are left out).
build_manifest='find build -type f ! -path "*/meson-logs/*" ! -path "*/meson-private/*" ! -path "*/meson-info/*" ! -name ".ninja_*" ! -name "*.d" -printf "%P\n" | LC_ALL=C sort > files.txt; find build -type f \( -name "*.o" -o -name "*.so" -o -name "*.a" -o -perm -u+x \) ! -path "*/meson-*" -exec sha256sum {} + | LC_ALL=C sort -k2 > hashes.txt'
workload "meson + ninja build of a C project" setup_proj \
	"cd '$T/proj' && meson setup build -Dtests=false -Dbuildtype=plain > /dev/null && ninja -C build -j2 > /dev/null && $build_manifest && cat files.txt hashes.txt && build/cli/execguard check -- ls -la"

# ------------------------------------------------ C project: make -j2
setup_make() {
	# the configuration header meson generated for this build, so the
	# Makefile follows the project as it grows
	setup_proj && mkdir -p "$T/proj/mk" && cp "${EG_BUILD_ROOT:?EG_BUILD_ROOT not set}/eg_config.h" "$T/proj/mk/" &&
		cat > "$T/proj/Makefile" <<'EOF'
# The engine and the CLI of execguard, built by make instead of meson.
CFLAGS = -std=gnu11 -O1 -Wall -Wextra -D_GNU_SOURCE -Iinclude -Ilib -Ilib/preload -Icli -Imk -isystem /usr/include/bsd -DLIBBSD_OVERLAY
SRCS = $(wildcard lib/*.c) $(wildcard cli/*.c) \
  $(filter-out lib/preload/hooks_%.c lib/preload/preload_init.c,$(wildcard lib/preload/*.c))
OBJS = $(SRCS:%.c=mk/%.o)
mk/execguard: $(OBJS)
	$(CC) -o $@ $(OBJS) -lpcre2-8 -lbsd -ldl
mk/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<
EOF
}
workload "make -j2 of a C project" setup_make \
	"cd '$T/proj' && make -j2 -s && find mk -type f -exec sha256sum {} + | LC_ALL=C sort -k2 && mk/execguard --version"

# ------------------------------------------------ Python suite using subprocess
setup_py() { rm -rf "$T/py" && mkdir -p "$T/py" && cp "$HERE/workload_subprocess.py" "$T/py/"; }
workload "python unittest suite using subprocess and multiprocessing" setup_py \
	"cd '$T/py' && python3 workload_subprocess.py 2>&1 | sed -e 's/ in [0-9.]*s\$//'"

# ------------------------------------------------ npm scripts
setup_npm() {
	rm -rf "$T/npm" && mkdir -p "$T/npm" && cat > "$T/npm/package.json" <<'EOF'
{
  "name": "eg-workload",
  "version": "1.0.0",
  "private": true,
  "scripts": {
    "prebuild": "node -e \"console.log('prebuild', process.argv.length)\"",
    "build": "mkdir -p dist && node -e \"require('fs').writeFileSync('dist/out.txt', 'built\\n')\" && cat dist/out.txt",
    "postbuild": "echo postbuild && ls dist",
    "pretest": "npm run --silent lint",
    "lint": "node -e \"const cp = require('child_process'); console.log(cp.execSync('echo linted').toString().trim(), cp.spawnSync('sh', ['-c', 'exit 3']).status)\"",
    "test": "node -e \"const cp = require('child_process'); cp.execFile('node', ['-e', 'console.log(42)'], (e, out) => { console.log('test', out.trim()); process.exit(e ? 1 : 0); })\"",
    "posttest": "echo posttest",
    "fail": "node -e \"process.exit(5)\""
  }
}
EOF
}
if command -v npm > /dev/null; then
	workload "npm scripts with pre/post hooks, nested npm run" setup_npm \
		"cd '$T/npm' && npm run build && npm test && npm run --silent fail; echo fail-rc=\$?"
else
	echo "skip npm: not installed"
fi

# ------------------------------------------------ git with hooks
setup_git() {
	rm -rf "$T/git" && mkdir -p "$T/git" && cd "$T/git" && git init -q -b main repo && cd repo &&
		mkdir -p .git/hooks &&
		printf '#!/bin/sh\necho "pre-commit: $(git diff --cached --name-only | tr "\\n" " ")"\n' > .git/hooks/pre-commit &&
		printf '#!/bin/sh\nprintf "\\nSigned-off-by: hook\\n" >> "$1"\n' > .git/hooks/commit-msg &&
		printf '#!/bin/sh\necho "post-commit: $(git log -1 --format=%%s)"\n' > .git/hooks/post-commit &&
		printf '#!/bin/sh\necho "post-checkout: $3"\n' > .git/hooks/post-checkout &&
		printf '#!/bin/sh\necho "pre-rebase: $1"\n' > .git/hooks/pre-rebase &&
		chmod +x .git/hooks/* && cd "$T"
}
command -v git > /dev/null || echo "skip git: not installed"
command -v git > /dev/null && workload "git: commits, branches, merge, rebase, stash, tags, with hooks" setup_git \
	"cd '$T/git/repo' && git config commit.gpgsign false &&
	 echo one > a && git add a && git commit -q -m first &&
	 git checkout -q -b topic && echo two >> a && git commit -q -am second &&
	 git checkout -q main && echo three > b && git add b && git commit -q -m third &&
	 git rebase -q main topic && git checkout -q main && git merge -q --no-ff -m merge topic &&
	 echo dirty >> b && git stash -q && git stash pop -q && git checkout -q -- b &&
	 git tag v1 && git log --graph --format='%H %s' && git status --short && git rev-parse v1 &&
	 git gc -q && git fsck 2>&1 | head -n 3"

# ------------------------------------------------ interactive programs on a pty
if command -v python3 > /dev/null; then
	printf 'first line\nsecond line\n' > "$T/view.txt"
	if command -v less > /dev/null; then
		a=$(cd "$T" && plain python3 "$HERE/workload_tty.py" less "$T/view.txt" 2>&1)
		b=$(cd "$T" && envrun python3 "$HERE/workload_tty.py" less "$T/view.txt" "$EG" run -- 2>&1)
		[ "$a" = "$b" ] && grep -q 'status=0 .*modes-restored=True' <<< "$a" &&
			ok "less on a pty: same bytes on the terminal, modes restored ($b)" ||
			bad "less on a pty: '$a' vs '$b'"
	fi
	if command -v vim > /dev/null; then
		printf 'first line\n' > "$T/edit.txt"
		a=$(cd "$T" && plain python3 "$HERE/workload_tty.py" vim "$T/edit.txt" 2>&1)
		printf 'first line\n' > "$T/edit.txt"
		b=$(cd "$T" && envrun python3 "$HERE/workload_tty.py" vim "$T/edit.txt" "$EG" run -- 2>&1)
		[ "$a" = "$b" ] && grep -q 'status=0 modes-restored=True' <<< "$a" &&
			ok "vim on a pty: same file, modes restored ($b)" || bad "vim on a pty: '$a' vs '$b'"
	fi
fi

# ------------------------------------------------ nothing matched
if [ -s "$AUDIT" ]; then
	bad "the audit log is not empty: a rule matched in an ordinary workload"; head -n 5 "$AUDIT" | sed 's/^/     /'
else
	ok "no rule matched in any workload (audit log empty)"
fi

echo "passed $PASS, failed $FAIL"
[ "$FAIL" = 0 ]
