#!/bin/bash
# The outside contract of the `execguard` tool: usage errors (64), check's
# exit codes and output with the shipped packs, -c/-q/-C/-f, allow exceptions,
# configuration errors (78 for check/rules/run, 1 for lint) with
# file:line:column, lint on named files (examples, regex errors, duplicates,
# NUL, invalid UTF-8, long lines, unreadable files, directories), `rules`
# listing, and hostile input to check (huge argv, huge arguments, bad bytes).
#
# Isolated from the machine: packs from the source tree, an empty system
# directory, a private XDG_CONFIG_HOME/HOME. `check` runs nothing; `run` only
# ever starts fake scripts from a temp dir. Output: TAP-like lines, then a
# final "N passed, M failed"; exit 1 on any failure.
set -u

EG=${EG_EXECGUARD:?EG_EXECGUARD not set}
SRC=${EG_SOURCE_ROOT:?EG_SOURCE_ROOT not set}
PACKS=$SRC/patterns

T=$(mktemp -d /tmp/eg-cli.XXXXXX)
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$T/bin" "$T/home" "$T/config" "$T/state" "$T/sysrules" "$T/rules" "$T/run"
chmod 700 "$T/run"

export PATH="$T/bin:$PATH"
export HOME="$T/home" XDG_CONFIG_HOME="$T/config" XDG_STATE_HOME="$T/state"
export XDG_RUNTIME_DIR="$T/run"
export EXECGUARD_SYSTEM_DIR="$T/sysrules" EXECGUARD_PACKS_DIR="$PACKS"
unset LD_PRELOAD EXECGUARD_POLICY EXECGUARD_AUDIT_LOG
USERDIR=$XDG_CONFIG_HOME/execguard

n=0
passed=0
failed=0
rc=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $1 # SKIP $2"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
	echo "#   exit status: $rc"
	for f in "$T/out" "$T/err"; do
		[ -s "$f" ] || continue
		echo "#   ${f##*/}:"
		head -c 3000 "$f" | sed 's/^/#     /'
		echo
	done
}
# t NAME CONDITION...: ok when the condition (a command) succeeds.
t() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
# eg ARGS...: run execguard, stdout to $T/out, stderr to $T/err, status in $rc.
eg() { "$EG" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
out_has() { grep -Eq -- "$1" "$T/out"; }
err_has() { grep -Eq -- "$1" "$T/err"; }
rc_is() { [ "$rc" -eq "$1" ]; }
rc_in_012() { [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ]; }
rc_in_12() { [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ]; } # refused either way, never allowed
re_escape() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }

# ------------------------------------------------------------ usage (64)
eg --help
t "--help exits 0 with usage on stdout" eval 'rc_is 0 && out_has "^usage: execguard" && out_has "check" && [ ! -s "$T/err" ]'
eg --version
t "--version exits 0 and prints 'execguard 0.1.0'" eval 'rc_is 0 && [ "$(cat "$T/out")" = "execguard 0.1.0" ]'
eg
t "no verb exits 64 with usage on stderr" eval 'rc_is 64 && err_has "^usage: execguard" && [ ! -s "$T/out" ]'
eg frobnicate
t "unknown verb exits 64 and names it" eval 'rc_is 64 && err_has "frobnicate"'
eg --bogus
t "unknown global option exits 64" rc_is 64
eg check
t "check with no command exits 64" eval 'rc_is 64 && err_has "no command"'
eg check -c X extra
t "check -c X extra exits 64" rc_is 64
eg check --bogus ls
t "check with an unknown option exits 64, 'execguard: check:' message" eval \
	'rc_is 64 && err_has "^execguard: check: .*--bogus"'
eg check -Z ls
t "check with an unknown short option exits 64" rc_is 64
eg check -f
t "check -f without its argument exits 64, message names execguard and the option" eval \
	'rc_is 64 && err_has "^execguard: check: .*-f"'
eg lint --bogus
t "lint --bogus exits 64" eval 'rc_is 64 && err_has "bogus"'
eg rules extra
t "rules with an argument exits 64" eval 'rc_is 64 && err_has "extra"'
eg run
t "run with no command exits 64" rc_is 64
eg run --bogus true
t "run with an unknown option exits 64" rc_is 64
eg shell-init
t "shell-init with no shell exits 64" rc_is 64
eg shell-init tcsh
t "shell-init with an unknown shell exits 64" eval 'rc_is 64 && [ ! -s "$T/out" ]'
# output that cannot be written is an error, not a silent success
if [ -w /dev/full ]; then
	"$EG" rules >/dev/full 2>"$T/err"; rc=$?
	t "rules >/dev/full exits 74 with a message" eval 'rc_is 74 && err_has "cannot write"'
	"$EG" --version >/dev/full 2>"$T/err"; rc=$?
	t "--version >/dev/full exits 74" rc_is 74
	"$EG" check -- rm -rf / >/dev/full 2>"$T/err"; rc=$?
	t "check rm -rf / >/dev/full keeps the decision (2)" rc_is 2
else
	skip "output to /dev/full is an error" "no writable /dev/full"
fi
for verb in check lint rules run shell-init; do
	eg "$verb" --help
	t "$verb --help exits 0 with usage on stdout" eval 'rc_is 0 && out_has "^usage: execguard $verb"'
done

# ------------------------------------------------- check with the packs
eg check -- ls -la
t "check ls -la: allow (0), no rule matches" eval 'rc_is 0 && out_has "^allow: ls -la$" && out_has "no rule matches"'
eg check -- terraform plan
t "check terraform plan: allow (0)" eval 'rc_is 0 && out_has "^allow: terraform plan$"'
eg check -- terraform -chdir=infra destroy
t "check terraform -chdir=infra destroy: confirm (1) by terraform.destroy" eval \
	'rc_is 1 && out_has "^confirm: terraform -chdir=infra destroy$" && out_has "rule: +terraform\.destroy \("'

eg check -- aws --region eu-west-1 --profile p rds delete-db-instance --db-instance-identifier prod-database
t "check aws rds delete-db-instance: confirm (1)" eval 'rc_is 1 && out_has "^confirm: aws "'
# rule id and file:line, and the line really is that rule's header
ref=$(sed -n 's/^  rule: *aws\.rds\.delete-db-instance (\(.*\):\([0-9]*\))$/\1 \2/p' "$T/out")
rfile=${ref% *}
rline=${ref##* }
t "check aws: names rule aws.rds.delete-db-instance with file:line" eval '[ -n "$ref" ] && [ -f "$rfile" ]'
t "check aws: file:line points at the rule's header" eval \
	'[ -n "$ref" ] && sed -n "${rline}p" "$rfile" | grep -Eq "^(rule|override) aws\.rds\.delete-db-instance\s*$"'
t "check aws: prints the reason" eval 'out_has "^  reason: +[A-Z].{20,}"'
t "check aws: critical: the human must type 'prod-database'" eval \
	"out_has \"critical: the human must type 'prod-database'\""

eg check -- rm -rf /
t "check rm -rf /: deny (2)" eval 'rc_is 2 && out_has "^deny: rm -rf /$" && out_has "rule: "'

eg check -c 'cd x && sudo env bash -c "terraform destroy"'
t "check -c 'cd x && sudo env bash -c \"terraform destroy\"': confirm, inner command reported" eval \
	'rc_is 1 && out_has "terraform\.destroy" && out_has "inner command: terraform destroy$"'
eg check -c "cd infra && sudo -u ops env TF_LOG=1 terraform destroy"
t "check -c with sudo -u and env VAR=val: confirm (1)" eval 'rc_is 1 && out_has "inner command: terraform destroy"'
eg check -c 'ls -la && echo done'
t "check -c of harmless commands: allow (0)" rc_is 0

eg check -q -- rm -rf /
t "check -q rm -rf /: exit 2 and prints nothing" eval 'rc_is 2 && [ ! -s "$T/out" ] && [ ! -s "$T/err" ]'
eg check -q -- terraform destroy
t "check -q terraform destroy: exit 1 and prints nothing" eval 'rc_is 1 && [ ! -s "$T/out" ] && [ ! -s "$T/err" ]'
eg check -q -- ls
t "check -q ls: exit 0 and prints nothing" eval 'rc_is 0 && [ ! -s "$T/out" ] && [ ! -s "$T/err" ]'

# ------------------------------------------------------- -f, -C, allow
cat >"$T/rules/cwd.rules" <<'EOF'
# a rule that only applies in a production directory
rule local.prod-apply
  program   frobctl
  match     (^|\s)apply(\s|$)
  cwd       ^/srv/prod(/|$)
  action    deny
  reason    Applies the frob to production.
  example   frobctl apply
  safe      frobctl status
EOF
eg check -- frobctl apply
t "check frobctl apply without -f: allow (0)" rc_is 0
eg check -f "$T/rules/cwd.rules" -C /srv/prod/app -- frobctl apply
t "check -f FILE -C /srv/prod/app: the file's cwd rule denies (2)" eval \
	'rc_is 2 && out_has "local\.prod-apply \($(re_escape "$T/rules/cwd.rules"):2\)"'
eg check -f "$T/rules/cwd.rules" -C /srv/dev -- frobctl apply
t "check -f FILE -C /srv/dev: the cwd rule does not apply (0)" rc_is 0
mkdir -p "$T/srv/prod"
(cd "$T/srv/prod" && "$EG" check -f "$T/rules/cwd.rules" -C /srv/prod -- frobctl apply >"$T/out" 2>"$T/err"); rc=$?
t "check -C DIR wins over the real working directory" rc_is 2
(cd /srv 2>/dev/null || cd /; "$EG" check -f "$T/rules/cwd.rules" -- frobctl apply >"$T/out" 2>"$T/err"); rc=$?
t "check without -C uses the real working directory (not /srv/prod)" rc_is 0
cat >"$T/rules/cwd-real.rules" <<'EOF'
rule local.prod-apply-real
  program   frobctl
  match     (^|\s)apply(\s|$)
  cwd       /eg-cli\.[^/]+/srv/prod$
  action    deny
  reason    Applies the frob to production.
  example   frobctl apply
EOF
(cd "$T/srv/prod" && "$EG" check -f "$T/rules/cwd-real.rules" -- frobctl apply >"$T/out" 2>"$T/err"); rc=$?
t "check without -C judges by the real working directory (deny, 2)" rc_is 2
(cd "$T/srv" && "$EG" check -f "$T/rules/cwd-real.rules" -- frobctl apply >"$T/out" 2>"$T/err"); rc=$?
t "check without -C: another real directory does not match (0)" rc_is 0

cat >"$T/rules/a-deny.rules" <<'EOF'
rule local.wipe
  program   frobctl
  match     (^|\s)wipe(\s|$)
  action    deny
  reason    Wipes every frob.
  example   frobctl wipe
EOF
cat >"$T/rules/b-allow.rules" <<'EOF'
rule local.wipe-scratch
  program   frobctl
  match     (^|\s)wipe\s+--scratch(\s|$)
  action    allow
  reason    The scratch frobs are disposable.
  example   frobctl wipe --scratch
EOF
eg check -f "$T/rules/a-deny.rules" -- frobctl wipe --scratch
t "check -f deny rule: denies (2)" eval 'rc_is 2 && out_has "local\.wipe "'
eg check -f "$T/rules/a-deny.rules" -f "$T/rules/b-allow.rules" -- frobctl wipe --scratch
t "allow rule in a later file: allow (0), 'allowed by' names it" eval \
	'rc_is 0 && out_has "allowed by: +local\.wipe-scratch \($(re_escape "$T/rules/b-allow.rules"):1\)"'
eg check -f "$T/rules/a-deny.rules" -f "$T/rules/b-allow.rules" -- frobctl wipe
t "the allow rule does not cancel what it does not match (2)" rc_is 2
eg check -f "$T/rules/b-allow.rules" -f "$T/rules/a-deny.rules" -- frobctl wipe --scratch
t "an allow rule in an earlier file does not cancel a later deny (2)" rc_is 2

# allow in the user directory against a pack rule: cancels it only when the
# pack file is not protected (writable by us, or its directory is).
mkdir -p "$USERDIR"
cat >"$USERDIR/zz-allow.rules" <<'EOF'
rule local.allow-sandbox-destroy
  program   terraform
  match     (^|\s)-chdir=sandbox(\s|$)
  action    allow
  reason    The sandbox state is disposable.
  example   terraform -chdir=sandbox destroy
EOF
eg check -- terraform -chdir=sandbox destroy
if [ -w "$PACKS/terraform.rules" ] || [ -w "$PACKS" ]; then
	t "user-dir allow over a writable pack: allow (0), 'allowed by'" eval \
		'rc_is 0 && out_has "allowed by: +local\.allow-sandbox-destroy"'
else
	t "user-dir allow cannot weaken a protected pack rule: still confirm (1)" rc_is 1
fi
eg check -- terraform -chdir=infra destroy
t "user-dir allow leaves other destroys to confirm (1)" rc_is 1
rm -f "$USERDIR/zz-allow.rules"

# ------------------------------------------------- configuration errors
printf 'rule bad.one\n  program   frobctl\n  match     (unclosed\n  action    confirm\n  reason    r\n  example   frobctl x\n' \
	>"$USERDIR/bad.rules"
BAD=$(re_escape "$USERDIR/bad.rules")
eg check -- ls
t "broken user rule: check exits 78" rc_is 78
t "broken user rule: check prints file:line:column" eval 'err_has "^$BAD:3:[0-9]+: "'
eg check -q -- rm -rf /
t "broken user rule: check -q still exits 78" rc_is 78
eg rules
t "broken user rule: rules exits 78 with file:line:column" eval 'rc_is 78 && err_has "^$BAD:3:[0-9]+: "'
eg lint
nlines=$(grep -Ec '^[^:]+:[0-9]+:[0-9]+: ' "$T/err")
last=$(tail -n 1 "$T/err")
t "broken user rule: lint exits 1 with file:line:col lines" eval 'rc_is 1 && err_has "^$BAD:3:[0-9]+: " && [ "$nlines" -ge 1 ]'
t "broken user rule: lint ends with 'N problems found', N = the diagnostics" eval \
	'printf "%s\n" "$last" | grep -Eq "(^|: )$nlines problems? found$"'
eg shell-init bash
t "broken user rule: shell-init exits 78, nothing on stdout" eval 'rc_is 78 && [ ! -s "$T/out" ]'

MARK=$T/started
printf '#!/bin/sh\ntouch "%s"\n' "$MARK" >"$T/bin/eg-fake-marker"
chmod 755 "$T/bin/eg-fake-marker"
rm -f "$MARK"
eg run -- eg-fake-marker
t "broken user rule: run -- CMD exits 78 before CMD starts" eval \
	'rc_is 78 && [ ! -e "$MARK" ] && err_has "^$BAD:3:[0-9]+: "'
eg run -- true
t "broken user rule: run -- true exits 78" rc_is 78

printf 'rule bad.two\n  program   frobctl\n  frob      x\n  action    confirm\n  reason    r\n  example   frobctl x\n' \
	>"$USERDIR/bad.rules"
eg lint
nlines=$(grep -Ec '^[^:]+:[0-9]+:[0-9]+: ' "$T/err")
last=$(tail -n 1 "$T/err")
t "unknown key: lint exits 1 and reports it at line 3 column 3" eval 'rc_is 1 && err_has "^$BAD:3:3: .*frob"'
t "unknown key: lint's count matches its diagnostics" eval \
	'[ "$nlines" -ge 1 ] && printf "%s\n" "$last" | grep -Eq "(^|: )$nlines problems? found$"'
rm -f "$USERDIR/bad.rules"

# positive control for the marker: with clean rules, run does start it
rm -f "$MARK"
eg run -- eg-fake-marker
t "clean rules: run -- fake command starts it (exit 0)" eval 'rc_is 0 && [ -e "$MARK" ]'
# (a PATH of searchable directories only: execvp reports EACCES, 126, when
# a PATH entry such as /root/bin cannot be searched)
PATH="$T/bin:/usr/bin:/bin" eg run -- eg-no-such-command-here
t "run of a missing command exits 127" rc_is 127

# ------------------------------------------------------ lint named files
npacks=$(ls "$PACKS"/*.rules | wc -l)
eg lint
t "lint of the shipped packs: exit 0 and a summary line" eval \
	'rc_is 0 && out_has "^[0-9]+ rules in $npacks files, [0-9]+ example and safe lines: no problems$"'
packs_rules=$(sed -n 's/^\([0-9]*\) rules in .*/\1/p' "$T/out")

cat >"$T/rules/clean.rules" <<'EOF'
rule local.frob
  program   frobctl
  match     (^|\s)obliterate(\s|$)
  action    confirm
  reason    Obliterates the frob.
  example   frobctl obliterate all
  safe      frobctl list
EOF
eg lint "$T/rules/clean.rules"
t "lint clean extra file: exit 0, one more rule and file in the summary" eval \
	'rc_is 0 && out_has "^$((packs_rules + 1)) rules in $((npacks + 1)) files, [0-9]+ example and safe lines: no problems$"'
eg lint -- "$T/rules/clean.rules"
t "lint -- FILE works too" rc_is 0

cat >"$T/rules/ex.rules" <<'EOF'
rule local.frob2
  program   frobctl
  match     (^|\s)obliterate(\s|$)
  action    confirm
  reason    Obliterates the frob.
  example   frobctl list
  safe      frobctl obliterate now
EOF
F=$(re_escape "$T/rules/ex.rules")
eg lint "$T/rules/ex.rules"
t "lint: example not matched -> exit 1 with the example's line" eval 'rc_is 1 && err_has "^$F:6:[0-9]+: .*example"'
t "lint: safe line matched -> reported at its line" eval 'err_has "^$F:7:[0-9]+: .*safe"'
t "lint: '2 problems found'" eval 'tail -n 1 "$T/err" | grep -Eq "(^|: )2 problems found$"'

printf 'rule local.re\n  program   frobctl\n  match     a[b\n  action    deny\n  reason    r\n  example   frobctl ab\n' >"$T/rules/re.rules"
F=$(re_escape "$T/rules/re.rules")
eg lint "$T/rules/re.rules"
# value starts at column 13; PCRE2 reports offset 3 (end of "a[b"): column 16
t "lint: regex error with PCRE2's message and its column" eval \
	'rc_is 1 && err_has "^$F:3:16: .*missing terminating \] for character class"'

cp "$T/rules/clean.rules" "$T/rules/dup.rules"
F=$(re_escape "$T/rules/dup.rules")
eg lint "$T/rules/clean.rules" "$T/rules/dup.rules"
t "lint: duplicate id across two files, at the second, naming the first" eval \
	'rc_is 1 && err_has "^$F:1:[0-9]+: .*duplicate.*local\.frob" && err_has "$(re_escape "$T/rules/clean.rules"):1"'
cat >"$T/rules/override.rules" <<'EOF'
override local.frob
  program   frobctl
  match     (^|\s)(obliterate|annihilate)(\s|$)
  action    deny
  reason    Obliterates the frob, for good.
  example   frobctl annihilate all
EOF
eg lint "$T/rules/clean.rules" "$T/rules/override.rules"
t "lint: 'override' in a later file is not a duplicate (0)" rc_is 0
eg check -f "$T/rules/clean.rules" -f "$T/rules/override.rules" -- frobctl annihilate x
t "check: the override replaces the rule (deny, 2)" rc_is 2

printf 'rule local.nul\n  program   frobctl\n  match     x\000y\n  action    deny\n  reason    r\n  example   frobctl x\n' >"$T/rules/nul.rules"
F=$(re_escape "$T/rules/nul.rules")
eg lint "$T/rules/nul.rules"
t "lint: NUL byte reported at its line and column" eval 'rc_is 1 && err_has "^$F:3:14: .*NUL"'

printf 'rule local.utf\n  program   frobctl\n  match     x\n  action    deny\n  reason    r \377\376 bad\n  example   frobctl x\n' >"$T/rules/utf.rules"
F=$(re_escape "$T/rules/utf.rules")
eg lint "$T/rules/utf.rules"
t "lint: invalid UTF-8 reported at its line and column" eval 'rc_is 1 && err_has "^$F:5:15: .*UTF-8"'

{
	printf 'rule local.long\n  program   frobctl\n  match     x\n  action    deny\n  reason    '
	head -c 5000 /dev/zero | tr '\0' a
	printf '\n  example   frobctl x\n'
} >"$T/rules/long.rules"
F=$(re_escape "$T/rules/long.rules")
eg lint "$T/rules/long.rules"
t "lint: a 5000-byte line is an error at that line (limit 4096)" eval \
	'rc_is 1 && err_has "^$F:5:[0-9]+: .*4096"'

cp "$T/rules/clean.rules" "$T/rules/unreadable.rules"
chmod 000 "$T/rules/unreadable.rules"
if [ "$(id -u)" -eq 0 ]; then
	skip "lint: an unreadable file is a problem" "running as root: every file is readable"
else
	F=$(re_escape "$T/rules/unreadable.rules")
	eg lint "$T/rules/unreadable.rules"
	t "lint: an unreadable file is a problem (1), named with the reason" eval \
		'rc_is 1 && err_has "$F.*([Pp]ermission denied|cannot)"'
	eg check -f "$T/rules/unreadable.rules" -- ls
	t "check -f on an unreadable file: 78" rc_is 78
fi
rm -f "$T/rules/unreadable.rules"

mkdir -p "$T/rules/dir.rules"
F=$(re_escape "$T/rules/dir.rules")
eg lint "$T/rules/dir.rules"
t "lint: a directory passed as a file is a problem (1), named" eval 'rc_is 1 && err_has "$F"'
eg lint "$T/rules/missing.rules"
t "lint: a missing file is a problem (1), named" eval 'rc_is 1 && err_has "$(re_escape "$T/rules/missing.rules")"'
eg check -f "$T/rules/missing.rules" -- ls
t "check -f on a missing file: 78" rc_is 78

# ----------------------------------------------------------------- rules
printf 'rule local.user-one\n  program   frobctl\n  match     zap\n  action    log\n  reason    r\n  example   frobctl zap\n' \
	>"$USERDIR/mine.rules"
eg rules
t "rules: exit 0" rc_is 0
t "rules: lists a pack file and its rule ids" eval \
	'out_has "^$(re_escape "$PACKS/terraform.rules")( |$)" && out_has "^  terraform\.destroy +confirm"'
t "rules: lists the user file and its rule" eval \
	'out_has "^$(re_escape "$USERDIR/mine.rules") \(writable by you\)$" && out_has "^  local\.user-one +log"'
if [ -w "$PACKS/terraform.rules" ] || [ -w "$PACKS" ]; then
	t "rules: a writable pack file is marked writable" eval 'out_has "^$(re_escape "$PACKS/terraform.rules") \(writable by you\)$"'
else
	t "rules: a protected pack file is not marked writable" eval 'out_has "^$(re_escape "$PACKS/terraform.rules")$"'
fi
t "rules: a critical rule is marked '!'" eval 'out_has "^  aws\.rds\.delete-db-instance +confirm !"'
nfiles=$(grep -c '^/' "$T/out")
nrules=$(grep '^  [A-Za-z0-9]' "$T/out" | grep -vc '^  set ')
nsettings=$(grep -c '^  set ' "$T/out")
t "rules: ends with a count line matching what it listed ($nrules rules, $nsettings settings in $nfiles files)" eval \
	'tail -n 1 "$T/out" | grep -Eq "^$nrules rules and $nsettings settings in $nfiles files( |$)" && [ "$nfiles" -eq $((npacks + 1)) ]'
rm -f "$USERDIR/mine.rules"

# ------------------------------------------------- bad input to check
args=()
for i in $(seq 1 5000); do args+=("-var=x$i"); done
eg check -- terraform "${args[@]}" destroy
t "check terraform with 5000 args ... destroy: confirm (1)" rc_is 1
eg check -- terraform destroy "${args[@]}"
t "check terraform destroy with 5000 args after it: confirm (1)" rc_is 1
eg check -- ls "${args[@]}"
t "check ls with 5000 args: no crash" rc_in_012
eg check -c "terraform ${args[*]} destroy"
t "check -c 'terraform <5000 words> destroy': no crash, not allowed" rc_in_12

# One 1 MB argument: Linux caps a single argv string at MAX_ARG_STRLEN
# (128 KiB with 4 KiB pages), so when exec refuses it (E2BIG), send 1 MB
# spread over 8 arguments of the largest allowed size instead.
mb=$(head -c 1048576 /dev/zero | tr '\0' a)
eg check -- terraform "$mb" destroy
if [ "$rc" -eq 126 ] && grep -q 'too long' "$T/err"; then
	big=$(head -c 131071 /dev/zero | tr '\0' a)
	eg check -- terraform "$big" destroy
	t "check terraform ARG(128 KiB) destroy: no crash, not allowed (1 or 2)" rc_in_12
	eg check -- terraform "$big" "$big" "$big" "$big" "$big" "$big" "$big" "$big" destroy
	t "check terraform with 1 MB over 8 arguments ... destroy: no crash, not allowed" rc_in_12
	eg check -- psql -c "$big" "$big" "$big" "$big" "$big" "$big" "$big" "$big"
	t "check psql -c with 1 MB over 8 arguments: no crash" rc_in_012
	eg check -c "terraform destroy ${big:0:131000}"
	t "check -c 'terraform destroy <128 KiB>': no crash, not allowed" rc_in_12
else
	t "check terraform ARG(1 MB) destroy: no crash, not allowed (1 or 2)" rc_in_12
	eg check -c "terraform destroy $mb"
	t "check -c 'terraform destroy <1 MB>': no crash, not allowed" rc_in_12
fi

eg check -- "$(printf 'terr\377aform')" destroy "$(printf '\300\200')"
t "check with non-UTF-8 program name and args: no crash" rc_in_012
eg check -- terraform "$(printf '\377\376')" destroy
t "check terraform <invalid UTF-8> destroy: no crash, still confirm (1)" rc_is 1
eg check -c "$(printf 'terraform \377 destroy')"
t "check -c with invalid UTF-8: no crash" rc_in_012
eg check -- "" destroy
t "check with an empty program name: no crash" rc_in_012
eg check -- ""
t "check with only an empty argument: no crash" rc_in_012
eg check -c ""
t "check -c '': no crash, allow (0)" rc_is 0
eg check -c 'terraform destroy "unterminated'
t "check -c with an unterminated quote: no crash" rc_in_012

# ------------------------------------------------------------ log
LOGF=$T/state/execguard/audit.jsonl
eg log
t "log with no audit log yet: exit 0, says nothing is recorded" eval 'rc_is 0 && err_has "nothing recorded" && [ ! -s "$T/out" ]'
mkdir -p "$T/state/execguard"
cat > "$LOGF" <<'EOF_LOG'
{"time":"2026-01-02T03:04:05.000Z","pid":1,"ppid":0,"uid":0,"route":"exec","action":"confirm","outcome":"refused","why":"no-terminal","rule":"terraform.destroy","cwd":"/srv/old","exe":"/x/terraform","argv":["terraform","destroy"]}
torn line that is not a record
{"time":"2026-06-01T00:00:00.000Z","pid":2,"ppid":1,"uid":0,"route":"exec","action":"deny","outcome":"refused","why":"denied","rule":"disks.rm-root","cwd":"/","exe":"/bin/rm","argv":["rm","-rf","/"]}
{"time":"2026-06-02T00:00:00.000Z","pid":3,"ppid":1,"uid":0,"route":"exec","action":"confirm","outcome":"approved","rule":"postgres.dropdb","cwd":"/w","exe":"/x/dropdb","argv":["dropdb","it's \"q\"\ttab"]}
EOF_LOG
eg log
t "log prints every record, oldest first, skips a torn line" eval 'rc_is 0 && [ "$(grep -c "^2026-" "$T/out")" -eq 3 ] && head -1 "$T/out" | grep -q "terraform.destroy"'
t "log shows time, decision/outcome, rule, session and the shell-quoted command" eval \
	'out_has "^2026-06-02 00:00:00Z +confirm/approved +postgres.dropdb +- +dropdb ..it" && out_has "deny/refused +disks.rm-root .* rm -rf /$" && out_has "confirm/no-terminal +terraform.destroy"'
eg log --json
t "log --json prints the stored records" eval 'rc_is 0 && [ "$(wc -l < "$T/out")" -eq 3 ] && out_has "^\{\"time\":\"2026-01-02"'
eg log --since 2026-06-01
t "log --since DATE keeps later records" eval 'rc_is 0 && [ "$(grep -c "^2026-" "$T/out")" -eq 2 ] && ! out_has "terraform.destroy"'
eg log -n 1 --json
t "log -n 1 prints the last record" eval 'rc_is 0 && [ "$(wc -l < "$T/out")" -eq 1 ] && out_has "postgres.dropdb"'
eg log --since 1h
t "log --since 1h: none of these old records" eval 'rc_is 0 && [ ! -s "$T/out" ]'
eg log --since yesterday
t "log --since with an unreadable time exits 64" eval 'rc_is 64 && err_has "since"'
eg log extra
t "log with an extra argument exits 64" rc_is 64
# A refusal by the library shows up in the log (fake terraform, no terminal).
printf '#!/bin/sh\necho ran >> "%s/ran"\n' "$T" > "$T/bin/terraform"
chmod +x "$T/bin/terraform"
setsid -w "$EG" run -- sh -c 'terraform destroy' </dev/null >/dev/null 2>&1
eg log -n 1
t "a refused command run under the guard is in the log" eval \
	'rc_is 0 && out_has "confirm/no-terminal +terraform.destroy +[0-9a-f]{16} +terraform destroy" && [ ! -e "$T/ran" ]'

echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
