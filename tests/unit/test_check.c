/* The matcher: which rules apply, which one decides, and failing closed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "execguard.h"

static struct eg_ruleset rs;
static struct eg_policy *pol;
static struct eg_check_scratch scratch;
static struct eg_check_result res;

static void load_files(const char *const *texts, const bool *protect, size_t n)
{
	struct eg_diags d = { 0 };
	memset(&rs, 0, sizeof rs);
	for (size_t i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof name, "f%zu.rules", i);
		int rc = eg_ruleset_parse_text(&rs, name, texts[i], strlen(texts[i]),
		    protect ? protect[i] : true, &d);
		for (size_t k = 0; k < d.n; k++)
			fprintf(stderr, "%s:%u:%u: %s\n", d.v[k].file, d.v[k].line, d.v[k].col, d.v[k].msg);
		cr_assert_eq(rc, 0, "rule text %zu must parse", i);
	}
	pol = eg_policy_build(&rs, &d);
	cr_assert_not_null(pol);
	eg_diags_free(&d);
}

static void load(const char *text)
{
	load_files(&text, NULL, 1);
}

static void teardown(void)
{
	eg_policy_free(pol);
	eg_ruleset_free(&rs);
	pol = NULL;
}

static enum eg_action run(unsigned flags, char *const *envp, const char *cwd, const char *exe,
    char *const *argv)
{
	struct eg_check_input in = { .argv = argv, .envp = envp, .exe_path = exe, .cwd = cwd,
		.flags = flags };
	return eg_check(pol, &in, &scratch, &res);
}

#define ARGV(...) ((char *const[]){ __VA_ARGS__, NULL })
#define CHECK(...) run(EG_CHECK_UNWRAP_ALL, NULL, NULL, NULL, ARGV(__VA_ARGS__))

static const char *rule_id(uint32_t r)
{
	struct eg_rule_info ri;
	if (eg_policy_rule_info(pol, r, &ri) < 0)
		return "(none)";
	return ri.id;
}

static const char terraform_rules[] =
    "rule terraform.destroy\n"
    "  program terraform tofu\n"
    "  match (^|\\s)destroy(\\s|$)\n"
    "  unless (^|\\s)(-help|--help|-h)(\\s|$)\n"
    "  action confirm\n"
    "  reason Destroys everything.\n"
    "  example terraform destroy\n"
    "rule dropdb\n"
    "  program dropdb\n"
    "  match ^\n"
    "  action deny\n"
    "  reason Drops a database.\n"
    "  example dropdb x\n";

TestSuite(check, .fini = teardown);

Test(check, confirm_and_none)
{
	load(terraform_rules);
	cr_expect_eq(CHECK("terraform", "destroy"), EG_ACT_CONFIRM);
	cr_expect_str_eq(rule_id(res.rule), "terraform.destroy");
	cr_expect_eq(CHECK("terraform", "-chdir=infra", "destroy", "-auto-approve"), EG_ACT_CONFIRM);
	cr_expect_eq(CHECK("terraform", "plan"), EG_ACT_NONE);
	cr_expect_eq(res.rule, EG_NO_RULE);
	cr_expect_eq(CHECK("terraform", "destroy", "-help"), EG_ACT_NONE, "unless exempts");
	cr_expect_eq(CHECK("tofu", "destroy"), EG_ACT_CONFIRM);
	cr_expect_eq(CHECK("ls", "destroy"), EG_ACT_NONE, "other programs are not tried");
}

Test(check, program_from_path_and_symlink)
{
	load(terraform_rules);
	cr_expect_eq(CHECK("/opt/tf/bin/terraform", "destroy"), EG_ACT_CONFIRM);

	char dir[] = "/tmp/eg-check-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char target[256], link[256];
	snprintf(target, sizeof target, "%s/terraform", dir);
	snprintf(link, sizeof link, "%s/tf", dir);
	FILE *f = fopen(target, "w");
	cr_assert_not_null(f);
	fputs("#!/bin/sh\nexit 0\n", f);
	fclose(f);
	chmod(target, 0755);
	cr_assert_eq(symlink("terraform", link), 0);
	cr_expect_eq(run(0, NULL, NULL, link, ARGV("tf", "destroy")), EG_ACT_CONFIRM,
	    "a symlink named tf -> terraform is judged as terraform");
	cr_expect_eq(run(0, NULL, NULL, link, ARGV("tf", "plan")), EG_ACT_NONE);
	unlink(link);
	unlink(target);
	rmdir(dir);
}

Test(check, strictest_wins_across_commands)
{
	load(terraform_rules);
	cr_expect_eq(CHECK("bash", "-c", "terraform plan; terraform destroy && dropdb prod"), EG_ACT_DENY);
	cr_expect_str_eq(rule_id(res.rule), "dropdb");
	cr_expect(res.unwrapped);
	cr_expect_str_eq(res.cmdline, "dropdb prod");
	cr_expect_eq(CHECK("sudo", "env", "bash", "-c", "terraform -chdir=x destroy"), EG_ACT_CONFIRM);
	cr_expect_str_eq(res.cmdline, "terraform -chdir=x destroy");
}

Test(check, shell_operands_and_here_strings)
{
	load(terraform_rules);
	/* sudo is setuid: what it runs is decided here, operands substituted */
	cr_expect_eq(CHECK("sudo", "sh", "-c", "terraform \"$1\"", "_", "destroy"), EG_ACT_CONFIRM);
	cr_expect_str_eq(res.cmdline, "terraform destroy");
	cr_expect_eq(CHECK("sudo", "sh", "-c", "terraform \"$1\"", "_", "plan"), EG_ACT_NONE);
	cr_expect_eq(CHECK("bash", "-c", "dropdb \"$@\"", "sh", "prod"), EG_ACT_DENY);
	cr_expect_eq(CHECK("sh", "-c", "$0 destroy", "terraform"), EG_ACT_CONFIRM);
	/* a here-string is the script of a shell or remote runner reading stdin */
	cr_expect_eq(CHECK("bash", "-c", "ssh host <<< 'dropdb prod'"), EG_ACT_DENY);
	cr_expect_eq(CHECK("bash", "-c", "docker exec -i ctr sh <<< 'terraform destroy'"),
	    EG_ACT_CONFIRM);
	cr_expect_eq(CHECK("bash", "-c", "cat <<< 'dropdb prod'"), EG_ACT_NONE);
}

Test(check, hook_mode_leaves_dynamic_shells_to_the_next_exec)
{
	load(terraform_rules);
	cr_expect_eq(run(0, NULL, NULL, "/bin/bash", ARGV("bash", "-c", "terraform destroy")),
	    EG_ACT_NONE, "bash loads the library and will ask when it execs terraform");
	cr_expect_eq(run(0, NULL, NULL, "/usr/bin/ssh", ARGV("ssh", "host", "terraform", "destroy")),
	    EG_ACT_CONFIRM, "the remote side is not ours: decided here");
}

Test(check, sees_every_exec_mode_unwraps_only_remote_runners)
{
	load(terraform_rules);
	/* /sbin/ldconfig is a static binary on Debian: called "timeout", the
	 * hook mode unwraps it (the library will not see its exec) ... */
	struct stat st;
	if (stat("/sbin/ldconfig", &st) == 0) {
		cr_expect_eq(run(0, NULL, NULL, "/sbin/ldconfig", ARGV("timeout", "5", "terraform", "destroy")),
		    EG_ACT_CONFIRM, "hook mode: a static wrapper is decided at its own exec");
		/* ... while strict mode's supervisor sees the inner exec as well,
		 * so deciding here too would ask twice */
		cr_expect_eq(run(EG_CHECK_SEES_EVERY_EXEC, NULL, NULL, "/sbin/ldconfig",
		    ARGV("timeout", "5", "terraform", "destroy")), EG_ACT_NONE);
	}
	cr_expect_eq(run(EG_CHECK_SEES_EVERY_EXEC, NULL, NULL, "/usr/bin/ssh",
	    ARGV("ssh", "host", "terraform", "destroy")), EG_ACT_CONFIRM, "the remote side is not ours");
	cr_expect_eq(run(EG_CHECK_SEES_EVERY_EXEC, NULL, NULL, "/usr/bin/ssh",
	    ARGV("ssh", "host", "sudo", "terraform", "destroy")), EG_ACT_CONFIRM,
	    "below a remote runner everything is unwrapped");
	cr_expect_eq(run(EG_CHECK_SEES_EVERY_EXEC, NULL, NULL, "/bin/bash",
	    ARGV("bash", "-c", "terraform destroy")), EG_ACT_NONE);
	cr_expect_eq(run(EG_CHECK_SEES_EVERY_EXEC, NULL, NULL, "/opt/terraform",
	    ARGV("terraform", "destroy")), EG_ACT_CONFIRM);
}

Test(check, deny_beats_confirm_in_one_command)
{
	load("rule a\n program git\n match push\n action confirm\n reason r\n example git push\n"
	     "rule b\n program git\n match --force\n action deny\n reason r\n example git push --force\n"
	     "rule c\n program git\n match push\n action log\n reason r\n example git push\n");
	cr_expect_eq(CHECK("git", "push", "--force"), EG_ACT_DENY);
	cr_expect_str_eq(rule_id(res.rule), "b");
	cr_expect_eq(CHECK("git", "push"), EG_ACT_CONFIRM);
	cr_expect_str_eq(rule_id(res.rule), "a");
}

Test(check, log_only)
{
	load("rule l\n program git\n match push\n action log\n reason r\n example git push\n");
	cr_expect_eq(CHECK("git", "push"), EG_ACT_LOG);
	cr_expect_str_eq(rule_id(res.rule), "l");
}

Test(check, allow_exempts_same_or_earlier_file)
{
	const char *texts[] = {
		"rule rm.rf\n program rm\n match -rf\n action confirm\n reason r\n example rm -rf x\n",
		"rule rm.build\n program rm\n match -rf \\./build$\n action allow\n reason r\n example rm -rf ./build\n",
	};
	load_files(texts, NULL, 2);
	cr_expect_eq(CHECK("rm", "-rf", "./build"), EG_ACT_ALLOW);
	cr_expect_str_eq(rule_id(res.allow_rule), "rm.build");
	cr_expect_eq(CHECK("rm", "-rf", "/"), EG_ACT_CONFIRM);
	teardown();

	const char *reversed[] = { texts[1], texts[0] };
	load_files(reversed, NULL, 2);
	cr_expect_eq(CHECK("rm", "-rf", "./build"), EG_ACT_CONFIRM,
	    "an allow from an earlier file does not exempt a later rule");
}

Test(check, writable_allow_cannot_weaken_protected_rule)
{
	const char *texts[] = {
		"rule rm.rf\n program rm\n match -rf\n action confirm\n reason r\n example rm -rf x\n",
		"rule mine\n program rm\n match -rf\n action allow\n reason r\n example rm -rf x\n",
	};
	bool protect[] = { true, false };
	load_files(texts, protect, 2);
	cr_expect_eq(CHECK("rm", "-rf", "x"), EG_ACT_CONFIRM);
	teardown();
	bool both_writable[] = { false, false };
	load_files(texts, both_writable, 2);
	cr_expect_eq(CHECK("rm", "-rf", "x"), EG_ACT_ALLOW);
}

Test(check, env_conditions)
{
	load("rule s3.rm\n program aws\n match s3 rm\n env AWS_PROFILE ^prod\n action confirm\n"
	     " reason r\n example AWS_PROFILE=prod aws s3 rm s3://b/k\n");
	char *prod[] = { "AWS_PROFILE=production", "HOME=/root", NULL };
	char *dev[] = { "AWS_PROFILE=dev", NULL };
	cr_expect_eq(run(0, prod, NULL, NULL, ARGV("aws", "s3", "rm", "s3://b/k")), EG_ACT_CONFIRM);
	cr_expect_eq(run(0, dev, NULL, NULL, ARGV("aws", "s3", "rm", "s3://b/k")), EG_ACT_NONE);
	cr_expect_eq(run(0, NULL, NULL, NULL, ARGV("aws", "s3", "rm", "s3://b/k")), EG_ACT_NONE);
	cr_expect_eq(run(EG_CHECK_UNWRAP_ALL, dev, NULL, NULL,
	    ARGV("env", "AWS_PROFILE=prod", "aws", "s3", "rm", "s3://b/k")), EG_ACT_CONFIRM,
	    "env VAR=val sets it for the wrapped command");
	cr_expect_eq(run(EG_CHECK_UNWRAP_ALL, prod, NULL, NULL,
	    ARGV("env", "-i", "aws", "s3", "rm", "s3://b/k")), EG_ACT_NONE, "env -i clears it");
	cr_expect_eq(run(EG_CHECK_UNWRAP_ALL, dev, NULL, NULL,
	    ARGV("bash", "-c", "AWS_PROFILE=prod aws s3 rm s3://b/k")), EG_ACT_CONFIRM);
}

Test(check, cwd_conditions)
{
	load("rule tf.prod\n program terraform\n match apply\n cwd ^/srv/prod(/|$)\n action confirm\n"
	     " reason r\n example terraform apply\n");
	cr_expect_eq(run(0, NULL, "/srv/prod/net", NULL, ARGV("terraform", "apply")), EG_ACT_CONFIRM);
	cr_expect_eq(run(0, NULL, "/srv/staging", NULL, ARGV("terraform", "apply")), EG_ACT_NONE);
	cr_expect_eq(run(0, NULL, NULL, NULL, ARGV("terraform", "apply")), EG_ACT_CONFIRM,
	    "unknown cwd: the condition holds (fail closed)");
}

/* EG_CHECK_CWD_LAZY (the hooks): the working directory is read only when a
 * rule with a cwd condition is tried, and then decides as if given. */
Test(check, cwd_read_when_needed)
{
	load("rule tf.prod\n program terraform\n match apply\n cwd /prod$\n action confirm\n"
	     " reason r\n example terraform apply\n");
	char dir[] = "/tmp/eg-cwd-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char prod[sizeof dir + 8], here[4096];
	snprintf(prod, sizeof prod, "%s/prod", dir);
	cr_assert_eq(mkdir(prod, 0700), 0);
	cr_assert_not_null(getcwd(here, sizeof here));

	cr_assert_eq(chdir(prod), 0);
	errno = 1234;
	cr_expect_eq(run(EG_CHECK_CWD_LAZY, NULL, NULL, NULL, ARGV("terraform", "apply")), EG_ACT_CONFIRM,
	    "read in a prod directory: the condition holds");
	cr_expect_eq(errno, 1234, "errno kept");
	cr_expect_eq(run(EG_CHECK_CWD_LAZY, NULL, "/srv/staging", NULL, ARGV("terraform", "apply")),
	    EG_ACT_NONE, "a cwd given is used, not the process's");
	cr_assert_eq(chdir(dir), 0);
	cr_expect_eq(run(EG_CHECK_CWD_LAZY, NULL, NULL, NULL, ARGV("terraform", "apply")), EG_ACT_NONE,
	    "read elsewhere: the condition does not hold");
	cr_assert_eq(chdir(here), 0);
	rmdir(prod);
	rmdir(dir);
}

Test(check, critical_rule_word)
{
	load("rule rds\n program aws\n match delete-db-instance\\s.*--db-instance-identifier[=\\s](?<target>\\S+)\n"
	     " action confirm\n severity critical\n reason r\n"
	     " example aws rds delete-db-instance --db-instance-identifier x\n"
	     "rule dropdb\n program dropdb\n match .\n action confirm\n severity critical\n reason r\n example dropdb x\n");
	cr_expect_eq(CHECK("aws", "--region", "eu-west-1", "rds", "delete-db-instance",
	    "--db-instance-identifier", "prod-database"), EG_ACT_CONFIRM);
	cr_expect_eq(res.severity, EG_SEV_CRITICAL);
	cr_expect_str_eq(res.confirm_word, "prod-database");
	cr_expect_eq(CHECK("aws", "rds", "delete-db-instance", "--db-instance-identifier=db2"),
	    EG_ACT_CONFIRM);
	cr_expect_str_eq(res.confirm_word, "db2");
	cr_expect_eq(CHECK("dropdb", "x"), EG_ACT_CONFIRM);
	cr_expect_str_eq(res.confirm_word, "dropdb", "no target group: the program name");
}

Test(check, regex_error_fails_closed)
{
	load("rule slow\n program grep\n match ^(a+)+$\n action log\n reason r\n example grep a\n");
	char arg[64];
	memset(arg, 'a', 40);
	strcpy(arg + 40, "b");
	cr_expect_eq(CHECK("grep", arg), EG_ACT_DENY, "a match limit error refuses");
	cr_expect_eq(res.fail, EG_FAIL_REGEX);
	cr_expect_eq(CHECK("grep", "aaa"), EG_ACT_LOG);
}

Test(check, uncompilable_pattern_fails_closed)
{
	/* parse_text does not compile; lint would have caught this. */
	load("rule bad\n program terraform\n match destroy(\n action confirm\n reason r\n example terraform destroy\n"
	     "rule badallow\n program ls\n match (\n action allow\n reason r\n example ls\n");
	cr_expect_eq(CHECK("terraform", "plan"), EG_ACT_DENY);
	cr_expect_eq(res.fail, EG_FAIL_REGEX);
	cr_expect_eq(CHECK("ls"), EG_ACT_NONE, "a broken allow exempts nothing and decides nothing");
}

Test(check, argc_zero_and_null)
{
	load(terraform_rules);
	cr_expect_eq(run(0, NULL, NULL, NULL, NULL), EG_ACT_NONE);
	char *empty[] = { NULL };
	cr_expect_eq(run(0, NULL, NULL, "/usr/bin/dropdb", empty), EG_ACT_DENY,
	    "argc 0: judged by the executable");
	cr_expect_eq(eg_check(NULL, &(struct eg_check_input){ .argv = ARGV("ls") }, &scratch, &res),
	    EG_ACT_DENY);
	cr_expect_eq(res.fail, EG_FAIL_NO_POLICY);
}

Test(check, errno_preserved)
{
	load(terraform_rules);
	errno = ENOTTY;
	CHECK("terraform", "destroy");
	cr_expect_eq(errno, ENOTTY);
	errno = EDOM;
	CHECK("ls", "-l");
	cr_expect_eq(errno, EDOM);
}

Test(check, huge_inputs)
{
	load(terraform_rules);
	enum { N = 20000 };
	char **argv = calloc(N + 2, sizeof *argv);
	argv[0] = "cc";
	for (int i = 1; i < N; i++)
		argv[i] = "file.o";
	argv[N] = NULL;
	cr_expect_eq(run(0, NULL, NULL, NULL, argv), EG_ACT_NONE,
	    "a program no rule names is never refused for its size");
	argv[0] = "terraform";
	argv[N - 1] = "destroy";
	enum eg_action a = run(0, NULL, NULL, NULL, argv);
	cr_expect(a == EG_ACT_CONFIRM || a == EG_ACT_DENY, "never a silent allow");
	free(argv);

	size_t big = 1u << 20;
	char *arg = malloc(big + 1);
	memset(arg, 'x', big);
	arg[big] = '\0';
	cr_expect_eq(run(0, NULL, NULL, NULL, ARGV("terraform", arg, "destroy")), EG_ACT_CONFIRM,
	    "a megabyte argument is still matched");
	cr_expect_eq(run(0, NULL, NULL, NULL, ARGV("terraform", arg)), EG_ACT_NONE);
	free(arg);
}

Test(check, non_utf8_arguments)
{
	load(terraform_rules);
	cr_expect_eq(CHECK("terraform", "\xff\xfe", "destroy"), EG_ACT_CONFIRM);
	cr_expect_eq(CHECK("terraform", "\xff\xfe"), EG_ACT_NONE);
}

Test(check, may_apply_prefilter)
{
	load(terraform_rules);
	cr_expect(eg_check_may_apply(pol, "terraform", NULL));
	cr_expect(eg_check_may_apply(pol, "x", "/usr/bin/dropdb"));
	cr_expect(eg_check_may_apply(pol, "sudo", NULL), "wrappers may hide a command");
	cr_expect_not(eg_check_may_apply(pol, "ls", "/bin/ls"));
}

Test(check, big_shell_string_in_hook_mode_is_left_to_the_shell)
{
	load(terraform_rules);
	size_t big = 200u * 1024u;
	char *script = malloc(big + 1);
	for (size_t i = 0; i < big; i++)
		script[i] = (i % 64 == 63) ? '\n' : 'x';
	script[big] = '\0';
	cr_expect_eq(run(0, NULL, NULL, "/bin/bash", ARGV("bash", "-c", script)), EG_ACT_NONE,
	    "a dynamic shell will be guarded itself: its script is not parsed here");
	cr_expect_eq(run(EG_CHECK_UNWRAP_ALL, NULL, NULL, NULL, ARGV("bash", "-c", script)), EG_ACT_DENY,
	    "execguard check cannot read it whole: refused, never allowed");
	cr_expect_eq(res.fail, EG_FAIL_TOO_BIG);
	free(script);
}
