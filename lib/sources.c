/* Where rule files come from: packs, system and user directories. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eg_config.h"
#include "execguard.h"
#include "install_dirs.h"

extern char **environ;

/* Value of NAME in envp, NULL if unset or empty. */
static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	for (char *const *e = envp; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return (*e)[n + 1] ? *e + n + 1 : NULL;
	return NULL;
}

static char *home_dir(char *const *envp)
{
	const char *home = env_get(envp, "HOME");
	if (home)
		return strdup(home);

	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t bufsz = sz > 0 ? (size_t)sz : 16384;
	char *buf = malloc(bufsz);
	if (!buf)
		return NULL;
	struct passwd pw, *res = NULL;
	char *out = NULL;
	if (getpwuid_r(getuid(), &pw, buf, bufsz, &res) == 0 && res && res->pw_dir &&
	    res->pw_dir[0])
		out = strdup(res->pw_dir);
	free(buf);
	return out;
}

int eg_sources_default(struct eg_sources *s, const char *self_path, char *const *envp)
{
	memset(s, 0, sizeof(*s));
	if (!envp)
		envp = environ;

	char packs[PATH_MAX];
	const char *v = env_get(envp, "EXECGUARD_PACKS_DIR");
	if (!v)
		v = eg_packs_dir_for(self_path, packs, sizeof packs);
	if (!(s->packs_dir = strdup(v)))
		goto oom;

	v = env_get(envp, "EXECGUARD_SYSTEM_DIR");
	if (!(s->system_dir = strdup(v ? v : EG_SYSTEM_RULES_DIR)))
		goto oom;

	/* XDG base directory spec: a relative XDG_CONFIG_HOME is ignored. */
	v = env_get(envp, "XDG_CONFIG_HOME");
	if (v && v[0] == '/') {
		if (asprintf(&s->user_dir, "%s/execguard", v) < 0) {
			s->user_dir = NULL;
			goto oom;
		}
	} else {
		char *home = home_dir(envp);
		if (home) {
			int r = asprintf(&s->user_dir, "%s/.config/execguard", home);
			free(home);
			if (r < 0) {
				s->user_dir = NULL;
				goto oom;
			}
		}
	}
	return 0;
oom:
	eg_sources_free(s);
	errno = ENOMEM;
	return -1;
}

void eg_sources_free(struct eg_sources *s)
{
	if (!s)
		return;
	free(s->packs_dir);
	free(s->system_dir);
	free(s->user_dir);
	for (size_t i = 0; i < s->n_files; i++)
		free(s->files[i]);
	free(s->files);
	memset(s, 0, sizeof(*s));
}
