/*
 * The decision flow shared by the hooks and `execguard run`. See guard.h.
 *
 *   eg_check_may_apply (hash lookup) -- false --> proceed untouched
 *   eg_check (scratch on the stack)
 *     NONE / ALLOW          --> proceed
 *     LOG                   --> audit, proceed
 *     CONFIRM               --> ask the human through the configured
 *                               channel (approve.c: the terminal, an
 *                               approver program, the session's memory):
 *                               approved --> audit, proceed;
 *                               anything else --> refuse
 *     DENY, or a failure    --> refuse
 *   refuse = one message on stderr (refuse.c), an audit record, and the
 *   caller fails the call with EACCES.
 *
 * The expensive part (192 KiB of scratch space, the cwd, the message) lives
 * in decide_slow(), a separate frame entered only when a rule may apply, so
 * an exec that no rule names touches almost no stack.
 */
#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "approve.h"
#include "audit.h"
#include "audit_emit.h"
#include "proc_stat.h"
#include "prompt.h"
#include "refuse.h"
#include "fmt.h"
#include "hot_text.h"
#include "hot_str.h"
#include "errno_fast.h"
#include "sys_direct.h"

extern char **environ;

/* In .bss (no initializer): the constructor writes its few fields on the
 * page the loader already wrote when it cleared the start of .bss, instead
 * of copying in a page of .data. */
struct eg_guard_config eg_guard_cfg;

/* Storage for the strings eg_guard_cfg and the preload library's captured
 * environment point to, filled front to back and never freed. The head is
 * small enough that the library's writable data stays within the one page
 * the loader writes anyway (no page of .bss mapped apart, no page fault in
 * every process); what does not fit (long paths, a large approver
 * environment, the CLI filling the configuration more than once) goes to
 * an area mapped when first needed, large enough for every value at its
 * longest, a few times over. */
#define CAPTURE_HEAD 1024u
#define CAPTURE_MORE 65536u
static struct {
	size_t used, more_used;
	char *more;
	char head[CAPTURE_HEAD];
} capture;

/* n bytes of capture storage; NULL when all is used */
EG_CTOR_TEXT static char *capture_room(size_t n)
{
	if (n <= sizeof capture.head - capture.used) {
		char *d = capture.head + capture.used;
		capture.used += n;
		return d;
	}
	if (capture.more == NULL) {
		long m = eg_sys_mmap(NULL, CAPTURE_MORE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m < 0 && m >= -4095)
			return NULL;
		capture.more = (char *)m;
	}
	if (n > CAPTURE_MORE - capture.more_used)
		return NULL;
	char *d = capture.more + capture.more_used;
	capture.more_used += n;
	return d;
}

/* a (la bytes) then b (lb bytes), NUL-terminated */
EG_CTOR_TEXT static const char *capture_keep2(const char *a, size_t la, const char *b, size_t lb)
{
	if (la + lb >= CAPTURE_MORE)
		return NULL;
	char *d = capture_room(la + lb + 1);
	if (d == NULL)
		return NULL;
	eg_hs_copy(d, a, la);
	eg_hs_copy(d + la, b, lb);
	d[la + lb] = '\0';
	return d;
}

EG_CTOR_TEXT const char *eg_capture_keep(const char *s, size_t n)
{
	return capture_keep2(s, n, "", 0);
}

/* ------------------------------------------------------------------ helpers */

EG_HOT_TEXT const char *eg_env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

/* If e is "NAME=value" (name given with its '='), the first such entry
 * sets *slot to the value. */
#define SCAN_TAKE(e, slot, name) do { \
		if (*(slot) == NULL && eg_hs_prefix((e), EG_CTOR_STR(name))) \
			*(slot) = (e) + sizeof name - 1; \
	} while (0)

/* One pass, most entries rejected by their first byte, ours by the first
 * byte after "EXECGUARD_": this runs in every guarded process. */
EG_CTOR_TEXT void eg_env_scan(char *const *envp, struct eg_env_scan *v)
{
	*v = (struct eg_env_scan){ 0 };
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *e = envp[i];
		switch (e[0]) {
		case 'E':
			if (!eg_env_is_ours_var(e)) /* compared with immediates */
				break;
			e += sizeof "EXECGUARD_" - 1; /* the names below follow it */
			switch (e[0]) {
			case 'P':
				SCAN_TAKE(e, &v->policy, "POLICY=");
				SCAN_TAKE(e, &v->prompt_timeout, "PROMPT_TIMEOUT=");
				break;
			case 'S':
				SCAN_TAKE(e, &v->strict, "STRICT=");
				SCAN_TAKE(e, &v->session, "SESSION=");
				break;
			case 'A':
				SCAN_TAKE(e, &v->approved, "APPROVED=");
				SCAN_TAKE(e, &v->audit_log, "AUDIT_LOG=");
				SCAN_TAKE(e, &v->approver_env, "APPROVER_ENV=");
				break;
			case 'B':
				SCAN_TAKE(e, &v->broker, "BROKER=");
				break;
			default:
				break;
			}
			break;
		case 'H':
			SCAN_TAKE(e, &v->home, "HOME=");
			break;
		case 'L':
			SCAN_TAKE(e, &v->ld_preload, "LD_PRELOAD=");
			break;
		case 'X':
			SCAN_TAKE(e, &v->state_home, "XDG_STATE_HOME=");
			SCAN_TAKE(e, &v->runtime_dir, "XDG_RUNTIME_DIR=");
			break;
		default:
			break;
		}
	}
}

/* a + b kept, if shorter than `limit` bytes in all; else "" */
__attribute__((noinline, noclone)) EG_CTOR_TEXT static const char *keep_joined(const char *a, const char *b, size_t limit)
{
	size_t la = eg_hs_len(a), lb = eg_hs_len(b);
	if (la + lb == 0 || la + lb >= limit)
		return EG_CTOR_STR("");
	const char *k = capture_keep2(a, la, b, lb);
	return k ? k : EG_CTOR_STR("");
}

EG_CTOR_TEXT void eg_guard_config_from_scan(const struct eg_env_scan *v)
{
	unsigned t = eg_parse_uint(v->prompt_timeout, EG_TIMEOUT_MAX);
	eg_guard_cfg.prompt_timeout = t ? t : EG_GUARD_DEFAULT_TIMEOUT;

	if (v->audit_log && *v->audit_log)
		eg_guard_cfg.audit_path = keep_joined(v->audit_log, EG_CTOR_STR(""), EG_GUARD_PATH_MAX);
	else if (v->state_home && v->state_home[0] == '/')
		eg_guard_cfg.audit_path = keep_joined(v->state_home, EG_CTOR_STR("/execguard/audit.jsonl"),
		    EG_GUARD_PATH_MAX);
	else if (v->home && v->home[0] == '/')
		eg_guard_cfg.audit_path = keep_joined(v->home,
		    EG_CTOR_STR("/.local/state/execguard/audit.jsonl"),
		    EG_GUARD_PATH_MAX);
	else
		eg_guard_cfg.audit_path = EG_CTOR_STR("");

	eg_guard_cfg.session = keep_joined(v->session ? v->session : EG_CTOR_STR(""), EG_CTOR_STR(""), EG_GUARD_SESSION_MAX + 1);
	eg_guard_cfg.broker = keep_joined(v->broker ? v->broker : EG_CTOR_STR(""), EG_CTOR_STR(""), EG_GUARD_PATH_MAX + 32);
	eg_guard_cfg.runtime_dir = keep_joined(
	    v->runtime_dir && v->runtime_dir[0] == '/' ? v->runtime_dir : EG_CTOR_STR(""), EG_CTOR_STR(""), EG_GUARD_PATH_MAX);

	/* "A=1<US>B=2" -> "A=1\0B=2\0\0" (US = 0x1f, so the value is one
	 * line); too long: none (the approver then
	 * gets nothing of the desktop, and a dialog approver says no) */
	const char *ae = v->approver_env;
	eg_guard_cfg.approver_env_set = ae != NULL;
	eg_guard_cfg.approver_env = EG_CTOR_STR("");
	size_t n = ae ? eg_hs_len(ae) : 0;
	if (ae && n <= EG_GUARD_APPROVER_ENV_MAX) {
		char *dst = (char *)eg_capture_keep(ae, n + 1); /* the text, then two NULs */
		if (dst) {
			for (size_t i = 0; i < n; i++)
				if (dst[i] == '\x1f')
					dst[i] = '\0';
			eg_guard_cfg.approver_env = dst;
		}
	}
}

void eg_guard_config_from_env(char *const *envp)
{
	struct eg_env_scan v;
	eg_env_scan(envp, &v);
	eg_guard_config_from_scan(&v);
}

static const char *route_name(enum eg_guard_route r)
{
	switch (r) {
	case EG_ROUTE_EXEC: return "exec";
	case EG_ROUTE_SPAWN: return "spawn";
	case EG_ROUTE_SYSTEM: return "system";
	case EG_ROUTE_POPEN: return "popen";
	case EG_ROUTE_WORDEXP: return "wordexp";
	case EG_ROUTE_RUN: return "run";
	}
	return "exec";
}

/* Read a small file into buf (NUL-terminated); -1 on error. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	ssize_t n;
	do {
		n = read(fd, buf, size - 1);
	} while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}


/* /proc/self/comm without the newline. */
static void self_comm(char *out, size_t size)
{
	if (read_small("/proc/self/comm", out, size) < 0) {
		out[0] = '\0';
		return;
	}
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
}

/* "bash(123) < claude(100)": up to three ancestors, from /proc/PID/stat. */
static void parent_chain(char *out, size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	pid_t pid = getppid();
	for (int depth = 0; depth < 3 && pid > 1; depth++) {
		char comm[64];
		pid_t ppid = 0;
		if (eg_proc_stat(pid, comm, sizeof comm, &ppid) != 0)
			break;
		char num[EG_FMT_UINT_MAX];
		eg_fmt_uint(num, (unsigned long)pid);
		size_t clen = strlen(comm), nlen = strlen(num);
		size_t need = (len ? 3 : 0) + clen + nlen + 3;
		if (len + need >= size)
			break;
		if (len) {
			memcpy(out + len, " < ", 3);
			len += 3;
		}
		memcpy(out + len, comm, clen);
		len += clen;
		out[len++] = '(';
		memcpy(out + len, num, nlen);
		len += nlen;
		out[len++] = ')';
		out[len] = '\0';
		pid = ppid;
	}
}

/* ------------------------------------------------- repeated refusals
 *
 * Python's subprocess and libuv try every PATH directory with execve, and
 * glibc's execvp goes on after EACCES. When the same process tries the same
 * argv again within a moment of a refusal, it is refused again without a
 * second question or message. Lock-free: a few slots written with relaxed
 * atomics; a lost race only costs one more question.
 */
#define RECENT_SLOTS 8
#define RECENT_NS (2ull * 1000000000ull)

struct recent {
	uint64_t key;  /* argv hash */
	uint64_t when; /* CLOCK_MONOTONIC ns */
	int32_t pid;
};
static struct recent recent_tab[RECENT_SLOTS];
static unsigned recent_next;

static uint64_t argv_hash(char *const *argv)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; argv && argv[i]; i++) {
		for (const unsigned char *s = (const unsigned char *)argv[i]; *s; s++) {
			h ^= *s;
			h *= 1099511628211ull;
		}
		h ^= 0x100;
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool recently_refused(uint64_t key, int32_t pid)
{
	uint64_t now = now_ns();
	for (int i = 0; i < RECENT_SLOTS; i++) {
		struct recent *r = &recent_tab[i];
		if (__atomic_load_n(&r->pid, __ATOMIC_RELAXED) == pid &&
		    __atomic_load_n(&r->key, __ATOMIC_RELAXED) == key &&
		    now - __atomic_load_n(&r->when, __ATOMIC_RELAXED) < RECENT_NS)
			return true;
	}
	return false;
}

static void remember_refusal(uint64_t key, int32_t pid)
{
	unsigned i = __atomic_fetch_add(&recent_next, 1, __ATOMIC_RELAXED) % RECENT_SLOTS;
	struct recent *r = &recent_tab[i];
	__atomic_store_n(&r->pid, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->key, key, __ATOMIC_RELAXED);
	__atomic_store_n(&r->when, now_ns(), __ATOMIC_RELAXED);
	__atomic_store_n(&r->pid, pid, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------- the flow */

static enum eg_refuse_why why_of_fail(enum eg_fail f)
{
	switch (f) {
	case EG_FAIL_TOO_BIG: return EG_WHY_TOO_BIG;
	case EG_FAIL_REGEX: return EG_WHY_REGEX;
	case EG_FAIL_NO_POLICY: return EG_WHY_NO_POLICY;
	case EG_FAIL_NONE: break;
	}
	return EG_WHY_TOO_BIG;
}

struct ctx {
	const struct eg_guard_req *req;
	const char *cwd;
	const char *cmdline;
	const char *rule_id;
	const char *reason;
	const char *rule_file;
	unsigned rule_line;
	char where[EG_GUARD_PATH_MAX + 16];
	const char *action; /* for the audit */
	enum eg_audit_channel channel; /* who answered (audit); NONE until asked */
};

static void audit(const struct ctx *c, const char *outcome, const char *why)
{
	char names[EG_AUDIT_PARENTS_MAX * 17];
	const char *parents[EG_AUDIT_PARENTS_MAX + 1];
	eg_audit_parents(names, sizeof names, parents, EG_AUDIT_PARENTS_MAX);
	struct eg_audit_rec r = {
		.argv = c->req->argv,
		.exe = c->req->exe_path,
		.cwd = c->cwd,
		.rule_id = c->rule_id,
		.action = c->action,
		.outcome = outcome,
		.why = why,
		.route = route_name(c->req->route),
		.rule_file = c->rule_file,
		.rule_line = c->rule_line,
		.channel = c->channel,
		.parents = parents,
	};
	eg_audit_emit(eg_guard_cfg.audit_path, &r);
}

/* `set audit-execs on`: a record for an exec no rule decided. Out of line,
 * so the fast path's frame stays small when the setting is off. */
__attribute__((noinline)) static void audit_exec(const struct eg_guard_req *req)
{
	char cwd_buf[PATH_MAX];
	struct ctx c;
	memset(&c, 0, sizeof c);
	c.req = req;
	c.cwd = getcwd(cwd_buf, sizeof cwd_buf);
	c.action = "exec";
	audit(&c, "ran", NULL);
}

static enum eg_guard_verdict refuse_detail(const struct ctx *c, enum eg_refuse_why why,
    const char *detail, uint64_t key, int32_t pid)
{
	if (why == EG_WHY_NO_POLICY && eg_guard_cfg.load_error[0])
		detail = eg_guard_cfg.load_error;
	eg_refuse_message(c->cmdline, c->rule_id, c->where[0] ? c->where : NULL, c->reason, why,
	    detail);
	audit(c, "refused", eg_refuse_why_word(why));
	remember_refusal(key, pid);
	return EG_GUARD_REFUSED;
}

static enum eg_guard_verdict refuse(const struct ctx *c, enum eg_refuse_why why,
    uint64_t key, int32_t pid)
{
	return refuse_detail(c, why, NULL, key, pid);
}

/* Not executable at all: let the caller fail as the real call would. */
static bool not_executable(const struct eg_guard_req *req)
{
	if (req->missing_errno) {
		errno = req->missing_errno;
		return true;
	}
	if (!(req->flags & EG_GUARD_CHECK_EXE))
		return false;
	if (req->check_path)
		return faccessat(req->check_dirfd, req->check_path, X_OK, AT_EACCESS) != 0;
	if (!req->exe_path)
		return false;
	return faccessat(AT_FDCWD, req->exe_path, X_OK, AT_EACCESS) != 0;
}

static size_t count_argv(char *const *argv)
{
	size_t n = 0;
	while (argv && argv[n] && n < 65536)
		n++;
	return n;
}

/*
 * The check's scratch space (192 KiB) comes from mmap, not the stack: a hook
 * can run in a thread with a 64 KiB stack, and mmap is neither malloc nor a
 * lock. One is kept for the process's life once made, and made before the
 * first fork (eg_guard_scratch_prepare, from the fork hook) so that fork
 * children inherit it: mapping and unmapping 192 KiB is two system calls
 * and a TLB flush in every check of a program the rules name, in a fork
 * child as much as anywhere. Its pages stay the process's (about 16 KiB
 * written by a check). A check that finds it in use (another thread, an exec
 * from a signal handler that interrupted a check, a fork child of a process
 * that was checking in another thread) maps one of its own and unmaps it
 * before the real call, which matters in a vfork child: that mapping would
 * otherwise stay in the parent's address space (the kept one is the
 * parent's, and stays its).
 */
struct scratch_area {
	/* A check is using the kept one. Here, on the page of the check's
	 * first writes, not on the library's page of data: a fork child's
	 * check would copy that page only to set this. */
	int busy;
	_Alignas(64) struct eg_check_scratch check;
};

static struct {
	struct scratch_area *mem; /* NULL until made */
} kept_scratch;

EG_HOT_TEXT static struct scratch_area *scratch_map(void)
{
	void *m = mmap(NULL, sizeof(struct scratch_area), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

EG_HOT_TEXT void eg_guard_scratch_prepare(void)
{
	if (__atomic_load_n(&kept_scratch.mem, __ATOMIC_ACQUIRE) != NULL)
		return;
	int *err = eg_errno_loc(), saved = *err;
	struct scratch_area *m = scratch_map(), *expected = NULL;
	if (m != NULL && !__atomic_compare_exchange_n(&kept_scratch.mem, &expected, m, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		munmap(m, sizeof *m); /* another thread's is kept */
	eg_errno_restore(err, saved);
}

EG_HOT_TEXT static void check_off_stack(const struct eg_check_input *in, struct eg_check_result *res)
{
	eg_guard_scratch_prepare();
	struct scratch_area *scratch = __atomic_load_n(&kept_scratch.mem, __ATOMIC_ACQUIRE);
	int idle = 0;
	bool own = scratch == NULL || !__atomic_compare_exchange_n(&scratch->busy, &idle, 1, false,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
	if (own && (scratch = scratch_map()) == NULL) {
		res->action = EG_ACT_DENY;
		res->fail = EG_FAIL_TOO_BIG; /* no memory to check in: fail closed */
		return;
	}
	eg_check(eg_guard_cfg.policy, in, &scratch->check, res);
	if (own)
		munmap(scratch, sizeof *scratch);
	else
		__atomic_store_n(&scratch->busy, 0, __ATOMIC_RELEASE);
}

/* The confirm: ask through the configured channel (approve.c), then
 * record and answer. Kept apart from the check so the approval channels
 * stay in one place. */
static enum eg_guard_verdict ask_human(const struct ctx *c, const struct eg_check_result *res,
    uint64_t key, int32_t pid)
{
	char comm[64], parents[512];
	self_comm(comm, sizeof comm);
	parent_chain(parents, sizeof parents);
	struct eg_prompt_req pr = {
		.cmdline = c->cmdline,
		.cwd = c->cwd ? c->cwd : "?",
		.rule_id = c->rule_id ? c->rule_id : "?",
		.reason = c->reason ? c->reason : "",
		.rule_file = c->rule_file,
		.rule_line = c->rule_line,
		.required = (res->severity == EG_SEV_CRITICAL && res->confirm_word[0])
		    ? res->confirm_word
		    : "yes",
		.timeout_sec = eg_guard_cfg.prompt_timeout ? eg_guard_cfg.prompt_timeout
							     : EG_GUARD_DEFAULT_TIMEOUT,
		.pid = getpid(),
		.progname = comm,
		.parents = parents,
	};
	struct eg_approval_req ar = {
		.q = &pr,
		.argv = c->req->argv,
		.envp = environ,
		.policy = eg_guard_cfg.policy,
	};
	struct eg_approval a;
	eg_approval_ask(&ar, &a);
	/* the audit names who answered; nobody did when no channel reached a human */
	struct ctx answered = *c;
	bool nobody = !a.approved && (a.why == EG_WHY_NO_TTY || a.why == EG_WHY_BACKGROUND ||
					 a.why == EG_WHY_PROMPT_ERROR || a.why == EG_WHY_NO_BROKER ||
					 a.why == EG_WHY_APPROVER_FAILED);
	answered.channel = nobody ? EG_CHANNEL_NONE : a.channel;
	if (a.approved) {
		audit(&answered, "approved", a.channel == EG_CHANNEL_MEMORY ? "allow-once" : NULL);
		if (c->req->approved)
			*c->req->approved = true;
		return EG_GUARD_GO;
	}
	if (a.why == EG_WHY_COOLDOWN) {
		char ago[64] = "refused ";
		eg_fmt_uint(ago + strlen(ago), a.age_sec);
		strlcat(ago, " s ago", sizeof ago);
		return refuse_detail(&answered, a.why, ago, key, pid);
	}
	return refuse(&answered, a.why, key, pid);
}

/* Something decides (log, confirm, deny or a failure): gather what the
 * message, the prompt and the audit show, and act. Out of line, with its
 * buffers: the allow path's frame, below which every check runs, stays
 * small (each page of stack a process reaches first is a page fault). */
__attribute__((noinline)) static enum eg_guard_verdict decided(const struct eg_guard_req *req,
    const struct eg_check_result *res)
{
	char top_cmd[EG_CMDLINE_MAX];
	char cwd_buf[PATH_MAX];
	struct ctx c;

	memset(&c, 0, sizeof c);
	c.req = req;
	c.cwd = getcwd(cwd_buf, sizeof cwd_buf);
	size_t n = count_argv(req->argv);
	eg_quote_argv(top_cmd, sizeof top_cmd, (const char *const *)req->argv, n);
	c.cmdline = (!(req->flags & EG_GUARD_SHOW_TOP) && res->fail == EG_FAIL_NONE && res->cmdline[0])
	    ? res->cmdline
	    : top_cmd;
	struct eg_rule_info info;
	if (res->rule != EG_NO_RULE && eg_guard_cfg.policy &&
	    eg_policy_rule_info(eg_guard_cfg.policy, res->rule, &info) == 0) {
		c.rule_id = info.id;
		c.reason = info.reason;
		c.rule_file = info.file;
		c.rule_line = info.line;
		if (info.file) {
			char num[24];
			eg_fmt_uint(num, info.line);
			size_t lf = strlen(info.file);
			if (lf + strlen(num) + 2 <= sizeof c.where) {
				memcpy(c.where, info.file, lf);
				c.where[lf] = ':';
				strcpy(c.where + lf + 1, num);
			}
		}
	}
	c.action = res->fail != EG_FAIL_NONE ? "fail" : eg_action_name(res->action);

	if (res->fail == EG_FAIL_NONE && res->action == EG_ACT_LOG) {
		if (!(req->flags & EG_GUARD_PRECHECK))
			audit(&c, "ran", NULL);
		return EG_GUARD_GO;
	}

	/* Confirm, deny or fail: nothing is asked or said for a file that
	 * cannot be executed anyway. */
	if (not_executable(req))
		return EG_GUARD_NOEXEC;

	int32_t pid = (int32_t)getpid();
	uint64_t key = argv_hash(req->argv);
	if (recently_refused(key, pid))
		return EG_GUARD_REFUSED;

	if (res->fail != EG_FAIL_NONE)
		return refuse(&c, why_of_fail(res->fail), key, pid);
	if (res->action == EG_ACT_DENY)
		return refuse(&c, EG_WHY_DENY, key, pid);

	/* confirm */
	if (eg_guard_cfg.approved_by_parent) {
		c.channel = EG_CHANNEL_PARENT;
		audit(&c, "approved", "approved-in-parent");
		if (req->approved)
			*req->approved = true;
		return EG_GUARD_GO;
	}
	if (req->flags & EG_GUARD_NO_ASK) {
		enum eg_prompt_outcome o = eg_approval_reachable(eg_guard_cfg.policy);
		if (o == EG_PROMPT_YES)
			return EG_GUARD_DEFER;
		return refuse(&c, o == EG_PROMPT_ERROR ? EG_WHY_NO_BROKER
			: o == EG_PROMPT_BACKGROUND  ? EG_WHY_BACKGROUND
						     : EG_WHY_NO_TTY, key, pid);
	}
	return ask_human(&c, res, key, pid);
}

__attribute__((noinline)) EG_HOT_TEXT static enum eg_guard_verdict decide_slow(const struct eg_guard_req *req)
{
	struct eg_check_result res;

	memset(&res, 0, sizeof res);
	res.rule = EG_NO_RULE;
	res.cmd_index = -1;
	if (req->pre_fail != EG_FAIL_NONE) {
		res.fail = req->pre_fail;
	} else if (!eg_guard_cfg.policy) {
		res.fail = eg_guard_cfg.load_fail != EG_FAIL_NONE ? eg_guard_cfg.load_fail
								   : EG_FAIL_NO_POLICY;
	} else {
		struct eg_check_input in = {
			.argv = req->argv,
			.envp = req->envp,
			.exe_path = req->exe_path,
			.flags = req->check_flags | EG_CHECK_CWD_LAZY,
		};
		check_off_stack(&in, &res);
	}

	if (res.fail == EG_FAIL_NONE &&
	    (res.action == EG_ACT_NONE || res.action == EG_ACT_ALLOW)) {
		if (eg_audit_cfg.execs)
			audit_exec(req);
		return EG_GUARD_GO;
	}
	return decided(req, &res);
}

EG_HOT_TEXT enum eg_guard_verdict eg_guard_decide(const struct eg_guard_req *req)
{
	if (eg_guard_cfg.strict_supervised)
		return EG_GUARD_GO; /* the supervisor decides this exec itself */
	int *err = eg_errno_loc(), saved = *err;
	const struct eg_policy *p = __atomic_load_n(&eg_guard_cfg.policy, __ATOMIC_ACQUIRE);
	if (req->pre_fail == EG_FAIL_NONE && p) {
		const char *argv0 = (req->argv && req->argv[0]) ? req->argv[0] : "";
		if (!eg_check_may_apply(p, argv0, req->exe_path)) {
			if (req->unnamed)
				*req->unnamed = true;
			if (__builtin_expect(eg_audit_cfg.execs, 0)) {
				audit_exec(req);
				eg_errno_restore(err, saved);
			}
			return EG_GUARD_GO;
		}
	}
	enum eg_guard_verdict v = decide_slow(req);
	if (v != EG_GUARD_NOEXEC)
		eg_errno_restore(err, saved);
	return v;
}
