/* Where audit records go. See audit_emit.h. */
#include "audit_emit.h"
#include "hot_text.h"
#include "hot_str.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"
#include "subprocess.h"

extern char **environ;

struct eg_audit_cfg eg_audit_cfg = {
	.syslog_socket = EG_SYSLOG_DEFAULT_SOCKET,
};

EG_CTOR_TEXT bool eg_session_id_ok(const char *s)
{
	size_t n = 0;
	for (; s && s[n]; n++) {
		char c = s[n];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == ':' || c == '-';
		if (!ok || n >= EG_SESSION_MAX)
			return false;
	}
	return n > 0;
}

/* An EXECGUARD_ variable: from the library's captured values when there are
 * (a handful, already found), else from envp (every entry). */
EG_CTOR_TEXT static const char *our_var_n(char *const *envp, const struct eg_env_ours *ours, const char *name,
    size_t n)
{
	return ours ? eg_env_ours_value_n(ours, name, n) : eg_env_get(envp, name);
}
#define our_var(envp, ours, lit) our_var_n((envp), (ours), EG_CTOR_STR(lit), EG_OURS_NAME_LEN(lit))

/* The settings' part without a policy (the constructor, before the policy
 * is adopted), inline so that the constructor does not reach the hooks'
 * pages for it. */
static inline __attribute__((always_inline)) void apply_no_policy(struct eg_audit_cfg *c)
{
	c->syslog = c->system_wide;
	c->syslog_probe = !c->system_wide && c->ours;
	c->execs = false;
	c->alert = NULL;
}

EG_HOT_TEXT void eg_audit_apply_settings(const struct eg_policy *p)
{
	struct eg_audit_cfg *c = &eg_audit_cfg;
	if (p == NULL) {
		apply_no_policy(c);
		return;
	}
	c->syslog = eg_policy_setting_bool(p, "syslog", c->system_wide);
	c->syslog_probe = !c->system_wide && c->ours && !eg_policy_setting(p, "syslog");
	c->execs = eg_policy_setting_bool(p, "audit-execs", false);
	const char *alert = eg_policy_setting(p, "alert");
	c->alert = (alert && *alert) ? alert : NULL;
}

EG_CTOR_TEXT void eg_audit_configure(const struct eg_policy *p, char *const *envp, bool system_wide,
    const struct eg_env_ours *ours)
{
	struct eg_audit_cfg *c = &eg_audit_cfg;
	memset(c, 0, sizeof *c);
	c->system_wide = system_wide;
	c->ours = ours;
	if (p)
		eg_audit_apply_settings(p);
	else
		apply_no_policy(c);
	c->in_alert = our_var(envp, ours, EG_IN_ALERT_VAR) != NULL;
	const char *sess = our_var(envp, ours, EG_SESSION_VAR);
	if (eg_session_id_ok(sess))
		eg_hs_copy(c->session, sess, eg_hs_len(sess) + 1);
	const char *sock = our_var(envp, ours, EG_SYSLOG_SOCKET_VAR);
	size_t n = sock ? eg_hs_len(sock) : 0;
	if (n == 0 || n >= sizeof c->syslog_socket) {
		sock = EG_CTOR_STR(EG_SYSLOG_DEFAULT_SOCKET);
		n = sizeof EG_SYSLOG_DEFAULT_SOCKET - 1;
	}
	eg_hs_copy(c->syslog_socket, sock, n + 1);
}

/* ------------------------------------------------------ reported once */

/* One flag per sink: a full disk is said once, and so is a missing syslog
 * socket. Per process (a vfork child shares its parent's flags, a forked
 * child starts with a copy). */
static int said_file, said_syslog, said_alert;

static void put(char *buf, size_t *len, size_t cap, const char *s)
{
	while (*s && *len + 1 < cap)
		buf[(*len)++] = *s++;
}

static void report_once(int *flag, const char *what, const char *where, int err)
{
	if (__atomic_exchange_n(flag, 1, __ATOMIC_RELAXED))
		return;
	/* strerror may load a locale's catalogue (malloc, locks); the symbolic
	 * name is a constant string */
	const char *name = strerrorname_np(err);
	char buf[1024];
	size_t len = 0;
	put(buf, &len, sizeof buf, "execguard: ");
	put(buf, &len, sizeof buf, what);
	put(buf, &len, sizeof buf, where);
	put(buf, &len, sizeof buf, " (");
	put(buf, &len, sizeof buf, name ? name : "error");
	put(buf, &len, sizeof buf, "); the decision stands, this is reported once\n");
	ssize_t w;
	do {
		w = write(2, buf, len);
	} while (w < 0 && errno == EINTR);
}

/* ------------------------------------------------------------- alerts */

/*
 * The alert command's environment: the library's own (LD_PRELOAD and our
 * EXECGUARD_* values re-injected, so whatever the alert runs is guarded like
 * any other child) plus EG_IN_ALERT_VAR. Built in an anonymous mapping, not
 * on the stack (the environment may be large) and not with malloc.
 */
static int run_alert(const char *line, unsigned long len)
{
	static char marker[] = EG_IN_ALERT_VAR "=1";
	char *const *base = environ;
	size_t n_env = eg_env_count(base, SIZE_MAX - 1);
	struct eg_env_need need = { .unchanged = true };
	if (eg_audit_cfg.ours)
		eg_env_measure(eg_audit_cfg.ours, base, &need);
	size_t n_ptrs = need.unchanged ? n_env + 1 : need.n_ptrs;
	if (n_ptrs < n_env + 1)
		n_ptrs = n_env + 1;
	n_ptrs += 1; /* the marker */
	size_t n_text = need.unchanged ? 0 : need.n_bytes;
	size_t size = n_ptrs * sizeof(char *) + n_text + 1;
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -1;
	char **ptrs = mem;
	char *text = (char *)mem + n_ptrs * sizeof(char *);
	char *const *env = base;
	if (!need.unchanged)
		env = eg_env_build(eg_audit_cfg.ours, base, &need, ptrs, text);
	if (env == NULL) { /* another thread changed the environment: no alert */
		munmap(mem, size);
		errno = EAGAIN;
		return -1;
	}
	size_t n = 0;
	if (env != ptrs) {
		while (env && env[n] && n + 2 < n_ptrs) {
			ptrs[n] = env[n];
			n++;
		}
	} else {
		while (ptrs[n])
			n++;
	}
	ptrs[n++] = marker;
	ptrs[n] = NULL;
	int rc = eg_subprocess_detached(eg_audit_cfg.alert, line, len, ptrs);
	int e = errno;
	munmap(mem, size);
	errno = e;
	return rc;
}

static bool wants_alert(const struct eg_audit_rec *r)
{
	if (!eg_audit_cfg.alert || eg_audit_cfg.in_alert || !r->outcome)
		return false;
	if (strcmp(r->outcome, "refused") == 0)
		return true;
	/* popen's shell re-records the approval its caller already alerted on */
	return strcmp(r->outcome, "approved") == 0 && r->channel != EG_CHANNEL_PARENT;
}

/* --------------------------------------------------------------- emit */

/* Does /etc/ld.so.preload preload an execguard library (a system-wide
 * install)? Any entry naming libexecguard counts. */
static bool ld_so_preload_names_us(void)
{
	char buf[4096];
	int fd = open("/etc/ld.so.preload", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return false;
	ssize_t n;
	do {
		n = read(fd, buf, sizeof buf);
	} while (n < 0 && errno == EINTR);
	close(fd);
	return n > 0 && memmem(buf, (size_t)n, "libexecguard", 12) != NULL;
}

void eg_audit_emit(const char *path, const struct eg_audit_rec *rec)
{
	int saved = errno;
	if (__atomic_load_n(&eg_audit_cfg.syslog_probe, __ATOMIC_ACQUIRE)) {
		/* racing threads compute the same answer */
		__atomic_store_n(&eg_audit_cfg.syslog, ld_so_preload_names_us(), __ATOMIC_RELAXED);
		__atomic_store_n(&eg_audit_cfg.syslog_probe, false, __ATOMIC_RELEASE);
	}
	bool to_file = path && *path;
	bool alert = wants_alert(rec);
	bool syslog = __atomic_load_n(&eg_audit_cfg.syslog, __ATOMIC_RELAXED);
	if (!to_file && !syslog && !alert)
		goto out;
	struct eg_audit_rec r = *rec;
	if (!r.session && eg_audit_cfg.session[0])
		r.session = eg_audit_cfg.session;
	char line[EG_AUDIT_LINE_MAX];
	unsigned long len = eg_audit_format(line, sizeof line, &r);
	if (len == 0)
		goto out;
	if (to_file) {
		int err = eg_audit_append(path, line, len);
		if (err)
			report_once(&said_file, "cannot write the audit log ", path, err);
	}
	if (syslog) {
		int err = eg_syslog_send(eg_audit_cfg.syslog_socket, &r, line, len);
		if (err)
			report_once(&said_syslog, "cannot send the audit record to syslog at ",
			    eg_audit_cfg.syslog_socket, err);
	}
	if (alert && run_alert(line, len) != 0)
		report_once(&said_alert, "cannot start the alert command ", eg_audit_cfg.alert,
		    errno ? errno : ECHILD);
out:
	errno = saved;
}
