/* Is the guard on in this process, and how? See guard_state.h. */
#include "guard_state.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload_list.h"

bool guard_library_loaded(char *lib, size_t size)
{
	void *sym = dlsym(RTLD_DEFAULT, "execve");
	Dl_info info;
	if (sym == NULL || dladdr(sym, &info) == 0 || info.dli_fname == NULL)
		return false;
	const char *base = strrchr(info.dli_fname, '/');
	base = base ? base + 1 : info.dli_fname;
	if (strncmp(base, "libexecguard", 12) != 0)
		return false;
	if (lib != NULL && size > 0)
		snprintf(lib, size, "%s", info.dli_fname);
	return true;
}

/* The first libexecguard entry of a list separated by ':' or blanks (the
 * LD_PRELOAD value, /etc/ld.so.preload), into out. */
static bool find_entry(const char *list, char *out, size_t size)
{
	const char *p = list ? list : "", *t;
	size_t len;
	while (eg_preload_list_next(&p, EG_LIST_FILE, &t, &len)) {
		const char *base = memrchr(t, '/', len);
		base = base ? base + 1 : t;
		if (len < size && (size_t)(p - base) >= 12 && strncmp(base, "libexecguard", 12) == 0) {
			memcpy(out, t, len);
			out[len] = '\0';
			return true;
		}
	}
	return false;
}

static bool in_ld_so_preload(void)
{
	char buf[8192], entry[PATH_MAX];
	int fd = open("/etc/ld.so.preload", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return find_entry(buf, entry, sizeof entry);
}

void guard_state_read(struct guard_state *st)
{
	memset(st, 0, sizeof *st);
	st->loaded = guard_library_loaded(st->library, sizeof st->library);
	st->in_env = find_entry(getenv("LD_PRELOAD"), st->env_entry, sizeof st->env_entry);
	st->in_system = in_ld_so_preload();
	const char *pol = getenv("EXECGUARD_POLICY");
	st->policy_path = pol && *pol ? pol : NULL;

	if (!st->loaded) {
		st->mode = GUARD_OFF;
		if (st->in_env)
			snprintf(st->problem, sizeof st->problem,
			    "LD_PRELOAD names %s, but it is not loaded (a missing file, or a path "
			    "the loader cannot use)", st->env_entry);
		else if (st->in_system)
			snprintf(st->problem, sizeof st->problem,
			    "/etc/ld.so.preload names libexecguard, but it is not loaded");
		return;
	}
	if (st->policy_path) {
		const char *how = getenv(GUARD_MODE_VAR);
		st->mode = how && strcmp(how, "run") == 0		? GUARD_RUN
		    : how && strcmp(how, "shell-init") == 0 ? GUARD_SHELL_INIT
							    : GUARD_SESSION;
		st->policy = eg_policy_map_file(st->policy_path);
		if (st->policy == NULL)
			snprintf(st->problem, sizeof st->problem,
			    "the policy file %s is missing or damaged: every command is refused; "
			    "start the session again", st->policy_path);
	} else if (st->in_env || !st->in_system) {
		st->mode = GUARD_PRELOAD;
	} else {
		st->mode = GUARD_SYSTEM;
	}
}

void guard_state_free(struct guard_state *st)
{
	eg_policy_free(st->policy);
	st->policy = NULL;
}

const char *guard_mode_name(enum guard_mode m)
{
	switch (m) {
	case GUARD_OFF: return "off";
	case GUARD_SYSTEM: return "/etc/ld.so.preload";
	case GUARD_RUN: return "execguard run";
	case GUARD_SHELL_INIT: return "execguard shell-init";
	case GUARD_SESSION: return "execguard run or shell-init";
	case GUARD_PRELOAD: return "LD_PRELOAD";
	}
	return "?";
}
