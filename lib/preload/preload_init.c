/*
 * The preload library's constructor.
 *
 * Once, before main (or before the first hook, if an earlier constructor
 * execs): resolve every real function with dlsym(RTLD_NEXT) (dlvsym for the
 * two versions of posix_spawn/posix_spawnp), find our own path with dladdr,
 * remember our LD_PRELOAD entry and our EXECGUARD_* values for re-injection,
 * and load the policy:
 *   - EXECGUARD_POLICY set: map that policy block (eg_policy_map_file); if it
 *     cannot be used, fail closed (every exec refused, with a message saying
 *     to restart `execguard run`) rather than fall back to other rules;
 *   - otherwise the default rule files (eg_policy_load_default: parsing only,
 *     no regex is compiled here);
 *   - neither works: EG_FAIL_NO_POLICY, every exec refused (fail closed).
 * Prints nothing, leaves the environment and the file descriptors as they
 * were (the policy file is mapped and closed by eg_policy_map_file).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_emit.h"
#include "execguard.h"
#include "guard.h"
#include "preload.h"
#include "strict_ping.h"

extern char **environ;

EG_HIDDEN struct eg_real eg_real;
EG_HIDDEN struct eg_env_ours eg_ours;
EG_HIDDEN char eg_self_path[4096];

static int init_state; /* 0 not yet, 1 running, 2 done */

static void *real_sym(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static void *real_vsym(const char *name, const char *version)
{
	void *p = dlvsym(RTLD_NEXT, name, version);
	return p ? p : dlsym(RTLD_NEXT, name);
}

static void resolve_real(void)
{
	eg_real.execve = (int (*)(const char *, char *const[], char *const[]))real_sym("execve");
	eg_real.execveat = (int (*)(int, const char *, char *const[], char *const[], int))real_sym(
	    "execveat");
	eg_real.fexecve = (int (*)(int, char *const[], char *const[]))real_sym("fexecve");
	eg_real.execvpe = (int (*)(const char *, char *const[], char *const[]))real_sym("execvpe");
	eg_real.posix_spawn = (eg_posix_spawn_fn)real_vsym("posix_spawn", "GLIBC_2.15");
	eg_real.posix_spawn_compat = (eg_posix_spawn_fn)real_vsym("posix_spawn", "GLIBC_2.2.5");
	eg_real.posix_spawnp = (eg_posix_spawn_fn)real_vsym("posix_spawnp", "GLIBC_2.15");
	eg_real.posix_spawnp_compat = (eg_posix_spawn_fn)real_vsym("posix_spawnp", "GLIBC_2.2.5");
	eg_real.system = (int (*)(const char *))real_sym("system");
	eg_real.popen = (FILE * (*)(const char *, const char *)) real_sym("popen");
	eg_real.wordexp = (int (*)(const char *, wordexp_t *, int))real_sym("wordexp");
}

/* Our path with symlinks resolved, computed only when an entry in
 * LD_PRELOAD or /etc/ld.so.preload is not literally our path (realpath costs
 * a readlink per path component, in every process). */
static char self_real[PATH_MAX];

static const char *self_resolved(void)
{
	if (self_real[0] == '\0' && !realpath(eg_self_path, self_real))
		snprintf(self_real, sizeof self_real, "%s", eg_self_path);
	return self_real;
}

/* Is the LD_PRELOAD-style token t (n bytes) this library? */
static bool token_matches(const char *t, size_t n, const char *self_base)
{
	char tok[PATH_MAX];
	if (n == 0 || n >= sizeof tok)
		return false;
	memcpy(tok, t, n);
	tok[n] = '\0';
	if (!memchr(tok, '/', n))
		return strcmp(tok, self_base) == 0; /* a bare name ld.so searched for */
	if (strcmp(tok, eg_self_path) == 0)
		return true;
	char real[PATH_MAX];
	return realpath(tok, real) && strcmp(real, self_resolved()) == 0;
}

/* Find our entry in a list of paths separated by blanks or colons (the
 * LD_PRELOAD value or /etc/ld.so.preload). Copies it into out. */
static bool find_entry(const char *list, const char *self_base, char *out,
    size_t size)
{
	const char *v = list;
	while (*v) {
		while (*v == ':' || *v == ' ' || *v == '\t' || *v == '\n')
			v++;
		const char *t = v;
		while (*v && *v != ':' && *v != ' ' && *v != '\t' && *v != '\n')
			v++;
		size_t n = (size_t)(v - t);
		if (n && token_matches(t, n, self_base)) {
			if (n >= size)
				return false;
			memcpy(out, t, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

static bool in_ld_so_preload(const char *self_base)
{
	char buf[8192];
	int fd = open("/etc/ld.so.preload", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char entry[PATH_MAX];
	return find_entry(buf, self_base, entry, sizeof entry);
}

static void set_load_error(const char *a, const char *b, const char *c)
{
	snprintf(eg_guard_cfg.load_error, sizeof eg_guard_cfg.load_error, "%s%s%s", a, b ? b : "",
	    c ? c : "");
}

static void load_policy(void)
{
	eg_guard_cfg.policy = NULL;
	eg_guard_cfg.load_fail = EG_FAIL_NO_POLICY;
	eg_guard_cfg.load_error[0] = '\0';

	if (eg_ours.overflow) {
		set_load_error("too many or too long EXECGUARD_ variables in the environment", NULL,
		    NULL);
		return;
	}
	const char *pol = eg_env_get(environ, "EXECGUARD_POLICY");
	if (pol && *pol) {
		struct eg_policy *p = eg_policy_map_file(pol);
		if (!p) {
			set_load_error("the policy file EXECGUARD_POLICY=", pol,
			    " is missing or damaged; the user must restart `execguard run`");
			return;
		}
		eg_guard_cfg.policy = p;
		eg_guard_cfg.load_fail = EG_FAIL_NONE;
		return;
	}
	struct eg_diags d = { 0 };
	struct eg_policy *p = eg_policy_load_default(eg_self_path[0] ? eg_self_path : NULL, environ, &d);
	if (p) {
		eg_guard_cfg.policy = p;
		eg_guard_cfg.load_fail = EG_FAIL_NONE;
	} else if (d.n > 0) {
		const struct eg_diag *g = &d.v[0];
		snprintf(eg_guard_cfg.load_error, sizeof eg_guard_cfg.load_error, "%s%s%u%s%u%s%s",
		    g->file ? g->file : "", g->file ? ":" : "", g->line, ":", g->col, ": ",
		    g->msg ? g->msg : "error");
		if (!g->file)
			snprintf(eg_guard_cfg.load_error, sizeof eg_guard_cfg.load_error, "%s",
			    g->msg ? g->msg : "error");
	} else {
		set_load_error("the rule files could not be loaded", NULL, NULL);
	}
	eg_diags_free(&d);
}

/*
 * Are we the shell our popen started after the human said yes in the
 * caller? The marker must name our parent, and our own argv must be
 * `sh -c COMMAND` with the approved command's hash (read from
 * /proc/self/cmdline, only when the marker is there at all).
 */
static bool approved_by_parent(void)
{
	const char *v = eg_env_get(environ, EG_APPROVED_VAR);
	if (v == NULL)
		return false;
	unsigned long pid = 0;
	const char *p = v;
	while (*p >= '0' && *p <= '9' && pid < 0x7fffffffUL)
		pid = pid * 10 + (unsigned long)(*p++ - '0');
	if (*p++ != ':' || p == v + 1 || pid != (unsigned long)getppid())
		return false;
	uint64_t want = 0;
	for (int i = 0; i < 16; i++, p++) {
		int d = (*p >= '0' && *p <= '9') ? *p - '0' : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10 : -1;
		if (d < 0)
			return false;
		want = want << 4 | (uint64_t)d;
	}
	if (*p != '\0')
		return false;

	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char buf[4096];
	unsigned field = 0;
	size_t in_field = 0;
	bool dash_c = false, ended = false;
	uint64_t h = EG_APPROVED_HASH_INIT;
	ssize_t n;
	while (!ended && (n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n && !ended; i++) {
			char c = buf[i];
			if (field == 1)
				dash_c = (in_field == 0 && c == '-') || (in_field == 1 && c == 'c' && dash_c) ||
				    (in_field == 2 && c == '\0' && dash_c);
			if (field == 2 && c != '\0')
				h = eg_approved_hash(h, &c, 1);
			if (c == '\0') {
				ended = field == 2;
				field++;
				in_field = 0;
			} else {
				in_field++;
			}
		}
	}
	close(fd);
	return ended && dash_c && h == want;
}

/*
 * Is this process under `execguard run --strict`? That command sets
 * EG_STRICT_VAR for its tree, so only a process that has it asks the
 * supervisor (strict_ping.h): the answer cannot be forged by the variable,
 * nor by some other seccomp filter, and other processes pay nothing.
 */
static bool strict_supervised(void)
{
	const char *v = eg_env_get(environ, EG_STRICT_VAR);
	return v != NULL && strcmp(v, "1") == 0 && eg_strict_ping();
}

static void init(void)
{
	int saved = errno;
	init_state = 1;
	resolve_real();

	/* Our own path, absolute. */
	Dl_info info;
	if (dladdr((void *)&init_state, &info) && info.dli_fname && info.dli_fname[0]) {
		if (info.dli_fname[0] == '/')
			snprintf(eg_self_path, sizeof eg_self_path, "%s", info.dli_fname);
		else if (realpath(info.dli_fname, self_real))
			snprintf(eg_self_path, sizeof eg_self_path, "%s", self_real);
	}
	const char *self_base = strrchr(eg_self_path, '/');
	self_base = self_base ? self_base + 1 : eg_self_path;

	/* How were we loaded? LD_PRELOAD: re-inject it. /etc/ld.so.preload:
	 * every process loads us anyway; leave LD_PRELOAD alone. Otherwise
	 * (dlopen, LD_AUDIT...): inject our path so children stay guarded. */
	char entry[PATH_MAX];
	const char *preload_entry = NULL;
	const char *ldp = eg_env_get(environ, "LD_PRELOAD");
	if (eg_self_path[0]) {
		if (ldp && find_entry(ldp, self_base, entry, sizeof entry))
			preload_entry = entry[0] == '/' ? entry : eg_self_path;
		else if (!in_ld_so_preload(self_base))
			preload_entry = eg_self_path;
	}
	eg_guard_config_from_env(environ);
	eg_env_ours_capture(&eg_ours, environ, eg_self_path[0] ? eg_self_path : NULL, preload_entry,
	    eg_guard_cfg.prompt_timeout);

	eg_guard_cfg.strict_supervised = strict_supervised();
	if (!eg_guard_cfg.strict_supervised) { /* the supervisor has the rules */
		load_policy();
		/* `set prompt-timeout` replaces the default; the variable still wins */
		unsigned st = eg_policy_setting_seconds(eg_guard_cfg.policy, "prompt-timeout", 0);
		if (st && !eg_env_get(environ, "EXECGUARD_PROMPT_TIMEOUT"))
			eg_guard_cfg.prompt_timeout = eg_ours.prompt_timeout = st;
		eg_guard_cfg.approved_by_parent = approved_by_parent();
	}
	/* audit sinks; syslog is on by default when every process on the
	 * machine loads us (/etc/ld.so.preload: a system-wide install). Loaded
	 * by LD_PRELOAD, /etc/ld.so.preload may name us too (an `execguard run`
	 * in such a container): audit_emit.c looks when it first has a record,
	 * not here in every process. */
	eg_audit_configure(eg_guard_cfg.policy, environ, eg_self_path[0] && !preload_entry, &eg_ours);
	__atomic_store_n(&init_state, 2, __ATOMIC_RELEASE);
	errno = saved;
}

EG_HIDDEN void eg_preload_ensure_init(void)
{
	if (__builtin_expect(__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == 2, 1))
		return;
	if (init_state == 0)
		init();
}

__attribute__((constructor)) static void eg_preload_ctor(void)
{
	if (init_state == 0)
		init();
}
