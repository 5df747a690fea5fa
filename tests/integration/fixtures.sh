# Set-up shared by the shell integration tests; sourced, defines functions
# only.

# eg_fake_tools DIR LOG TOOL...: DIR/TOOL for each TOOL, a script that does
# nothing but append "FAKE TOOL ARGS..." to LOG. The only "destructive"
# programs a test runs: DIR goes first in PATH (or the fake is run by its
# path), so that a real terraform or dropdb on the machine is never reached.
# Mode 755: some tests run the fakes as another user.
eg_fake_tools() {
	_eg_dir=$1 _eg_log=$2
	shift 2
	for _eg_tool in "$@"; do
		printf '#!/bin/sh\necho "FAKE %s $*" >> "%s"\n' "$_eg_tool" "$_eg_log" > "$_eg_dir/$_eg_tool"
		chmod 755 "$_eg_dir/$_eg_tool"
	done
}

# eg_terraform_rule PROGRAMS: the test rule most tests guard with, on
# stdout: `destroy` for PROGRAMS (e.g. "terraform tofu") asks the human.
eg_terraform_rule() {
	printf 'rule test.terraform-destroy\n  program   %s\n' "$1"
	cat <<'RULE'
  match     (^|\s)destroy(\s|$)
  action    confirm
  reason    Test rule: destroys every resource.
  example   terraform destroy
  safe      terraform plan
RULE
}
