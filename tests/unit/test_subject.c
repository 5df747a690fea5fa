/*
 * Subject building: wrappers with their options, shells, remote runners,
 * hook mode vs unwrap-all, shell splitting, limits, eg_quote_argv.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "execguard.h"
#include "exe_probe.h"
#include "subject.h"

static struct eg_subject S;

#define ARGV(...) ((char *const[]){ __VA_ARGS__, NULL })
#define ALL EG_SUBJ_UNWRAP_ALL

static char joined[1 << 16];

/* Words of command i joined by single spaces. */
static const char *cmd_str(int i)
{
	const struct eg_cmd *c = &S.cmds[i];
	size_t o = 0;
	joined[0] = '\0';
	for (uint32_t j = 0; j < c->n_words; j++) {
		const char *w = S.words[c->first_word + j];
		size_t l = strlen(w);
		if (o + l + 2 >= sizeof joined)
			break;
		if (j)
			joined[o++] = ' ';
		memcpy(joined + o, w, l);
		o += l;
		joined[o] = '\0';
	}
	return joined;
}

static char dumpbuf[1 << 16];

static const char *dump(void)
{
	size_t o = 0;
	o += (size_t)snprintf(dumpbuf + o, sizeof dumpbuf - o, "%u cmds%s:", S.n_cmds,
	    S.overflow ? " (overflow)" : "");
	for (uint32_t i = 0; i < S.n_cmds && o < sizeof dumpbuf - 200; i++) {
		const struct eg_cmd *c = &S.cmds[i];
		o += (size_t)snprintf(dumpbuf + o, sizeof dumpbuf - o, "\n  [%u] p=%d via=%d d=%d %s%s{",
		    i, c->parent, c->via, c->depth, c->remote ? "R " : "", c->env_cleared ? "C " : "");
		for (uint32_t j = 0; j < c->n_assign; j++)
			o += (size_t)snprintf(dumpbuf + o, sizeof dumpbuf - o, "%s ",
			    S.words[c->first_assign + j]);
		o += (size_t)snprintf(dumpbuf + o, sizeof dumpbuf - o, "} <%.200s>", cmd_str((int)i));
	}
	return dumpbuf;
}

static int find(const char *want)
{
	for (uint32_t i = 0; i < S.n_cmds; i++)
		if (strcmp(cmd_str((int)i), want) == 0)
			return (int)i;
	return -1;
}

static int has(const char *want)
{
	int i = find(want);
	cr_assert(i >= 0, "no command <%s> in %s", want, dump());
	return i;
}

static void hasnt(const char *want)
{
	cr_assert(find(want) < 0, "unexpected command <%s> in %s", want, dump());
}

static void build(char *const argv[], const char *exe, unsigned flags)
{
	int r = eg_subject_build(&S, argv, exe, flags);
	cr_assert_eq(r, 0, "build failed: %s", dump());
	cr_assert(!S.overflow);
}

static void shell(const char *str)
{
	S.n_cmds = S.n_words = S.text_used = 0;
	S.overflow = false;
	int r = eg_subject_add_shell(&S, str, strlen(str), -1, EG_VIA_SHELL, ALL);
	cr_assert_eq(r, 0, "split failed: %s", dump());
}

static void ncmds(uint32_t n)
{
	cr_assert_eq(S.n_cmds, n, "expected %u commands, got %s", n, dump());
}

static bool has_assign(int i, const char *a)
{
	const struct eg_cmd *c = &S.cmds[i];
	for (uint32_t j = 0; j < c->n_assign; j++)
		if (strcmp(S.words[c->first_assign + j], a) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ basics */

Test(basics, argc0)
{
	cr_assert_eq(eg_subject_build(&S, NULL, NULL, ALL), 0);
	cr_assert_eq(S.n_cmds, 0);
	char *empty[] = { NULL };
	cr_assert_eq(eg_subject_build(&S, empty, "/bin/true", ALL), 0);
	cr_assert_eq(S.n_cmds, 0);
	cr_assert_eq(eg_subject_build(&S, empty, NULL, 0), 0);
	cr_assert_eq(S.n_cmds, 0);
}

Test(basics, top_command_points_into_argv)
{
	char *const *argv = ARGV("/opt/tf/bin/tf", "-chdir=x", "destroy");
	build(argv, "/opt/tf/bin/terraform", ALL);
	ncmds(1);
	cr_assert_eq(S.words[0], argv[0]);
	cr_assert_eq(S.words[2], argv[2]);
	cr_assert_str_eq(S.cmds[0].prog, "tf");
	cr_assert_str_eq(S.cmds[0].prog_exe, "terraform");
	cr_assert_eq(S.cmds[0].parent, -1);
	cr_assert_eq(S.cmds[0].via, EG_VIA_TOP);
	build(ARGV("terraform", "destroy"), "/usr/bin/terraform", ALL);
	cr_assert_null(S.cmds[0].prog_exe);
	build(ARGV("terraform"), NULL, ALL);
	cr_assert_null(S.cmds[0].prog_exe);
	cr_assert_str_eq(S.cmds[0].prog, "terraform");
}

Test(basics, basename)
{
	cr_assert_str_eq(eg_basename("/usr/bin/sudo"), "sudo");
	cr_assert_str_eq(eg_basename("sudo"), "sudo");
	cr_assert_str_eq(eg_basename("./x/y"), "y");
	cr_assert_str_eq(eg_basename("/"), "");
	cr_assert_str_eq(eg_basename(""), "");
}

Test(basics, is_wrapper)
{
	const char *yes[] = { "sudo", "doas", "su", "pkexec", "run0", "env", "nice", "ionice", "nohup",
		"timeout", "time", "stdbuf", "chrt", "taskset", "setsid", "flock", "xargs", "watch",
		"busybox", "command", "exec", "eval", "execguard", "find", "sh", "bash", "dash", "zsh",
		"ksh", "mksh", "ash", "fish", "ssh", "docker", "podman", "kubectl", "-bash" };
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		cr_assert(eg_subject_is_wrapper(yes[i]), "%s", yes[i]);
	cr_assert(!eg_subject_is_wrapper("terraform"));
	cr_assert(!eg_subject_is_wrapper("ls"));
	cr_assert(!eg_subject_is_wrapper(""));
	cr_assert(!eg_subject_is_wrapper("-sudo"));
}

Test(basics, login_shell_name)
{
	build(ARGV("-bash", "-c", "dropdb x"), NULL, ALL);
	cr_assert_str_eq(S.cmds[0].prog, "bash");
	has("dropdb x");
}

Test(basics, errno_preserved)
{
	errno = 4242;
	build(ARGV("sudo", "bash", "-c", "dropdb x; echo $(rm -rf /)"), "/nonexistent/sudo", 0);
	cr_assert_eq(errno, 4242);
	errno = 77;
	build(ARGV("sudo", "dropdb"), "/bin/true", 0);
	cr_assert_eq(errno, 77);
}

/* ------------------------------------------------------------------ privilege wrappers */

Test(sudo, options)
{
	build(ARGV("sudo", "-u", "root", "terraform", "destroy"), NULL, ALL);
	ncmds(2);
	has("terraform destroy");
	cr_assert_eq(S.cmds[1].parent, 0);
	cr_assert_eq(S.cmds[1].via, EG_VIA_WRAPPER);
	cr_assert_eq(S.cmds[1].depth, 1);
	cr_assert_str_eq(S.cmds[1].prog, "terraform");

	build(ARGV("sudo", "-uroot", "-g", "wheel", "-h", "host", "-p", "pw:", "-C", "3", "-D", "/tmp",
	    "-r", "role", "-t", "type", "-T", "10", "-U", "bob", "-R", "/chroot", "-nEHPSbk", "--",
	    "/usr/bin/terraform", "destroy"), NULL, ALL);
	has("/usr/bin/terraform destroy");
	cr_assert_str_eq(S.cmds[1].prog, "terraform");

	build(ARGV("sudo", "--user=root", "--group", "g", "--chdir", "/x", "--preserve-env=PATH",
	    "--preserve-env", "--close-from=4", "--prompt", "p", "--non-interactive", "dropdb", "x"),
	    NULL, ALL);
	ncmds(2);
	has("dropdb x");
}

Test(sudo, assignments)
{
	build(ARGV("sudo", "-E", "FOO=1", "BAR=two words", "terraform", "destroy"), NULL, ALL);
	int i = has("terraform destroy");
	cr_assert_eq(S.cmds[i].n_assign, 2);
	cr_assert(has_assign(i, "FOO=1"));
	cr_assert(has_assign(i, "BAR=two words"));
}

Test(sudo, shell_and_login)
{
	build(ARGV("sudo", "-s", "terraform", "destroy"), NULL, ALL);
	int i = has("terraform destroy");
	cr_assert_eq(S.cmds[i].via, EG_VIA_SHELL);
	build(ARGV("sudo", "-i", "dropdb x; rm -rf /"), NULL, ALL);
	i = has("dropdb x");
	has("rm -rf /");
	cr_assert(S.cmds[i].env_cleared);
	build(ARGV("sudo", "--login"), NULL, ALL);
	ncmds(1);
	build(ARGV("sudo", "-s"), NULL, ALL);
	ncmds(1);
}

Test(sudo, no_command)
{
	build(ARGV("sudo", "-l", "terraform", "destroy"), NULL, ALL);
	ncmds(1);
	build(ARGV("sudo", "-e", "/etc/passwd"), NULL, ALL);
	ncmds(1);
	build(ARGV("sudoedit", "/etc/passwd"), NULL, ALL);
	ncmds(1);
	build(ARGV("sudo", "-v"), NULL, ALL);
	ncmds(1);
	build(ARGV("sudo", "-h"), NULL, ALL);
	ncmds(1);
	build(ARGV("sudo"), NULL, ALL);
	ncmds(1);
}

Test(doas, options)
{
	build(ARGV("doas", "-u", "root", "-n", "terraform", "destroy"), NULL, ALL);
	has("terraform destroy");
	build(ARGV("doas", "-nuroot", "--", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("doas", "-C", "/etc/doas.conf", "dropdb"), NULL, ALL);
	ncmds(1);
	build(ARGV("doas", "-s"), NULL, ALL);
	ncmds(1);
	build(ARGV("doas", "-L"), NULL, ALL);
	ncmds(1);
}

Test(su, command)
{
	build(ARGV("su", "-c", "terraform destroy", "root"), NULL, ALL);
	int i = has("terraform destroy");
	cr_assert_eq(S.cmds[i].via, EG_VIA_SHELL);
	build(ARGV("su", "-", "postgres", "-c", "dropdb prod"), NULL, ALL);
	i = has("dropdb prod");
	cr_assert(S.cmds[i].env_cleared);
	build(ARGV("su", "--command=dropdb x && echo", "postgres"), NULL, ALL);
	has("dropdb x");
	has("echo");
	build(ARGV("su", "-l", "--command", "dropdb y", "postgres"), NULL, ALL);
	has("dropdb y");
	build(ARGV("su", "-s", "/bin/bash", "-cdropdb z"), NULL, ALL);
	has("dropdb z");
	build(ARGV("su", "-"), NULL, ALL);
	ncmds(1);
	build(ARGV("su", "root"), NULL, ALL);
	ncmds(1);
	build(ARGV("runuser", "-u", "postgres", "--", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
}

Test(pkexec, options)
{
	build(ARGV("pkexec", "--user", "root", "--disable-internal-agent", "--keep-cwd", "dropdb", "x"),
	    NULL, ALL);
	ncmds(2);
	has("dropdb x");
	build(ARGV("pkexec", "--user=root", "dropdb"), NULL, ALL);
	has("dropdb");
	build(ARGV("pkexec"), NULL, ALL);
	ncmds(1);
}

Test(run0, options)
{
	build(ARGV("run0", "-u", "postgres", "--setenv=PGHOST=prod", "--setenv", "X=1", "--unit", "u",
	    "--property=CPUQuota=5%", "--nice", "5", "--slice", "s", "-D", "/tmp", "--chdir=/x",
	    "--description", "d", "dropdb", "x"), NULL, ALL);
	int i = has("dropdb x");
	cr_assert(has_assign(i, "PGHOST=prod"));
	cr_assert(has_assign(i, "X=1"));
	/* the service manager starts the child: unwrapped in hook mode too */
	build(ARGV("run0", "dropdb", "x"), "/usr/bin/run0", 0);
	has("dropdb x");
	build(ARGV("systemd-run", "--unit=x", "-p", "A=B", "-E", "K=V", "--user", "--wait",
	    "dropdb", "x"), NULL, 0);
	i = has("dropdb x");
	cr_assert(has_assign(i, "K=V"));
}

/* ------------------------------------------------------------------ env */

Test(env, assignments_and_clear)
{
	build(ARGV("env", "-i", "A=1", "B=2", "terraform", "destroy"), NULL, ALL);
	ncmds(2);
	int i = has("terraform destroy");
	cr_assert(S.cmds[i].env_cleared);
	cr_assert_eq(S.cmds[i].n_assign, 2);
	cr_assert(has_assign(i, "A=1"));
	build(ARGV("env", "-", "terraform", "destroy"), NULL, ALL);
	i = has("terraform destroy");
	cr_assert(S.cmds[i].env_cleared);
	build(ARGV("env", "--ignore-environment", "dropdb"), NULL, ALL);
	cr_assert(S.cmds[has("dropdb")].env_cleared);
	build(ARGV("env", "A=1", "dropdb"), NULL, ALL);
	cr_assert(!S.cmds[has("dropdb")].env_cleared);
}

Test(env, options)
{
	build(ARGV("env", "-u", "X", "-uY", "--unset=Z", "--unset", "W", "-C", "/tmp", "--chdir=/x",
	    "-0", "-v", "--ignore-signal=INT", "--default-signal", "--block-signal=HUP", "--debug",
	    "--", "dropdb", "x"), NULL, ALL);
	ncmds(2);
	has("dropdb x");
	build(ARGV("env"), NULL, ALL);
	ncmds(1);
	build(ARGV("env", "A=1"), NULL, ALL);
	ncmds(1);
}

Test(env, split_string)
{
	build(ARGV("env", "-S", "terraform -chdir=x destroy", "extra"), NULL, ALL);
	int i = has("terraform -chdir=x destroy extra");
	cr_assert_str_eq(S.cmds[i].prog, "terraform");
	build(ARGV("env", "-S", "-i A=1 'dropdb' \"my db\"", "x"), NULL, ALL);
	i = has("dropdb my db x");
	cr_assert(has_assign(i, "A=1"));
	cr_assert(S.cmds[i].env_cleared);
	/* the shebang form: one word "-S bash -e" */
	build(ARGV("/usr/bin/env", "-S bash -c 'dropdb x'", "script"), NULL, ALL);
	has("dropdb x");
	build(ARGV("env", "--split-string=dropdb\\_a b", "c"), NULL, ALL);
	has("dropdb a b c");
	build(ARGV("env", "--split-string", "dropdb q # comment", "c"), NULL, ALL);
	has("dropdb q c");
}

/* ------------------------------------------------------------------ small wrappers */

Test(wrappers, nice)
{
	const char *const cases[][8] = {
		{ "nice", "-n", "5", "dropdb", "x" }, { "nice", "-n5", "dropdb", "x" },
		{ "nice", "-10", "dropdb", "x" }, { "nice", "--10", "dropdb", "x" },
		{ "nice", "--adjustment=3", "dropdb", "x" }, { "nice", "--adjustment", "3", "dropdb", "x" },
		{ "nice", "dropdb", "x" }, { "nice", "--", "dropdb", "x" },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		build((char *const *)cases[k], NULL, ALL);
		has("dropdb x");
		ncmds(2);
	}
	build(ARGV("nice"), NULL, ALL);
	ncmds(1);
}

Test(wrappers, ionice)
{
	build(ARGV("ionice", "-c", "3", "-n", "7", "-t", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("ionice", "-c2", "--classdata=4", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("ionice", "-p", "123"), NULL, ALL);
	ncmds(1);
	build(ARGV("ionice", "-c", "3", "-p", "123", "456"), NULL, ALL);
	ncmds(1);
}

Test(wrappers, nohup_setsid_stdbuf)
{
	build(ARGV("nohup", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("setsid", "-f", "-w", "-c", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("stdbuf", "-oL", "-e", "0", "--input=0", "--output", "L", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	ncmds(2);
}

Test(wrappers, timeout)
{
	build(ARGV("timeout", "-s", "KILL", "-k", "5", "--preserve-status", "--foreground", "-v",
	    "10", "dropdb", "x"), NULL, ALL);
	ncmds(2);
	has("dropdb x");
	build(ARGV("timeout", "--signal=TERM", "--kill-after=1s", "5s", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("timeout", "-sKILL", "5", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("timeout", "5"), NULL, ALL);
	ncmds(1);
}

Test(wrappers, time)
{
	build(ARGV("time", "-p", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("time", "-f", "%e", "-o", "out", "-a", "-v", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	ncmds(2);
	build(ARGV("/usr/bin/time", "--format=%e", "--output", "o", "--", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
}

Test(wrappers, chrt)
{
	build(ARGV("chrt", "-f", "10", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("chrt", "-o", "0", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("chrt", "-d", "-T", "1", "-P", "2", "-D", "3", "-R", "0", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("chrt", "--batch", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("chrt", "-p", "10", "123"), NULL, ALL);
	ncmds(1);
	build(ARGV("chrt", "-m"), NULL, ALL);
	ncmds(1);
}

Test(wrappers, taskset)
{
	build(ARGV("taskset", "-c", "0-3", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	ncmds(2);
	build(ARGV("taskset", "0x3", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("taskset", "-a", "--cpu-list", "1", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("taskset", "-p", "0x3", "123"), NULL, ALL);
	ncmds(1);
}

Test(wrappers, flock)
{
	build(ARGV("flock", "/tmp/l", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("flock", "-w", "5", "-E", "3", "-x", "-n", "-o", "/tmp/l", "-c", "dropdb x; ls"),
	    NULL, ALL);
	has("dropdb x");
	has("ls");
	build(ARGV("flock", "--timeout=5", "--verbose", "-s", "/tmp/l", "--command", "dropdb y"), NULL,
	    ALL);
	has("dropdb y");
	build(ARGV("flock", "9"), NULL, ALL);
	ncmds(1);
	build(ARGV("flock", "-u", "9"), NULL, ALL);
	ncmds(1);
}

Test(wrappers, xargs)
{
	build(ARGV("xargs", "-0", "-n", "1", "-P", "4", "-I{}", "dropdb", "{}"), NULL, ALL);
	has("dropdb {}");
	build(ARGV("xargs", "-a", "f", "-d", "\\n", "-L", "1", "-r", "-t", "-x", "rm", "-rf"), NULL,
	    ALL);
	has("rm -rf");
	build(ARGV("xargs", "-i", "dropdb", "{}"), NULL, ALL);
	has("dropdb {}");
	build(ARGV("xargs", "-e", "-l", "-E", "EOF", "-s", "100", "dropdb"), NULL, ALL);
	has("dropdb");
	build(ARGV("xargs", "--max-args=1", "--process-slot-var", "V", "--null", "--", "dropdb"),
	    NULL, ALL);
	has("dropdb");
	build(ARGV("xargs", "-0"), NULL, ALL);
	ncmds(2);
	has("echo");
}

Test(wrappers, watch)
{
	build(ARGV("watch", "-n", "5", "-d", "-t", "-b", "-e", "-g", "-c", "dropdb x; echo hi"), NULL,
	    ALL);
	int i = has("dropdb x");
	cr_assert_eq(S.cmds[i].via, EG_VIA_SHELL);
	has("echo hi");
	build(ARGV("watch", "-n1", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("watch", "-x", "dropdb", "a;b"), NULL, ALL);
	i = has("dropdb a;b");
	cr_assert_eq(S.cmds[i].via, EG_VIA_WRAPPER);
	build(ARGV("watch", "--interval=2", "--exec", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
}

Test(wrappers, busybox)
{
	build(ARGV("busybox", "rm", "-rf", "/"), NULL, ALL);
	has("rm -rf /");
	build(ARGV("busybox", "sh", "-c", "dropdb x"), NULL, ALL);
	has("sh -c dropdb x");
	has("dropdb x");
	build(ARGV("busybox", "--list"), NULL, ALL);
	ncmds(1);
}

Test(wrappers, command_exec_eval)
{
	build(ARGV("command", "-p", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("command", "-v", "dropdb"), NULL, ALL);
	ncmds(1);
	build(ARGV("command", "-V", "dropdb"), NULL, ALL);
	ncmds(1);
	build(ARGV("exec", "-c", "-l", "-a", "name", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	shell("trap 'rm -rf /tmp/x' EXIT; trap - EXIT; trap -p");
	has("rm -rf /tmp/x");
	ncmds(4);
	shell("eval 'dropdb x' '&&' rm -rf /");
	has("dropdb x");
	has("rm -rf /");
}

Test(wrappers, execguard_run)
{
	build(ARGV("execguard", "run", "--", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("execguard", "run", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("execguard", "check", "--", "dropdb", "x"), NULL, ALL);
	ncmds(1);
}

Test(wrappers, find_exec)
{
	build(ARGV("find", ".", "-name", "*.db", "-exec", "rm", "-rf", "{}", ";", "-execdir", "dropdb",
	    "{}", "+", "-ok", "shred", "{}", ";"), NULL, ALL);
	ncmds(4);
	has("rm -rf {}");
	has("dropdb {}");
	has("shred {}");
	build(ARGV("find", ".", "-exec", "echo", "+", "x", "{}", "+"), NULL, ALL);
	has("echo + x {}");
}

/* ------------------------------------------------------------------ shells */

Test(shells, dash_c)
{
	const char *shells[] = { "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "/bin/bash" };
	for (size_t k = 0; k < sizeof shells / sizeof shells[0]; k++) {
		build(ARGV((char *)shells[k], "-c", "terraform destroy"), NULL, ALL);
		ncmds(2);
		int i = has("terraform destroy");
		cr_assert_eq(S.cmds[i].via, EG_VIA_SHELL);
		cr_assert_eq(S.cmds[i].parent, 0);
	}
}

Test(shells, combined_options)
{
	build(ARGV("bash", "-lc", "dropdb x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("sh", "-ec", "dropdb x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("bash", "-e", "-o", "pipefail", "-c", "dropdb x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("bash", "--norc", "--noprofile", "-xc", "dropdb x", "name", "arg1", "arg2"), NULL,
	    ALL);
	ncmds(2);
	has("dropdb x");
	build(ARGV("bash", "-c", "-e", "dropdb x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("zsh", "+o", "nomatch", "-c", "dropdb x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("bash", "script.sh", "-c", "x"), NULL, ALL);
	ncmds(1);
	build(ARGV("bash"), NULL, ALL);
	ncmds(1);
}

Test(shells, fish)
{
	build(ARGV("fish", "-c", "dropdb x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("fish", "--command=dropdb y; and rm -rf /"), NULL, ALL);
	has("dropdb y");
	has("rm -rf /");
	build(ARGV("fish", "-l", "--command", "dropdb z"), NULL, ALL);
	has("dropdb z");
}

Test(shells, nested_sudo_env_bash)
{
	build(ARGV("sudo", "env", "A=1", "bash", "-c", "terraform -chdir=x destroy && echo ok"), NULL,
	    ALL);
	ncmds(5);
	int env = has("env A=1 bash -c terraform -chdir=x destroy && echo ok");
	int bash = has("bash -c terraform -chdir=x destroy && echo ok");
	int tf = has("terraform -chdir=x destroy");
	int ok = has("echo ok");
	cr_assert_eq(S.cmds[env].parent, 0);
	cr_assert_eq(S.cmds[bash].parent, env);
	cr_assert_eq(S.cmds[tf].parent, bash);
	cr_assert_eq(S.cmds[ok].parent, bash);
	cr_assert_eq(S.cmds[tf].via, EG_VIA_SHELL);
	cr_assert_eq(S.cmds[bash].via, EG_VIA_WRAPPER);
	cr_assert_eq(S.cmds[tf].depth, 3);
	cr_assert_str_eq(S.cmds[tf].prog, "terraform");
	cr_assert(has_assign(tf, "A=1"), "%s", dump());
	cr_assert(has_assign(bash, "A=1"));
}

/* ------------------------------------------------------------------ positional parameters */

/* Word j of command i. */
static const char *word(int i, uint32_t j)
{
	cr_assert_lt(j, S.cmds[i].n_words, "%s", dump());
	return S.words[S.cmds[i].first_word + j];
}

Test(positional, sh_c_operands)
{
	/* sudo is setuid: the library never sees what it runs, so $1 must be */
	build(ARGV("sudo", "sh", "-c", "terraform \"$1\"", "_", "destroy"), NULL, ALL);
	int i = has("terraform destroy");
	cr_assert_eq(S.cmds[i].via, EG_VIA_SHELL);
	hasnt("terraform $1");
	build(ARGV("bash", "-c", "dropdb \"$@\"", "sh", "prod"), NULL, ALL);
	has("dropdb prod");
	build(ARGV("sh", "-c", "$0 destroy", "terraform"), NULL, ALL);
	i = has("terraform destroy");
	cr_assert_str_eq(S.cmds[i].prog, "terraform");
	/* no NAME: $0 is the shell */
	build(ARGV("/bin/sh", "-c", "echo $0 $1"), NULL, ALL);
	has("echo /bin/sh");
	build(ARGV("sh", "-c", "terraform ${1} ${2}", "_", "-chdir=x", "destroy"), NULL, ALL);
	has("terraform -chdir=x destroy");
	build(ARGV("sh", "-c", "x ${10} $10 $#", "_", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"),
	    NULL, ALL);
	has("x j a0 10");
	/* substitutions in $(...) and eval see the same parameters */
	build(ARGV("sh", "-c", "echo $(dropdb \"$1\")", "_", "prod"), NULL, ALL);
	has("dropdb prod");
	build(ARGV("sh", "-c", "eval \"terraform \\$1\"", "_", "destroy"), NULL, ALL);
	has("terraform destroy");
	build(ARGV("sh", "-c", "command eval 'terraform $1'", "_", "destroy"), NULL, ALL);
	has("terraform destroy");
	/* a substituted word is never a keyword or an assignment */
	build(ARGV("sh", "-c", "$1 dropdb x", "_", "if"), NULL, ALL);
	has("if dropdb x");
	build(ARGV("sh", "-c", "$1 dropdb x", "_", "A=1"), NULL, ALL);
	i = has("A=1 dropdb x");
	cr_assert_eq(S.cmds[i].n_assign, 0);
}

Test(positional, quoting_and_splitting)
{
	/* unquoted: split on blanks; quoted: one word */
	build(ARGV("sh", "-c", "x $1", "_", " a  b\tc "), NULL, ALL);
	int i = has("x a b c");
	cr_assert_eq(S.cmds[i].n_words, 4);
	build(ARGV("sh", "-c", "x \"$1\"", "_", "a  b"), NULL, ALL);
	i = has("x a  b");
	cr_assert_eq(S.cmds[i].n_words, 2);
	/* field splitting keeps the text around the expansion */
	build(ARGV("sh", "-c", "x pre$1post", "_", "a b"), NULL, ALL);
	i = has("x prea bpost");
	cr_assert_eq(S.cmds[i].n_words, 3);
	build(ARGV("sh", "-c", "x \"\"$1", "_", " a"), NULL, ALL);
	i = find("x  a");
	cr_assert(i >= 0, "%s", dump());
	cr_assert_str_eq(word(i, 1), "");
	/* parameters not given: unquoted they vanish, quoted they are empty */
	build(ARGV("sh", "-c", "terraform $1 $2 destroy", "_"), NULL, ALL);
	i = has("terraform destroy");
	cr_assert_eq(S.cmds[i].n_words, 2);
	build(ARGV("sh", "-c", "x \"$1\" y", "_"), NULL, ALL);
	i = has("x  y");
	cr_assert_eq(S.cmds[i].n_words, 3);
	build(ARGV("sh", "-c", "$1 $2"), NULL, ALL);
	ncmds(1); /* nothing is left of the command */
	/* "$@": every operand a word, none if there are none */
	build(ARGV("sh", "-c", "x \"$@\"", "_", "a", "b c", ""), NULL, ALL);
	i = has("x a b c ");
	cr_assert_eq(S.cmds[i].n_words, 4);
	cr_assert_str_eq(word(i, 2), "b c");
	cr_assert_str_eq(word(i, 3), "");
	build(ARGV("sh", "-c", "x \"$@\" y", "_"), NULL, ALL);
	i = has("x y");
	cr_assert_eq(S.cmds[i].n_words, 2);
	build(ARGV("sh", "-c", "x \"<$@>\"", "_", "a", "b"), NULL, ALL);
	i = has("x <a b>");
	cr_assert_eq(S.cmds[i].n_words, 3);
	cr_assert_str_eq(word(i, 1), "<a");
	/* $* and "$*": joined by a space; unquoted, split again */
	build(ARGV("sh", "-c", "x \"$*\"", "_", "a", "b c"), NULL, ALL);
	i = has("x a b c");
	cr_assert_eq(S.cmds[i].n_words, 2);
	build(ARGV("sh", "-c", "x $* ${@}", "_", "a", "b c"), NULL, ALL);
	i = has("x a b c a b c");
	cr_assert_eq(S.cmds[i].n_words, 7);
	build(ARGV("sh", "-c", "x $# ${#}", "_", "a", "b"), NULL, ALL);
	has("x 2 2");
	/* assignments are not split */
	build(ARGV("sh", "-c", "A=$1 B=\"$@\" dropdb x", "_", "p q", "r"), NULL, ALL);
	i = has("dropdb x");
	cr_assert(has_assign(i, "A=p q"), "%s", dump());
	cr_assert(has_assign(i, "B=p q r"), "%s", dump());
}

Test(positional, default_values)
{
	build(ARGV("sudo", "sh", "-c", "terraform ${1:-destroy}"), NULL, ALL);
	has("terraform destroy");
	build(ARGV("sh", "-c", "terraform ${1:-destroy}", "_", "plan"), NULL, ALL);
	has("terraform plan");
	build(ARGV("sh", "-c", "terraform ${1:+destroy} ${2+x}", "_", "plan"), NULL, ALL);
	has("terraform destroy");
	/* as bash: x ${1:-"a b"} ${1:-a b} ${2-x} ${2:-y} ${3+z} ${1:+w} "${3:-p q}" */
	build(ARGV("sh", "-c", "x ${1:-\"a b\"} ${1:-a b} ${2-x} ${2:-y} ${3+z} ${1:+w} \"${3:-p q}\"",
	    "_", "", ""), NULL, ALL);
	int i = has("x a b a b y p q");
	cr_assert_eq(S.cmds[i].n_words, 6, "%s", dump());
	cr_assert_str_eq(word(i, 1), "a b");
	cr_assert_str_eq(word(i, 5), "p q");
	/* other operators, and unknown operands, stay as written */
	build(ARGV("sh", "-c", "x ${1#a} ${1/a/b} ${1:2}", "_", "abc"), NULL, ALL);
	has("x ${1#a} ${1/a/b} ${1:2}");
	build(ARGV("xargs", "sh", "-c", "x ${1:-a} ${2:-b}", "_", "p"), NULL, ALL);
	has("x p ${2:-b}");
}

Test(positional, other_variables_stay)
{
	build(ARGV("sh", "-c", "x $HOME ${HOME} $$ $$1 $? $! $- ${#1} '$1' \\$1 ${HOME:-$1}", "_", "a"),
	    NULL, ALL);
	has("x $HOME ${HOME} $$ $$1 $? $! $- ${#1} $1 $1 ${HOME:-$1}");
	/* without a shell's operands (a bare string) nothing is substituted */
	shell("terraform \"$1\" $@");
	has("terraform $1 $@");
	/* the here-document delimiter is not expanded */
	build(ARGV("sh", "-c", "cat <<$1\ndropdb x\n$1\nls", "_", "E"), NULL, ALL);
	has("cat");
	has("ls");
	hasnt("dropdb x");
	/* fish has $argv, not $1 */
	build(ARGV("fish", "-c", "x $1", "a", "b"), NULL, ALL);
	has("x $1");
}

Test(positional, wrappers)
{
	/* su -c STRING USER NAME ARGS: the shell gets -c STRING NAME ARGS */
	build(ARGV("su", "-c", "terraform \"$1\"", "root", "_", "destroy"), NULL, ALL);
	has("terraform destroy");
	build(ARGV("su", "root", "-c", "dropdb $1", "x", "prod"), NULL, ALL);
	has("dropdb prod");
	build(ARGV("su", "-", "root", "--", "-c", "dropdb $1", "x", "prod"), NULL, ALL);
	has("dropdb prod");
	build(ARGV("su", "-c", "terraform $1 destroy", "root"), NULL, ALL);
	has("terraform destroy");
	/* flock -c, sudo -s, watch, ssh: `$SHELL -c STRING` without operands */
	build(ARGV("flock", "f", "-c", "terraform $1 destroy \"$2\" $0"), NULL, ALL);
	has("terraform destroy  $0");
	build(ARGV("sudo", "-s", "terraform", "$1", "destroy"), NULL, ALL);
	has("terraform destroy");
	build(ARGV("ssh", "host", "dropdb", "$1", "prod"), NULL, ALL);
	has("dropdb prod");
	/* csh: the operands after the string are $argv, $1 the first */
	build(ARGV("tcsh", "-c", "dropdb $1", "prod"), NULL, ALL);
	has("dropdb prod");
	/* find -exec ... {} \; gives one operand, literally {} here */
	build(ARGV("find", ".", "-exec", "sh", "-c", "rm -rf \"$1\" \"$2\"", "_", "{}", ";"), NULL, ALL);
	has("rm -rf {} ");
}

/*
 * Operands appended where we cannot see them: xargs (its input) and
 * find -exec ... {} + (the file names). The known ones are substituted; the
 * rest, and $@, $*, $#, stay as written, so the rule sees `terraform $1`.
 * That is all a static check can know (as for `echo destroy | xargs
 * terraform`, where the rule sees only `terraform`): the input is data the
 * guard does not read. Under the hooks the library sees the real argv when
 * the shell is exec'd, unless everything runs behind a setuid wrapper
 * (`sudo xargs sh -c ...`), where it stays unseen.
 */
Test(positional, operands_unknown)
{
	build(ARGV("xargs", "sh", "-c", "terraform \"$1\"", "_"), NULL, ALL);
	has("terraform $1");
	build(ARGV("xargs", "-0", "sh", "-c", "terraform \"$1\" \"$2\" \"$@\" $# $0", "_", "destroy"),
	    NULL, ALL);
	has("terraform destroy $2 $@ $# _");
	build(ARGV("xargs", "sudo", "sh", "-c", "terraform $1 $2", "_", "destroy"), NULL, ALL);
	has("terraform destroy $2");
	build(ARGV("find", ".", "-exec", "sh", "-c", "rm \"$1\" \"$2\"", "_", "{}", "+"), NULL, ALL);
	has("rm {} $2");
	/* xargs -I replaces {} instead of appending: the operands are known */
	build(ARGV("xargs", "-I{}", "sh", "-c", "dropdb \"$1\" $2", "_", "{}"), NULL, ALL);
	has("dropdb {}");
	build(ARGV("xargs", "-i", "sh", "-c", "dropdb $1 $2", "_", "{}"), NULL, ALL);
	has("dropdb {}");
}

Test(positional, text_is_bounded)
{
	static char big[8192];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	int r = eg_subject_build(&S, ARGV("sh", "-c", "x \"$@\" \"$@\" \"$@\" \"$@\" \"$@\" \"$@\"",
	    "_", big, big), NULL, ALL);
	cr_assert_eq(r, -1, "%s", dump());
	cr_assert(S.overflow);
	build(ARGV("sh", "-c", "x \"$@\" $1", "_", big), NULL, ALL);
	ncmds(2);
}

/* ------------------------------------------------------------------ here-strings */

Test(herestring, shells_and_runners_read_it)
{
	shell("bash <<< 'dropdb x'");
	int i = has("dropdb x");
	cr_assert_eq(S.cmds[i].parent, has("bash"));
	cr_assert_eq(S.cmds[i].via, EG_VIA_SHELL);
	cr_assert(!S.cmds[i].remote);
	shell("ssh host <<< 'dropdb prod; rm -rf /srv'");
	i = has("dropdb prod");
	cr_assert(S.cmds[i].remote);
	cr_assert_eq(S.cmds[i].via, EG_VIA_REMOTE);
	has("rm -rf /srv");
	shell("sh -s <<<\"dropdb $(echo y)\"");
	has("dropdb $(echo y)");
	has("echo y");
	shell("sh <<< \"$cmd\"");
	has("$cmd");
	/* not a script */
	shell("cat <<< 'dropdb x'");
	ncmds(1);
	shell("bash script.sh <<< 'dropdb x'");
	ncmds(1);
	shell("bash -c 'ls' <<< 'dropdb x'");
	hasnt("dropdb x");
	shell("ssh host uptime <<< 'dropdb x'");
	hasnt("dropdb x");
	shell("xargs bash <<< 'dropdb x'");
	hasnt("dropdb x");
	/* substituted from a shell's operands */
	build(ARGV("sh", "-c", "bash <<< \"$1\"", "_", "dropdb prod"), NULL, ALL);
	has("dropdb prod");
}

Test(herestring, through_wrappers_and_containers)
{
	shell("sudo bash <<< 'dropdb x'");
	int i = has("dropdb x");
	cr_assert_eq(S.cmds[i].parent, has("sudo bash"));
	has("bash");
	ncmds(3); /* the look through sudo left nothing behind */
	shell("sudo -i <<< 'dropdb x'");
	has("dropdb x");
	shell("su - root <<< 'dropdb x'");
	has("dropdb x");
	shell("timeout 5 env A=1 sh <<< 'dropdb x'");
	has("dropdb x");
	shell("docker exec -i ctr sh <<< 'dropdb x'");
	i = has("dropdb x");
	cr_assert(S.cmds[i].remote);
	cr_assert_eq(S.cmds[i].via, EG_VIA_REMOTE);
	shell("podman exec -it ctr bash -s <<< 'dropdb x'");
	has("dropdb x");
	shell("docker compose exec db sh <<< 'dropdb x'");
	has("dropdb x");
	shell("kubectl exec -i pod -- sh <<< 'dropdb x'");
	cr_assert(S.cmds[has("dropdb x")].remote);
	shell("kubectl exec --stdin pod -- sh <<< 'dropdb x'");
	has("dropdb x");
	/* without -i the container gets no stdin */
	shell("docker exec ctr sh <<< 'dropdb x'");
	hasnt("dropdb x");
	shell("kubectl exec pod -- sh <<< 'dropdb x'");
	hasnt("dropdb x");
	shell("sudo sh -c ls <<< 'dropdb x'");
	hasnt("dropdb x");
}

Test(herestring, heredocs_into_containers)
{
	shell("docker exec -i ctr sh <<EOF\ndropdb prod\nEOF\nls");
	int i = has("dropdb prod");
	cr_assert(S.cmds[i].remote);
	cr_assert_eq(S.cmds[i].via, EG_VIA_REMOTE);
	has("ls");
	shell("docker exec ctr sh <<EOF\ndropdb prod\nEOF");
	hasnt("dropdb prod");
	shell("sudo bash <<'EOF'\nterraform destroy\nEOF");
	has("terraform destroy");
	/* bash -s ARGS: the script's $1... */
	shell("bash -s destroy <<'EOF'\nterraform \"$1\"\nEOF");
	has("terraform destroy");
	shell("bash <<'EOF'\nterraform $1 destroy\nEOF");
	has("terraform destroy");
}

/* ------------------------------------------------------------------ remote */

Test(remote, ssh)
{
	build(ARGV("ssh", "-p", "22", "-i", "key", "-o", "StrictHostKeyChecking=no", "user@host",
	    "dropdb", "x"), NULL, ALL);
	ncmds(2);
	int i = has("dropdb x");
	cr_assert(S.cmds[i].remote);
	cr_assert_eq(S.cmds[i].via, EG_VIA_REMOTE);
	build(ARGV("ssh", "host", "dropdb x && rm -rf '/var/lib'"), NULL, ALL);
	has("dropdb x");
	has("rm -rf /var/lib");
	build(ARGV("ssh", "host", "-p", "2222", "-tt", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("ssh", "-J", "jump", "-l", "root", "-Ap22", "host", "--", "dropdb"), NULL, ALL);
	has("dropdb");
	build(ARGV("ssh", "host"), NULL, ALL);
	ncmds(1);
	build(ARGV("ssh", "-N", "-L", "5432:db:5432", "host"), NULL, ALL);
	ncmds(1);
	build(ARGV("ssh", "-O", "exit", "host"), NULL, ALL);
	ncmds(1);
	/* remote commands do not inherit local assignments */
	build(ARGV("env", "A=1", "ssh", "host", "sudo", "dropdb", "x"), NULL, ALL);
	i = has("dropdb x");
	cr_assert(S.cmds[i].remote);
	cr_assert(!has_assign(i, "A=1"));
}

Test(remote, docker_podman)
{
	build(ARGV("docker", "exec", "-it", "-e", "A=1", "--env=B=2", "-u", "root", "-w", "/x",
	    "--privileged", "ctr", "dropdb", "x"), NULL, ALL);
	ncmds(2);
	int i = has("dropdb x");
	cr_assert(S.cmds[i].remote);
	cr_assert_eq(S.cmds[i].via, EG_VIA_REMOTE);
	cr_assert(has_assign(i, "A=1"));
	cr_assert(has_assign(i, "B=2"));
	build(ARGV("docker", "-H", "tcp://h:2375", "--context", "c", "container", "exec", "ctr",
	    "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("podman", "exec", "--env-file", "f", "--detach-keys", "ctrl-x", "-d", "ctr", "sh",
	    "-c", "dropdb y"), NULL, ALL);
	has("dropdb y");
	cr_assert(S.cmds[has("dropdb y")].remote);
	build(ARGV("docker", "compose", "-f", "c.yml", "exec", "-T", "db", "dropdb", "z"), NULL, ALL);
	has("dropdb z");
	build(ARGV("docker", "ps"), NULL, ALL);
	ncmds(1);
	build(ARGV("docker", "exec", "ctr"), NULL, ALL);
	ncmds(1);
}

Test(remote, kubectl)
{
	build(ARGV("kubectl", "exec", "-it", "pod", "-c", "ctr", "--", "dropdb", "x"), NULL, ALL);
	ncmds(2);
	int i = has("dropdb x");
	cr_assert(S.cmds[i].remote);
	build(ARGV("kubectl", "-n", "prod", "exec", "pod", "--", "sh", "-c", "dropdb y && ls"), NULL,
	    ALL);
	has("dropdb y");
	has("ls");
	build(ARGV("kubectl", "--context=c", "--namespace", "p", "exec", "deploy/x", "--", "dropdb"),
	    NULL, ALL);
	has("dropdb");
	build(ARGV("kubectl", "get", "pods"), NULL, ALL);
	ncmds(1);
	build(ARGV("kubectl", "exec", "pod", "dropdb", "old"), NULL, ALL);
	has("dropdb old");
}

/* ------------------------------------------------------------------ hook mode */

static char tmpdir[64];

static void rm_tmp(void)
{
	char cmd[128];
	if (tmpdir[0] && strncmp(tmpdir, "/tmp/eg_subj_", 13) == 0) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			return;
	}
}

static void mk_tmp(void)
{
	if (!tmpdir[0]) {
		strcpy(tmpdir, "/tmp/eg_subj_XXXXXX");
		cr_assert_not_null(mkdtemp(tmpdir));
		atexit(rm_tmp);
	}
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY);
	cr_assert(in >= 0);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	cr_assert(out >= 0);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		cr_assert_eq(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	cr_assert_eq(chmod(to, mode), 0);
}

/* A minimal ELF file: one PT_LOAD, and a PT_INTERP if `dyn`. */
static void write_elf(const char *path, bool is64, bool dyn)
{
	unsigned char b[512];
	memset(b, 0, sizeof b);
	memcpy(b, "\177ELF", 4);
	b[4] = is64 ? 2 : 1;
	b[5] = 1;
	b[6] = 1;
	unsigned phnum = dyn ? 2 : 1;
	if (is64) {
		b[16] = 2;          /* ET_EXEC */
		b[18] = 62;         /* x86-64 */
		b[32] = 64;         /* e_phoff */
		b[52] = 64;         /* e_ehsize */
		b[54] = 56;         /* e_phentsize */
		b[56] = (unsigned char)phnum;
		b[64] = 1;          /* PT_LOAD */
		if (dyn)
			b[64 + 56] = 3; /* PT_INTERP */
	} else {
		b[16] = 2;
		b[18] = 3;
		b[28] = 52;
		b[40] = 52;
		b[42] = 32;
		b[44] = (unsigned char)phnum;
		b[52] = 1;
		if (dyn)
			b[52 + 32] = 3;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, b, sizeof b), (ssize_t)sizeof b);
	close(fd);
}

Test(hook, probe)
{
	mk_tmp();
	char p[128];
	cr_assert(eg_exe_probe("/bin/true") & EG_EXE_DYNAMIC);
	cr_assert(!eg_exe_unseen("/bin/true"));
	cr_assert(eg_exe_probe("/nonexistent") & EG_EXE_MISSING);
	snprintf(p, sizeof p, "%s/s64", tmpdir);
	write_elf(p, true, false);
	cr_assert(eg_exe_probe(p) & EG_EXE_STATIC);
	cr_assert(eg_exe_unseen(p));
	snprintf(p, sizeof p, "%s/d64", tmpdir);
	write_elf(p, true, true);
	cr_assert(eg_exe_probe(p) & EG_EXE_DYNAMIC);
	snprintf(p, sizeof p, "%s/s32", tmpdir);
	write_elf(p, false, false);
	cr_assert(eg_exe_probe(p) & EG_EXE_STATIC);
	snprintf(p, sizeof p, "%s/d32", tmpdir);
	write_elf(p, false, true);
	cr_assert(eg_exe_probe(p) & EG_EXE_DYNAMIC);
	cr_assert(!eg_exe_unseen(p));
	snprintf(p, sizeof p, "%s/script", tmpdir);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	cr_assert_eq(write(fd, "#!/bin/sh\necho\n", 15), 15);
	close(fd);
	chmod(p, 04755);
	cr_assert(eg_exe_probe(p) & EG_EXE_SCRIPT);
	cr_assert(!eg_exe_unseen(p), "set-id bits on scripts are ignored by the kernel");
}

Test(hook, dynamic_wrappers_not_unwrapped)
{
	/* exe unknown: the top is treated as dynamic */
	build(ARGV("sudo", "terraform", "destroy"), NULL, 0);
	ncmds(1);
	build(ARGV("bash", "-c", "terraform destroy"), "/bin/true", 0);
	ncmds(1);
	build(ARGV("timeout", "5", "terraform", "destroy"), "/bin/true", 0);
	ncmds(1);
	/* remote runners always */
	build(ARGV("ssh", "host", "dropdb", "x"), NULL, 0);
	ncmds(2);
	build(ARGV("kubectl", "exec", "p", "--", "dropdb"), "/bin/true", 0);
	ncmds(2);
	/* below a dynamic wrapper, a remote runner is left to the next exec */
	build(ARGV("timeout", "5", "ssh", "host", "dropdb"), NULL, 0);
	ncmds(1);
	/* below a remote runner, everything is unwrapped */
	build(ARGV("ssh", "host", "sudo env bash -c 'dropdb x'"), NULL, 0);
	has("dropdb x");
}

Test(hook, setuid_copy)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to make a setuid copy");
	mk_tmp();
	char p[128];
	snprintf(p, sizeof p, "%s/sudo", tmpdir);
	copy_file("/bin/true", p, 04755);
	/* root running a setuid-root program: no secure exec, the library
	 * loads in it and decides its child itself (one question, not two) */
	cr_assert(eg_exe_probe(p) & EG_EXE_SETID);
	cr_assert(!(eg_exe_probe(p) & EG_EXE_SETID_SECURE));
	cr_assert(!eg_exe_unseen(p));
	build(ARGV("sudo", "terraform", "destroy"), p, 0);
	ncmds(1);
	/* owned by another user: the exec changes the euid, LD_PRELOAD is dropped */
	cr_assert_eq(chown(p, 65534, 65534), 0);
	cr_assert_eq(chmod(p, 04755), 0);
	cr_assert(eg_exe_probe(p) & EG_EXE_SETID_SECURE);
	build(ARGV("sudo", "env", "bash", "-c", "terraform -chdir=x destroy && echo ok"), p, 0);
	ncmds(5);
	has("terraform -chdir=x destroy");
	has("echo ok");
	snprintf(p, sizeof p, "%s/sg", tmpdir);
	copy_file("/bin/true", p, 02755);
	cr_assert_eq(chown(p, 0, 65534), 0);
	cr_assert_eq(chmod(p, 02755), 0);
	build(ARGV("doas", "dropdb", "x"), p, 0);
	has("dropdb x");
	/* a setuid program that is not a wrapper: nothing to unwrap */
	build(ARGV("passwd", "dropdb"), p, 0);
	ncmds(1);
}

Test(hook, capability_copy)
{
	if (geteuid() != 0)
		cr_skip_test("needs root for setcap");
	mk_tmp();
	char p[128], cmd[256];
	snprintf(p, sizeof p, "%s/capbin", tmpdir);
	copy_file("/bin/true", p, 0755);
	snprintf(cmd, sizeof cmd, "setcap cap_net_raw+ep %s >/dev/null 2>&1", p);
	if (system(cmd) != 0)
		cr_skip_test("setcap not available or not supported on this filesystem");
	cr_assert(eg_exe_probe(p) & EG_EXE_CAPS);
	build(ARGV("nice", "dropdb", "x"), p, 0);
	has("dropdb x");
}

Test(hook, static_binary)
{
	mk_tmp();
	char p[128];
	snprintf(p, sizeof p, "%s/busybox", tmpdir);
	write_elf(p, true, false);
	build(ARGV("busybox", "sh", "-c", "dropdb x"), p, 0);
	has("dropdb x");
	/* invoked through an applet name: argv[0] decides */
	build(ARGV("sh", "-c", "dropdb y"), p, 0);
	cr_assert_str_eq(S.cmds[0].prog_exe, "busybox");
	has("dropdb y");
	/* a real static binary, if a static libc is there */
	char src[160], bin[160], cmd[512];
	snprintf(src, sizeof src, "%s/s.c", tmpdir);
	snprintf(bin, sizeof bin, "%s/static_env", tmpdir);
	FILE *f = fopen(src, "w");
	fputs("int main(void){return 0;}\n", f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "cc -static -o %s %s >/dev/null 2>&1", bin, src);
	if (system(cmd) != 0)
		return; /* no static toolchain: the crafted ELF above covers it */
	cr_assert(eg_exe_probe(bin) & EG_EXE_STATIC);
	build(ARGV("env", "dropdb", "z"), bin, 0);
	has("dropdb z");
}

/* The dynamic loader run as a program runs PROG in its own process: no exec
 * for the library to see, so it is unwrapped in hook mode too. */
Test(loader, names_and_options)
{
	build(ARGV("/lib64/ld-linux-x86-64.so.2", "/opt/tf/terraform", "destroy"), NULL, ALL);
	has("/opt/tf/terraform destroy");
	cr_assert_str_eq(S.cmds[1].prog, "terraform");
	build(ARGV("ld-linux-x86-64.so.2", "--library-path", "/x", "--inhibit-cache", "--preload",
	    "a.so", "--audit", "b.so", "--argv0", "innocent", "--inhibit-rpath", "c",
	    "--glibc-hwcaps-prepend", "v3", "--glibc-hwcaps-mask", "v2", "dropdb", "x"), NULL, ALL);
	ncmds(2);
	has("dropdb x");
	const char *names[] = { "ld-linux.so.2", "ld-linux-aarch64.so.1", "ld64.so.2", "ld.so.1",
		"ld-musl-x86_64.so.1", "ld.so" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		cr_assert(eg_subject_is_wrapper(names[i]), "%s", names[i]);
		build(ARGV((char *)names[i], "dropdb", "x"), NULL, ALL);
		has("dropdb x");
	}
	cr_assert(!eg_subject_is_wrapper("ld"));
	cr_assert(!eg_subject_is_wrapper("ldd"));
	cr_assert(!eg_subject_is_wrapper("ldconfig"));
	/* "--" ends the options */
	build(ARGV("ld.so", "--", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	/* an option this loader version does not know: read both ways */
	build(ARGV("ld.so", "--new-option", "dropdb", "x"), NULL, ALL);
	has("dropdb x");
	build(ARGV("ld.so", "--new-option", "v", "dropdb", "y"), NULL, ALL);
	has("dropdb y");
	/* no program runs */
	const char *nocmd[] = { "--list", "--verify", "--help", "--version", "--list-tunables",
		"--list-diagnostics" };
	for (size_t i = 0; i < sizeof nocmd / sizeof nocmd[0]; i++) {
		build(ARGV("ld.so", (char *)nocmd[i], "dropdb", "x"), NULL, ALL);
		ncmds(1);
	}
	/* wrappers and shells inside */
	build(ARGV("ld.so", "/bin/bash", "-c", "timeout 5 dropdb z"), NULL, ALL);
	has("dropdb z");
}

Test(loader, hook_mode)
{
	/* the real loader: no PT_INTERP, so the library would not see PROG */
	const char *ld = "/lib64/ld-linux-x86-64.so.2";
	if (access(ld, X_OK) != 0)
		ld = "/lib/ld-linux.so.2";
	if (access(ld, X_OK) != 0)
		return;
	cr_assert(eg_exe_unseen(ld));
	build(ARGV((char *)ld, "/usr/bin/dropdb", "x"), ld, 0);
	has("/usr/bin/dropdb x");
	/* any argv[0]: the resolved executable names the loader */
	build(ARGV("innocent", "--argv0", "y", "/usr/bin/terraform", "destroy"), ld, 0);
	has("/usr/bin/terraform destroy");
}

Test(hook, add_shell_hook_mode)
{
	/* builtins are not processes: unwrapped in hook mode, wrappers are not */
	S.n_cmds = S.n_words = S.text_used = 0;
	S.overflow = false;
	const char *str = "command dropdb x; timeout 5 rm -rf /; ssh h dropdb y";
	cr_assert_eq(eg_subject_add_shell(&S, str, strlen(str), -1, EG_VIA_SHELL, 0), 0);
	has("dropdb x");
	hasnt("rm -rf /");
	has("dropdb y");
}

/* ------------------------------------------------------------------ shell splitting */

Test(split, operators)
{
	shell("a 1|b 2||c 3&&d 4;e 5&f 6|&g 7\nh 8");
	ncmds(8);
	has("a 1");
	has("h 8");
	has("g 7");
}

Test(split, quoting)
{
	shell("echo 'a;b' \"c d\" e\\ f 'g'\"h\"i \"\\$x \\\" \\\\ \\q\" $'\\x41\\n\\t\\'\\u00e9\\101'");
	ncmds(1);
	cr_assert_eq(S.cmds[0].n_words, 7, "%s", dump());
	const char *const *w = S.words + S.cmds[0].first_word;
	cr_assert_str_eq(w[1], "a;b");
	cr_assert_str_eq(w[2], "c d");
	cr_assert_str_eq(w[3], "e f");
	cr_assert_str_eq(w[4], "ghi");
	cr_assert_str_eq(w[5], "$x \" \\ \\q");
	cr_assert_str_eq(w[6], "A\n\t'\xc3\xa9" "A");
	shell("printf $'\\x41\\n\\t\\'\\u00e9\\101\\cA'");
	cr_assert_str_eq(S.words[S.cmds[0].first_word + 1], "A\n\t'\xc3\xa9" "A\x01");
	shell("echo $VAR ~/x ${HOME}/y \"$@\"");
	cr_assert_str_eq(cmd_str(0), "echo $VAR ~/x ${HOME}/y $@");
	shell("ec\\\nho a\\\n b");
	cr_assert_str_eq(cmd_str(0), "echo a b");
	shell("echo \"multi\nline\"");
	cr_assert_str_eq(cmd_str(0), "echo multi\nline");
}

Test(split, unterminated)
{
	shell("echo 'abc");
	cr_assert_str_eq(cmd_str(0), "echo abc");
	shell("echo \"abc");
	cr_assert_str_eq(cmd_str(0), "echo abc");
	shell("echo $(dropdb x");
	has("dropdb x");
	shell("echo `dropdb y");
	has("dropdb y");
	shell("echo $'x");
	shell("echo \\");
	cr_assert_str_eq(cmd_str(0), "echo \\");
	shell("cat <<EOF\nbody");
	ncmds(1);
}

Test(split, comments)
{
	shell("# dropdb x\necho a#b # dropdb y\nls");
	ncmds(2);
	has("echo a#b");
	has("ls");
}

Test(split, assignments)
{
	shell("A=1 B='x y' dropdb x");
	ncmds(1);
	cr_assert_str_eq(cmd_str(0), "dropdb x");
	cr_assert_eq(S.cmds[0].n_assign, 2);
	cr_assert(has_assign(0, "A=1"));
	cr_assert(has_assign(0, "B=x y"));
	cr_assert_str_eq(S.cmds[0].prog, "dropdb");
	shell("A=1; B=2");
	ncmds(0);
	shell("arr=(a b 'c d') ; x+=1 y[2]=3 dropdb");
	ncmds(1);
	has("dropdb");
	shell("dropdb A=1");
	cr_assert_eq(S.cmds[0].n_assign, 0);
	cr_assert_str_eq(cmd_str(0), "dropdb A=1");
	shell("'A'=1 x");
	cr_assert_str_eq(cmd_str(0), "A=1 x");
}

Test(split, redirections)
{
	shell("dropdb x >out 2>&1 </dev/null &>all >>app 3<>rw <<<'here string' >|clob {fd}>f 2> err");
	ncmds(1);
	cr_assert_str_eq(cmd_str(0), "dropdb x");
	shell(">out dropdb y");
	cr_assert_str_eq(cmd_str(0), "dropdb y");
	shell("echo 2 > x 12abc");
	cr_assert_str_eq(cmd_str(0), "echo 2 12abc");
}

Test(split, heredocs)
{
	shell("cat <<EOF\nrm -rf /\nEOF\ndropdb x");
	ncmds(2);
	has("cat");
	has("dropdb x");
	hasnt("rm -rf /");
	shell("cat <<-'E O'\n\trm -rf /\n\tE O\ndropdb x");
	ncmds(2);
	shell("cat <<A <<\"B\"; echo mid\nrm a\nA\nrm b\nB\ndropdb x");
	ncmds(3);
	has("echo mid");
	has("dropdb x");
	/* unquoted bodies are expanded: their substitutions run */
	shell("cat <<EOF\nnothing $(dropdb y) here\nEOF\nls");
	has("dropdb y");
	has("ls");
	shell("cat <<'EOF'\nnothing $(dropdb y) here\nEOF\nls");
	hasnt("dropdb y");
	/* a shell or ssh reading its script from the here-document */
	shell("bash -s <<'EOF'\nterraform destroy\nEOF\nls");
	int i = has("terraform destroy");
	cr_assert_eq(S.cmds[i].parent, has("bash -s"));
	cr_assert_eq(S.cmds[i].via, EG_VIA_SHELL);
	shell("ssh -p 22 prod <<EOF\ndropdb app\nEOF");
	i = has("dropdb app");
	cr_assert(S.cmds[i].remote);
	cr_assert_eq(S.cmds[i].via, EG_VIA_REMOTE);
	shell("ssh prod uptime <<EOF\ndropdb app\nEOF");
	hasnt("dropdb app");
	shell("bash script.sh <<EOF\ndropdb app\nEOF");
	hasnt("dropdb app");
}

Test(split, substitutions)
{
	shell("echo \"$(dropdb x)\" `rm -rf /` $(ls $(pwd))");
	has("dropdb x");
	has("rm -rf /");
	has("ls $(pwd)");
	has("pwd");
	cr_assert_str_eq(cmd_str(0), "echo $(dropdb x) `rm -rf /` $(ls $(pwd))");
	shell("diff <(dropdb a) >(tee b)");
	has("dropdb a");
	has("tee b");
	shell("echo $((1 + 2)) $(( x * (y + 1) ))");
	ncmds(1);
	shell("echo $(( $(dropdb q) + 1 ))");
	has("dropdb q");
	shell("echo $( (dropdb w) )");
	has("dropdb w");
	shell("echo ${x:-$(dropdb e)} ${#y} ${z//a/b}");
	has("dropdb e");
	shell("echo `echo \\`dropdb n\\``");
	has("dropdb n");
	shell("x=$(dropdb v)");
	has("dropdb v");
	shell("echo $(case a in a) dropdb c;; esac) after");
	has("dropdb c");
	has("echo $(case a in a) dropdb c;; esac) after");
}

Test(split, keywords)
{
	shell("if true; then dropdb x; elif false; then rm a; else rm b; fi");
	has("true");
	has("dropdb x");
	has("false");
	has("rm a");
	has("rm b");
	ncmds(5);
	shell("for i in $(seq 3); do dropdb $i; done");
	ncmds(2);
	has("seq 3");
	has("dropdb $i");
	shell("for ((i=0;i<3;i++)); do dropdb; done");
	ncmds(1);
	shell("while read x; do dropdb \"$x\"; done < list");
	has("read x");
	has("dropdb $x");
	shell("until false\ndo\n dropdb\ndone");
	has("dropdb");
	shell("case $x in a) dropdb a;; b|c) rm -rf /;; (*) ls ;; esac; echo end");
	ncmds(4);
	has("dropdb a");
	has("rm -rf /");
	has("ls");
	has("echo end");
	shell("case $x in\n  start)\n    dropdb s\n    ;;\n  *) echo;;\nesac");
	has("dropdb s");
	has("echo");
	shell("function f { dropdb f; }; g() { rm g; }; f");
	has("dropdb f");
	has("rm g");
	has("f");
	ncmds(3);
	shell("! dropdb x; time -p dropdb y; coproc dropdb z; { dropdb q; }; (dropdb w)");
	ncmds(5);
	has("dropdb x");
	has("dropdb y");
	has("dropdb z");
	has("dropdb q");
	has("dropdb w");
	/* `time` with options other than -p is the time program (sh runs it) */
	shell("time -v dropdb x; time -o out -a dropdb y");
	has("time -v dropdb x");
	has("dropdb x");
	has("time -o out -a dropdb y");
	has("dropdb y");
	shell("[[ -f x && -d y ]] && dropdb x");
	ncmds(1);
	has("dropdb x");
	shell("select x in a b; do dropdb; done");
	ncmds(1);
	shell("echo if then fi");
	has("echo if then fi");
	shell("'if' x");
	has("if x");
}

Test(split, nested_shells)
{
	build(ARGV("bash", "-c", "sh -c 'zsh -c \"dropdb x\"'"), NULL, ALL);
	has("dropdb x");
	ncmds(4);
	build(ARGV("bash", "-c", "exec sudo -u pg env PGHOST=prod dropdb x"), NULL, ALL);
	int i = has("dropdb x");
	cr_assert(has_assign(i, "PGHOST=prod"));
	build(ARGV("bash", "-c", "command eval 'dropdb y'"), NULL, ALL);
	has("dropdb y");
	build(ARGV("bash", "-c", "xargs rm -rf < list; find . -exec dropdb {} \\;"), NULL, ALL);
	has("rm -rf");
	has("dropdb {}");
}

/* ------------------------------------------------------------------ limits */

static char *big_argv[20000];

Test(limits, thousands_of_arguments)
{
	static char words[20000][16];
	big_argv[0] = "dropdb";
	for (int i = 1; i < 3000; i++) {
		snprintf(words[i], sizeof words[i], "a%d", i);
		big_argv[i] = words[i];
	}
	big_argv[3000] = NULL;
	build(big_argv, NULL, ALL);
	ncmds(1);
	cr_assert_eq(S.cmds[0].n_words, 3000);
	for (int i = 3000; i < 19999; i++) {
		snprintf(words[i], sizeof words[i], "a%d", i);
		big_argv[i] = words[i];
	}
	big_argv[19999] = NULL;
	/* No wrapper: the words are read from argv itself, nothing overflows. */
	cr_assert_eq(eg_subject_build(&S, big_argv, NULL, ALL), 0);
	cr_assert_not(S.overflow);
	ncmds(1);
	cr_assert_eq(S.cmds[0].n_words, 19999);
	cr_assert_eq(S.cmds[0].argv, big_argv);
	cr_assert_str_eq(eg_cmd_word(&S, &S.cmds[0], 19998), "a19998");
	big_argv[0] = "sudo";
	cr_assert_eq(eg_subject_build(&S, big_argv, NULL, ALL), -1);
	cr_assert(S.overflow);
	big_argv[0] = "xargs";
	big_argv[3000] = NULL;
	build(big_argv, NULL, ALL);
}

Test(limits, megabyte_argument)
{
	size_t n = 1 << 20;
	char *big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	/* a long word at the top is pointed to, not copied */
	build(ARGV("dropdb", big), NULL, ALL);
	ncmds(1);
	cr_assert_eq(strlen(S.words[1]), n);
	/* split: does not fit the text buffer */
	cr_assert_eq(eg_subject_build(&S, ARGV("bash", "-c", big), NULL, ALL), -1);
	cr_assert(S.overflow);
	cr_assert_eq(eg_subject_build(&S, ARGV("ssh", "h", big), NULL, ALL), -1);
	cr_assert(S.overflow);
	/* megabyte of operators and blanks: no words, no overflow */
	for (size_t i = 0; i < n; i++)
		big[i] = " ;\n&|"[i % 5];
	build(ARGV("bash", "-c", big), NULL, ALL);
	/* deep nesting */
	for (size_t i = 0; i < n; i++)
		big[i] = "$("[i % 2];
	cr_assert_eq(eg_subject_build(&S, ARGV("bash", "-c", big), NULL, ALL), -1);
	cr_assert(S.overflow);
	for (size_t i = 0; i < n; i++)
		big[i] = "${"[i % 2];
	eg_subject_build(&S, ARGV("bash", "-c", big), NULL, ALL);
	for (size_t i = 0; i < n; i++)
		big[i] = "$(("[i % 3];
	eg_subject_build(&S, ARGV("bash", "-c", big), NULL, ALL);
	for (size_t i = 0; i < n; i++)
		big[i] = "`\\"[i % 2];
	eg_subject_build(&S, ARGV("bash", "-c", big), NULL, ALL);
	memset(big, '(', n);
	eg_subject_build(&S, ARGV("bash", "-c", big), NULL, ALL);
	memset(big, '<', n);
	eg_subject_build(&S, ARGV("bash", "-c", big), NULL, ALL);
	free(big);
}

Test(limits, depth_and_count)
{
	/* a chain of wrappers deeper than EG_SUBJ_MAX_DEPTH */
	char *argv[40];
	for (int i = 0; i < 30; i++)
		argv[i] = "nohup";
	argv[30] = "dropdb";
	argv[31] = NULL;
	cr_assert_eq(eg_subject_build(&S, argv, NULL, ALL), -1);
	cr_assert(S.overflow);
	argv[5] = "dropdb";
	argv[6] = NULL;
	build(argv, NULL, ALL);
	has("dropdb");
	/* shells in shells, each level backslash-escaped */
	size_t cap = 1 << 20;
	char *cur = malloc(cap), *nxt = malloc(cap);
	strcpy(cur, "dropdb x");
	for (int lvl = 0; lvl < 12; lvl++) {
		size_t o = 0;
		memcpy(nxt, "sh -c ", 6);
		o = 6;
		for (const char *p = cur; *p && o < cap - 4; p++) {
			if (*p == ' ' || *p == '\\')
				nxt[o++] = '\\';
			nxt[o++] = *p;
		}
		nxt[o] = 0;
		char *t = cur;
		cur = nxt;
		nxt = t;
		if (lvl == 4) {
			build(ARGV("bash", "-c", cur), NULL, ALL);
			has("dropdb x");
			ncmds(7);
		}
	}
	cr_assert_eq(eg_subject_build(&S, ARGV("bash", "-c", cur), NULL, ALL), -1);
	cr_assert(S.overflow);
	free(cur);
	free(nxt);
	/* too many commands */
	char many[8192] = "";
	for (int i = 0; i < 100; i++)
		strcat(many, "dropdb;");
	cr_assert_eq(eg_subject_build(&S, ARGV("bash", "-c", many), NULL, ALL), -1);
	cr_assert(S.overflow);
	cr_assert(S.n_cmds <= EG_SUBJ_MAX_CMDS);
}

Test(limits, fuzz_no_crash)
{
	const char alpha[] = "ab =;&|()<>'\"\\$`{}#\n\t-c0123!*[]~";
	char buf[96];
	unsigned x = 12345;
	for (int it = 0; it < 30000; it++) {
		size_t len = 0;
		x = x * 1103515245u + 12345u;
		size_t want = (x >> 16) % (sizeof buf - 1);
		for (; len < want; len++) {
			x = x * 1103515245u + 12345u;
			buf[len] = alpha[(x >> 16) % (sizeof alpha - 1)];
		}
		buf[len] = 0;
		S.n_cmds = S.n_words = S.text_used = 0;
		S.overflow = false;
		eg_subject_add_shell(&S, buf, len, -1, EG_VIA_SHELL, ALL);
		cr_assert(S.n_cmds <= EG_SUBJ_MAX_CMDS);
		cr_assert(S.text_used <= EG_SUBJ_TEXT);
		for (uint32_t i = 0; i < S.n_cmds; i++) {
			cr_assert(S.cmds[i].first_word + S.cmds[i].n_words <= S.n_words);
			cr_assert(S.cmds[i].n_words > 0);
			cr_assert_not_null(S.cmds[i].prog);
		}
		char *argv[] = { "sudo", "env", "-S", buf, "bash", "-c", buf, NULL };
		eg_subject_build(&S, argv, NULL, ALL);
		char *argv2[] = { "ssh", buf, buf, buf, NULL };
		eg_subject_build(&S, argv2, NULL, ALL);
		/* positional parameters, here-strings, looks through wrappers */
		char *argv3[] = { "sudo", "sh", "-c", buf, "_", " a b", "", buf, NULL };
		eg_subject_build(&S, argv3, NULL, ALL);
		char *argv4[] = { "xargs", "bash", "-c", buf, "$@", NULL };
		eg_subject_build(&S, argv4, NULL, ALL);
		for (uint32_t i = 0; i < S.n_cmds; i++) {
			cr_assert(S.cmds[i].first_word + S.cmds[i].n_words <= S.n_words);
			cr_assert(S.cmds[i].n_words > 0);
			cr_assert(S.cmds[i].parent < (int32_t)i);
		}
	}
}

Test(limits, fuzz_positional_and_here_strings)
{
	const char alpha[] = "ab ;|()<<<>'\"\\$$@*#{}1230\n-sudocker exec -i sh";
	char buf[96];
	unsigned x = 54321;
	for (int it = 0; it < 20000; it++) {
		size_t len = 0;
		x = x * 1103515245u + 12345u;
		size_t want = (x >> 16) % (sizeof buf - 1);
		for (; len < want; len++) {
			x = x * 1103515245u + 12345u;
			buf[len] = alpha[(x >> 16) % (sizeof alpha - 1)];
		}
		buf[len] = 0;
		char *argv[] = { "bash", "-c", buf, "n", "p q", "", "\t", NULL };
		eg_subject_build(&S, argv, NULL, ALL);
		cr_assert(S.n_cmds <= EG_SUBJ_MAX_CMDS);
		cr_assert(S.text_used <= EG_SUBJ_TEXT);
		for (uint32_t i = 0; i < S.n_cmds; i++) {
			cr_assert(S.cmds[i].first_word + S.cmds[i].n_words <= S.n_words);
			cr_assert(S.cmds[i].n_words > 0);
			cr_assert_not_null(S.cmds[i].prog);
			cr_assert(S.cmds[i].parent < (int32_t)i);
		}
	}
}

/* ------------------------------------------------------------------ quoting */

static const char *q(const char *const *argv, size_t n, size_t size)
{
	static char buf[4096];
	memset(buf, 'Z', sizeof buf);
	size_t r = eg_quote_argv(buf, size, argv, n);
	if (size)
		cr_assert_eq(r, strlen(buf));
	return buf;
}

Test(quote, words)
{
	const char *a[] = { "terraform", "-chdir=infra", "destroy", "a b", "it's", "", "x;y", "$HOME",
		"é", "/usr/bin/x", "~", "#c" };
	cr_assert_str_eq(q(a, 12, 4096),
	    "terraform -chdir=infra destroy 'a b' 'it'\\''s' '' 'x;y' '$HOME' 'é' /usr/bin/x '~' '#c'");
	const char *b[] = { "a\nb", "tab\there", "esc\x1b[31m", "bad\xff", "rtl\xe2\x80\xae", "q'\\" };
	cr_assert_str_eq(q(b, 6, 4096),
	    "$'a\\nb' $'tab\\there' $'esc\\x1b[31m' $'bad\\xff' $'rtl\\u202e' 'q'\\''\\'");
	const char *c[] = { "ctl'\x01\\" };
	cr_assert_str_eq(q(c, 1, 4096), "$'ctl\\'\\x01\\\\'");
}

Test(quote, truncation)
{
	const char *a[] = { "terraform", "destroy", "-auto-approve" };
	size_t full = strlen("terraform destroy -auto-approve");
	cr_assert_str_eq(q(a, 3, full + 1), "terraform destroy -auto-approve");
	const char *r = q(a, 3, full);
	cr_assert(strlen(r) <= full - 1);
	cr_assert(strstr(r, "\xe2\x80\xa6") != NULL, "%s", r);
	cr_assert_str_eq(q(a, 3, 14), "terraform …");
	cr_assert_str_eq(q(a, 3, 4), "…");
	cr_assert_str_eq(q(a, 3, 3), "te");
	cr_assert_str_eq(q(a, 3, 1), "");
	char buf[4] = "ZZZ";
	cr_assert_eq(eg_quote_argv(buf, 0, a, 3), 0);
	cr_assert_str_eq(buf, "ZZZ");
	cr_assert_str_eq(q(a, 0, 100), "");
	cr_assert_str_eq(q(NULL, 3, 100), "");
	/* never cut inside a UTF-8 sequence or an escape */
	const char *u[] = { "ééééé" };
	r = q(u, 1, 9);
	cr_assert_str_eq(r, "'éé…");
}
