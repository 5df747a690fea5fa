/*
 * Unit checks of the guard's hook-path helpers (env re-injection, PATH
 * search, audit line, refusal message), plain asserts so they also run under
 * -Db_sanitize=address,undefined.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fmt.h"
#include "approval_memory.h"
#include "approval_request.h"
#include "audit.h"
#include "guard.h"
#include "audit_emit.h"
#include "env_inject.h"
#include "path_search.h"
#include "refuse.h"
#include "subprocess.h"

static struct eg_env_ours ours;
static int failures;

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static char *const *inject(char *const *envp, char **ptrs, char *bytes, bool *unchanged)
{
	struct eg_env_need need;
	eg_env_measure(&ours, envp, &need);
	assert(need.n_ptrs <= 64 && need.n_bytes <= 4096);
	*unchanged = need.unchanged;
	return eg_env_build(&ours, envp, &need, ptrs, bytes);
}

static int count(char *const *env, const char *entry)
{
	int n = 0;
	for (size_t i = 0; env && env[i]; i++)
		n += strcmp(env[i], entry) == 0;
	return n;
}

static size_t len(char *const *env)
{
	size_t n = 0;
	while (env && env[n])
		n++;
	return n;
}

static void test_env(void)
{
	char *load_env[] = { "PATH=/bin", "LD_PRELOAD=/lib/eg.so", "EXECGUARD_PACKS_DIR=/p",
		"EXECGUARD_PACKS_DIR=/second", "HOME=/h", NULL };
	eg_env_ours_capture(&ours, load_env, "/lib/eg.so", 10, "/lib/eg.so", 10, 120);
	CHECK(ours.n_vars == 1 && !ours.overflow);

	char *ptrs[64];
	char bytes[4096];
	bool unchanged;

	char *same[] = { "PATH=/bin", "EXECGUARD_PACKS_DIR=/p", "LD_PRELOAD=/lib/eg.so", NULL };
	CHECK(inject(same, ptrs, bytes, &unchanged) == same && unchanged);

	char *fresh[] = { "PATH=/bin", NULL };
	char *const *e = inject(fresh, ptrs, bytes, &unchanged);
	CHECK(!unchanged && len(e) == 3);
	CHECK(count(e, "PATH=/bin") == 1 && count(e, "LD_PRELOAD=/lib/eg.so") == 1 &&
	    count(e, "EXECGUARD_PACKS_DIR=/p") == 1);

	e = inject(NULL, ptrs, bytes, &unchanged);
	CHECK(len(e) == 2 && count(e, "LD_PRELOAD=/lib/eg.so") == 1);

	char *tamper[] = { "LD_PRELOAD=/x.so /lib/eg.so:/lib/eg.so", "EXECGUARD_PACKS_DIR=/evil",
		"EXECGUARD_PROMPT_TIMEOUT=5", "EXECGUARD_X=1", "A=b", NULL };
	e = inject(tamper, ptrs, bytes, &unchanged);
	CHECK(count(e, "LD_PRELOAD=/x.so:/lib/eg.so") == 1);
	CHECK(count(e, "EXECGUARD_PACKS_DIR=/p") == 1 && count(e, "EXECGUARD_PACKS_DIR=/evil") == 0);
	CHECK(count(e, "EXECGUARD_PROMPT_TIMEOUT=5") == 1 && count(e, "EXECGUARD_X=1") == 0);
	CHECK(count(e, "A=b") == 1 && len(e) == 4);

	char *loose[] = { "EXECGUARD_PROMPT_TIMEOUT=500", "EXECGUARD_PROMPT_TIMEOUT=0",
		"EXECGUARD_PROMPT_TIMEOUT=x", "LD_PRELOAD=/other.so", NULL };
	e = inject(loose, ptrs, bytes, &unchanged);
	CHECK(len(e) == 2 && count(e, "LD_PRELOAD=/lib/eg.so:/other.so") == 1);

	/* two LD_PRELOAD entries: ld.so uses the last; one is left */
	char *two[] = { "LD_PRELOAD=/lib/eg.so", "EXECGUARD_PACKS_DIR=/p", "LD_PRELOAD=", NULL };
	e = inject(two, ptrs, bytes, &unchanged);
	CHECK(!unchanged && len(e) == 2 && count(e, "LD_PRELOAD=/lib/eg.so") == 1);

	/* the self path counts as ours */
	eg_env_ours_capture(&ours, load_env, "/abs/eg.so", 10, "/lib/eg.so", 10, 120);
	char *self[] = { "LD_PRELOAD=/abs/eg.so", "EXECGUARD_PACKS_DIR=/p", NULL };
	CHECK(inject(self, ptrs, bytes, &unchanged) == self && unchanged);

	/* the popen approval is never one of ours: no exec passes it on */
	char *with_marker[] = { "EXECGUARD_APPROVED=1:00", "LD_PRELOAD=/lib/eg.so", NULL };
	eg_env_ours_capture(&ours, with_marker, "/lib/eg.so", 10, "/lib/eg.so", 10, 120);
	e = inject(with_marker, ptrs, bytes, &unchanged);
	CHECK(count(e, "EXECGUARD_APPROVED=1:00") == 0 && count(e, "LD_PRELOAD=/lib/eg.so") == 1);
	char digits[EG_FMT_UINT_MAX];
	CHECK(eg_fmt_uint(digits, 0) == 1 && strcmp(digits, "0") == 0);
	CHECK(eg_fmt_uint(digits, 18446744073709551615ul) == 20 &&
	    strcmp(digits, "18446744073709551615") == 0);
	char marker[80];
	eg_approved_format(marker, 42, 0x0123456789abcdefull);
	CHECK(strcmp(marker, "EXECGUARD_APPROVED=42:0123456789abcdef") == 0);

	/* ld.so.preload mode: LD_PRELOAD left alone */
	eg_env_ours_capture(&ours, load_env, "/lib/eg.so", 10, NULL, 0, 120);
	char *nold[] = { "EXECGUARD_PACKS_DIR=/p", NULL };
	CHECK(inject(nold, ptrs, bytes, &unchanged) == nold && unchanged);
}

/* Build from storage exactly as large as the measure asked (malloc'ed, so
 * that ASan sees a write past it), with a canary after each array. */
static char *const *build_exact(char *const *measured, char *const *built, char **ptrs_out,
    char *bytes_out, size_t *n_ptrs, size_t *n_bytes)
{
	struct eg_env_need need;
	eg_env_measure(&ours, measured, &need);
	CHECK(!need.unchanged);
	char **ptrs = malloc((need.n_ptrs + 1) * sizeof(char *));
	char *bytes = malloc(need.n_bytes + 1);
	ptrs[need.n_ptrs] = (char *)"canary";
	bytes[need.n_bytes] = '#';
	char *const *e = eg_env_build(&ours, built, &need, ptrs, bytes);
	CHECK(ptrs[need.n_ptrs] == (char *)"canary" && bytes[need.n_bytes] == '#');
	*n_ptrs = 0;
	for (size_t i = 0; e && e[i]; i++)
		ptrs_out[(*n_ptrs)++] = e[i];
	ptrs_out[*n_ptrs] = NULL;
	*n_bytes = need.n_bytes;
	memcpy(bytes_out, bytes, need.n_bytes);
	for (size_t i = 0; i < *n_ptrs; i++) /* entries built in bytes now point to bytes_out */
		if (ptrs_out[i] >= bytes && ptrs_out[i] < bytes + need.n_bytes)
			ptrs_out[i] = bytes_out + (ptrs_out[i] - bytes);
	free(ptrs);
	free(bytes);
	return e ? ptrs_out : NULL;
}

/* Another thread's setenv between eg_env_measure and eg_env_build (the hooks
 * read the live environ of a multithreaded process): nothing is written past
 * the storage measured, and a build that no longer fits says so (NULL, the
 * hook measures again) rather than pass an environment without the guard. */
static void test_env_changed(void)
{
	char *load_env[] = { "LD_PRELOAD=/lib/eg.so", "EXECGUARD_PACKS_DIR=/p", NULL };
	eg_env_ours_capture(&ours, load_env, "/lib/eg.so", 10, "/lib/eg.so", 10, 120);
	char *ptrs[64], bytes[4096];
	size_t n_ptrs, n_bytes;

	/* LD_PRELOAD longer when built than when measured */
	char *shorter[] = { "LD_PRELOAD=", "A=1", NULL };
	char *longer[] = { "LD_PRELOAD=/a/much/longer/library/path/than/before.so", "A=1", NULL };
	CHECK(build_exact(shorter, longer, ptrs, bytes, &n_ptrs, &n_bytes) == NULL);
	/* measured as ours once (nothing to rewrite), built without us */
	char *ours_once[] = { "LD_PRELOAD=/lib/eg.so", "EXECGUARD_PACKS_DIR=/other", NULL };
	char *without[] = { "LD_PRELOAD=/x.so", "EXECGUARD_PACKS_DIR=/other", NULL };
	CHECK(build_exact(ours_once, without, ptrs, bytes, &n_ptrs, &n_bytes) == NULL);
	/* LD_PRELOAD gone when built: it has to be written, and there is no room */
	char *no_ld[] = { "EXECGUARD_PACKS_DIR=/other", NULL };
	CHECK(build_exact(ours_once, no_ld, ptrs, bytes, &n_ptrs, &n_bytes) == NULL);
	/* more entries when built than when measured */
	char *few[] = { "LD_PRELOAD=", NULL };
	char *many[] = { "LD_PRELOAD=", "A=1", "B=2", "C=3", NULL };
	CHECK(build_exact(few, many, ptrs, bytes, &n_ptrs, &n_bytes) == NULL);
	/* a change that still fits is built as it is now, guard included */
	char *built_from[] = { "LD_PRELOAD=/nonexistent", "A=1", NULL };
	char *now[] = { "LD_PRELOAD=x", "A=2", NULL };
	CHECK(build_exact(built_from, now, ptrs, bytes, &n_ptrs, &n_bytes) == ptrs);
	CHECK(n_ptrs == 3 && count(ptrs, "LD_PRELOAD=/lib/eg.so:x") == 1 && count(ptrs, "A=2") == 1 &&
	    count(ptrs, "EXECGUARD_PACKS_DIR=/p") == 1);
}

static void test_path(const char *tmp)
{
	char dir_a[512], dir_b[512], f[600], buf[4096];
	snprintf(dir_a, sizeof dir_a, "%s/a", tmp);
	snprintf(dir_b, sizeof dir_b, "%s/b", tmp);
	mkdir(dir_a, 0755);
	mkdir(dir_b, 0755);
	snprintf(f, sizeof f, "%s/prog", dir_a); /* not executable */
	fclose(fopen(f, "w"));
	chmod(f, 0644);
	snprintf(f, sizeof f, "%s/prog", dir_b);
	fclose(fopen(f, "w"));
	chmod(f, 0755);
	char path[1200];
	snprintf(path, sizeof path, "%s:%s", dir_a, dir_b);
	CHECK(eg_path_search("prog", path, buf, sizeof buf) == 0 && strcmp(buf, f) == 0);
	snprintf(path, sizeof path, "%s", dir_a);
	errno = 0;
	CHECK(eg_path_search("prog", path, buf, sizeof buf) == -1 && errno == EACCES);
	CHECK(eg_path_search("nope-eg", path, buf, sizeof buf) == -1 && errno == ENOENT);
	CHECK(eg_path_search("", path, buf, sizeof buf) == -1 && errno == ENOENT);
	CHECK(eg_path_search("./x/y", path, buf, sizeof buf) == 0 && strcmp(buf, "./x/y") == 0);
	CHECK(eg_path_search("sh", NULL, buf, sizeof buf) == 0 && strcmp(buf, "/bin/sh") == 0);
	/* empty element = current directory */
	char cwd[1024];
	CHECK(getcwd(cwd, sizeof cwd) != NULL);
	CHECK(chdir(dir_b) == 0);
	CHECK(eg_path_search("prog", "/nonexistent-eg:", buf, sizeof buf) == 0 && strcmp(buf, "prog") == 0);
	CHECK(chdir(cwd) == 0);
	/* symlink resolution */
	char link[600], rbuf[4096];
	snprintf(link, sizeof link, "%s/tf", tmp);
	CHECK(symlink(f, link) == 0);
	unsigned flags = 0;
	CHECK(strcmp(eg_exe_resolve(link, rbuf, sizeof rbuf, &flags), f) == 0 && flags == EG_CHECK_EXE_RESOLVED);
	flags = 0;
	CHECK(strcmp(eg_exe_resolve(f, rbuf, sizeof rbuf, &flags), f) == 0 && flags == EG_CHECK_EXE_RESOLVED);
	/* missing: not known to be resolved, the check reads it again */
	flags = 0;
	snprintf(link, sizeof link, "%s/missing-eg", tmp);
	CHECK(strcmp(eg_exe_resolve(link, rbuf, sizeof rbuf, &flags), link) == 0 && flags == 0);
}

/* Just enough JSON syntax for our records: strings with their escapes,
 * balanced brackets, the line ends with the object's closing brace. */
static bool json_line_ok(const char *s, size_t n)
{
	int depth = 0;
	bool in_str = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\') {
				char e = s[++i];
				if (e == 'u') {
					for (int k = 1; k <= 4; k++)
						if (!strchr("0123456789abcdef", s[i + k]))
							return false;
					i += 4;
				} else if (!strchr("\"\\/bfnrt", e)) {
					return false;
				}
			} else if (c == '"') {
				in_str = false;
				/* after a string: , : ] } only */
				if (!strchr(",:]}", s[i + 1]))
					return false;
			}
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		else if (c == '\n')
			return i == n - 1 && depth == 0 && s[i - 1] == '}';
	}
	return false;
}

static void test_audit(void)
{
	char buf[EG_AUDIT_LINE_MAX];
	char *argv[] = { "a\"b", "c\\d\n\x01", "\xff\xc3\xa9", NULL };
	struct eg_audit_rec r = { .argv = argv, .cwd = "/w", .rule_id = "x.y", .action = "deny",
		.outcome = "refused", .why = "denied", .route = "exec" };
	size_t n = eg_audit_format(buf, sizeof buf, &r);
	CHECK(n > 0 && buf[n - 1] == '\n');
	buf[n] = '\0';
	CHECK(strstr(buf, "\"argv\":[\"a\\\"b\",\"c\\\\d\\n\\u0001\",\"\\u00ff\xc3\xa9\"]") != NULL);
	CHECK(strstr(buf, "\"rule\":\"x.y\"") && strstr(buf, "\"outcome\":\"refused\""));
	/* huge argv: truncated, still one line */
	static char big[40000];
	memset(big, 'x', sizeof big - 1);
	char *bargv[] = { big, big, NULL };
	r.argv = bargv;
	n = eg_audit_format(buf, sizeof buf, &r);
	CHECK(n <= sizeof buf && buf[n - 1] == '\n' && buf[n - 2] == '}');
	buf[n] = '\0';
	CHECK(strstr(buf, "\"truncated\":true") != NULL);
	CHECK(json_line_ok(buf, n));
	/* Filling the line at every offset, with plain words and with words of
	 * escapes, never leaves a broken string behind. */
	static char word[16];
	static char *many[4200];
	for (unsigned shape = 0; shape < 2; shape++) {
		for (unsigned len = 1; len < 9; len++) {
			memset(word, shape ? '"' : 'x', len);
			word[len] = '\0';
			for (size_t i = 0; i < 4199; i++)
				many[i] = word;
			many[4199] = NULL;
			r.argv = many;
			n = eg_audit_format(buf, sizeof buf, &r);
			CHECK(n > 0 && n <= sizeof buf);
			CHECK(json_line_ok(buf, n));
		}
	}
}

/* The fields issue 6 added, the syslog header, the append's errors. */
static void test_audit_trail(const char *tmp)
{
	char buf[EG_AUDIT_LINE_MAX];
	char *argv[] = { "dropdb", "prod", NULL };
	const char *parents[] = { "sh", "claude code", NULL };
	struct eg_audit_rec r = { .argv = argv, .rule_id = "x.y", .action = "confirm",
		.outcome = "approved", .route = "exec", .rule_file = "/r/a.rules", .rule_line = 7,
		.session = "0123456789abcdef", .channel = EG_CHANNEL_TERMINAL, .parents = parents };
	size_t n = eg_audit_format(buf, sizeof buf, &r);
	CHECK(n > 0 && json_line_ok(buf, n));
	buf[n] = '\0';
	CHECK(strstr(buf, "\"rule_file\":\"/r/a.rules\",\"rule_line\":7,") != NULL);
	CHECK(strstr(buf, "\"channel\":\"terminal\"") != NULL);
	CHECK(strstr(buf, "\"session\":\"0123456789abcdef\"") != NULL);
	CHECK(strstr(buf, "\"parents\":[\"sh\",\"claude code\"]") != NULL);
	/* RFC 3339, UTC, microseconds: "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" */
	const char *t = strstr(buf, "\"time\":\"");
	CHECK(t != NULL && t[8 + 4] == '-' && t[8 + 10] == 'T' && t[8 + 19] == '.' &&
	    t[8 + 26] == 'Z' && t[8 + 27] == '"');
	r.session = NULL;
	r.parents = NULL;
	r.channel = EG_CHANNEL_NONE;
	n = eg_audit_format(buf, sizeof buf, &r);
	buf[n] = '\0';
	CHECK(strstr(buf, "\"session\":null") && strstr(buf, "\"channel\":\"none\"") &&
	    !strstr(buf, "parents"));

	CHECK(strcmp(eg_audit_channel_name(EG_CHANNEL_PARENT), "parent") == 0);
	CHECK(strcmp(eg_audit_channel_name((enum eg_audit_channel)99), "none") == 0);

	char hdr[64], want[64];
	r.outcome = "refused";
	hdr[eg_syslog_header(hdr, &r)] = '\0';
	snprintf(want, sizeof want, "<84>execguard[%d]: ", (int)getpid());
	CHECK(strcmp(hdr, want) == 0);
	r.outcome = "approved";
	hdr[eg_syslog_header(hdr, &r)] = '\0';
	CHECK(strncmp(hdr, "<85>", 4) == 0);
	r.outcome = "ran";
	hdr[eg_syslog_header(hdr, &r)] = '\0';
	CHECK(strncmp(hdr, "<86>", 4) == 0);

	CHECK(eg_session_id_ok("0123456789abcdef") && eg_session_id_ok("a.b_c:d-e"));
	CHECK(!eg_session_id_ok("") && !eg_session_id_ok(NULL) && !eg_session_id_ok("a b") &&
	    !eg_session_id_ok("x\n") &&
	    !eg_session_id_ok("0123456789012345678901234567890123456789012345678901234567890123456789"));

	/* append: created 0600, errors returned (not raised), errno kept */
	char path[512];
	snprintf(path, sizeof path, "%s/st/sub/audit.jsonl", tmp);
	errno = 4242;
	CHECK(eg_audit_append(path, "{}\n", 3) == 0 && errno == 4242);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 3);
	CHECK(eg_audit_append("/dev/full", "{}\n", 3) == ENOSPC && errno == 4242);
	snprintf(path, sizeof path, "%s/st/sub/audit.jsonl/x", tmp);
	CHECK(eg_audit_append(path, "{}\n", 3) == ENOTDIR);
	CHECK(eg_audit_append("", "{}\n", 3) == 0);
}

static void test_refuse(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	int saved = dup(2);
	dup2(p[1], 2);
	errno = 1234;
	eg_refuse_message("rm -rf \x1b[2J /", "r.id", "f.rules:3", "Why.", EG_WHY_NO_TTY, NULL);
	CHECK(errno == 1234);
	dup2(saved, 2);
	close(p[1]);
	char buf[8192];
	ssize_t n = read(p[0], buf, sizeof buf - 1);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(strncmp(buf, "execguard: blocked: rm -rf ?[2J /\n", 34) == 0);
	CHECK(strstr(buf, "  rule: r.id (f.rules:3)\n") && strstr(buf, "  why: Why.\n"));
	CHECK(strstr(buf, "no terminal") && strstr(buf, "ask the user to run the command themselves"));
	CHECK(!strchr(buf, '\x1b'));
}

static bool file_is(const char *path, const char *want)
{
	char buf[256];
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strcmp(buf, want) == 0;
}

/* A killed process whose new parent has not reaped it yet is a zombie. */
static bool gone_or_zombie(pid_t pid)
{
	for (int i = 0; i < 50; i++) {
		char path[64], buf[512];
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "r");
		if (!f)
			return true;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		const char *p = strrchr(buf, ')');
		if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
			return true;
		usleep(20000);
	}
	return false;
}

static void test_subprocess(const char *tmp)
{
	extern char **environ;
	char cmd[1200], out[300];
	snprintf(out, sizeof out, "%s/sub-out", tmp);

	/* waited: the data arrives on stdin, the exit status comes back */
	snprintf(cmd, sizeof cmd, "cat > '%s'; exit 3", out);
	errno = 1234;
	CHECK(eg_subprocess_wait(cmd, "{\"a\":1}\n", 8, environ, 5000) == 3);
	CHECK(errno == 1234);
	CHECK(file_is(out, "{\"a\":1}\n"));
	CHECK(eg_subprocess_wait("exit 0", "", 0, environ, 5000) == 0);
	/* a command that outlives the timeout is killed, with what it started */
	snprintf(cmd, sizeof cmd, "sleep 30 & echo $! > '%s'; wait", out);
	CHECK(eg_subprocess_wait(cmd, "", 0, environ, 300) == -1);
	FILE *f = fopen(out, "r");
	long bg = 0;
	if (f) {
		CHECK(fscanf(f, "%ld", &bg) == 1);
		fclose(f);
	}
	CHECK(bg > 0 && gone_or_zombie((pid_t)bg));
	/* a killed command is not a yes */
	CHECK(eg_subprocess_wait("kill -9 $$", "", 0, environ, 5000) == -1);

	/* detached: not our child any more, and it still gets its stdin */
	snprintf(cmd, sizeof cmd, "sleep 0.2; cat > '%s.tmp' && mv '%s.tmp' '%s'", out, out, out);
	unlink(out);
	CHECK(eg_subprocess_detached(cmd, "alert\n", 6, environ) == 0);
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
	for (int i = 0; i < 100 && access(out, F_OK) != 0; i++)
		usleep(50000);
	CHECK(file_is(out, "alert\n"));
}

/* The approver's JSON request: escapes, invalid UTF-8, a buffer too small. */
static void test_approval_json(void)
{
	struct eg_prompt_req q = {
		.cmdline = "psql -c 'DROP \"t\"'",
		.cwd = "/w\x1b[2J",
		.rule_id = "postgres.drop",
		.reason = "caf\xc3\xa9 \xff",
		.rule_file = "/p/db.rules",
		.rule_line = 12,
		.required = "orders",
		.timeout_sec = 30,
		.pid = 77,
		.progname = "bash",
		.parents = "claude(1)",
	};
	char *argv[] = { "psql", "-c", "DROP \"t\"", NULL };
	struct eg_approval_req r = { .q = &q, .argv = argv, .envp = NULL, .policy = NULL };
	char buf[2048];
	size_t n = eg_approval_json(buf, sizeof buf, &r, "abc");
	CHECK(n > 0 && n == strlen(buf) && buf[n - 1] == '\n');
	CHECK(strstr(buf, "\"command\":\"psql -c 'DROP \\\"t\\\"'\"") != NULL);
	CHECK(strstr(buf, "\"argv\":[\"psql\",\"-c\",\"DROP \\\"t\\\"\"]") != NULL);
	CHECK(strstr(buf, "\"cwd\":\"/w\\u001b[2J\"") != NULL);
	CHECK(strstr(buf, "\"reason\":\"caf\xc3\xa9 \\ufffd\"") != NULL);
	CHECK(strstr(buf, "\"rule_file\":\"/p/db.rules:12\"") != NULL);
	CHECK(strstr(buf, "\"required\":\"orders\",\"pid\":77,") != NULL);
	CHECK(strstr(buf, "\"session\":\"abc\",\"timeout\":30}") != NULL);
	CHECK(eg_approval_json(buf, 40, &r, NULL) == 0); /* cut short: refused, not sent */
	q.rule_file = NULL;
	n = eg_approval_json(buf, sizeof buf, &r, NULL);
	CHECK(strstr(buf, "\"rule_file\":null") != NULL && strstr(buf, "\"session\":null") != NULL);
}

/* The session memory: kinds and keys kept apart, a foreign file ignored. */
static void test_memory(const char *tmp)
{
	eg_guard_cfg.runtime_dir = tmp;
	eg_guard_cfg.session = "unit1";
	char *a[] = { "terraform", "destroy", NULL };
	char *b[] = { "terraform", "destroy", "x", NULL };
	char *c[] = { "terraform", "destroyx", NULL };
	uint64_t ka = eg_memory_key(a, "/w"), kb = eg_memory_key(b, "/w"), kc = eg_memory_key(c, "/w");
	CHECK(ka != kb && ka != kc && ka != eg_memory_key(a, "/v") && ka != eg_memory_key(a, NULL));
	CHECK(!eg_memory_recall(EG_MEMORY_APPROVED, ka, NULL)); /* no file yet */
	eg_memory_store(EG_MEMORY_APPROVED, ka, 600);
	unsigned age = 99;
	CHECK(eg_memory_recall(EG_MEMORY_APPROVED, ka, &age) && age < 99);
	CHECK(!eg_memory_recall(EG_MEMORY_REFUSED, ka, NULL));
	CHECK(!eg_memory_recall(EG_MEMORY_APPROVED, kb, NULL));
	eg_memory_store(EG_MEMORY_REFUSED, kc, 0); /* 0 s: nothing */
	CHECK(!eg_memory_recall(EG_MEMORY_REFUSED, kc, NULL));
	for (uint64_t k = 1; k < 300; k++) /* more than the slots: the oldest go */
		eg_memory_store(EG_MEMORY_REFUSED, k * 7919u, 600);
	CHECK(eg_memory_recall(EG_MEMORY_REFUSED, 299u * 7919u, NULL));

	char path[600];
	snprintf(path, sizeof path, "%s/execguard/memory-unit1", tmp);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	eg_memory_store(EG_MEMORY_APPROVED, ka, 600);
	chmod(path, 0644); /* not private any more: not believed */
	CHECK(!eg_memory_recall(EG_MEMORY_APPROVED, ka, NULL));
	eg_guard_cfg.session = "../x";
	eg_memory_store(EG_MEMORY_APPROVED, ka, 600); /* not a file name: no memory */
	CHECK(!eg_memory_recall(EG_MEMORY_APPROVED, ka, NULL));
	eg_guard_cfg.session = "";
	CHECK(!eg_memory_recall(EG_MEMORY_APPROVED, ka, NULL));
}

/* The capture buffer: a small head in the library's data page, the rest
 * mapped when first needed. Values kept on either side of that boundary
 * read back whole and stay put; when all is used, NULL. (This process may
 * have kept values already: the counts below do not assume an empty
 * buffer.) */
static void test_capture(void)
{
	enum { N = 40, L = 300 };
	const char *kept[N];
	char want[N][L + 1];
	for (int i = 0; i < N; i++) {
		memset(want[i], 'a' + i % 26, L);
		want[i][L] = '\0';
		kept[i] = eg_capture_keep(want[i], L);
		CHECK(kept[i] != NULL);
	}
	for (int i = 0; i < N; i++)
		CHECK(kept[i] && strcmp(kept[i], want[i]) == 0);
	/* 12 KiB kept, past a 1 KiB head: then fill the rest */
	int more = 0;
	while (eg_capture_keep(want[0], L) != NULL && more < 1000)
		more++;
	CHECK(more > 0 && more < 1000);
	for (int i = 0; i < N; i++)
		CHECK(kept[i] && strcmp(kept[i], want[i]) == 0);
}

int main(void)
{
	char tmp[] = "/tmp/eg-unit.XXXXXX";
	if (!mkdtemp(tmp))
		return 99;
	test_env();
	test_env_changed();
	test_path(tmp);
	test_audit();
	test_audit_trail(tmp);
	test_refuse();
	test_subprocess(tmp);
	test_approval_json();
	test_memory(tmp);
	test_capture();
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		failures++;
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
