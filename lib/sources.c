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
#include "hot_text.h"
#include "install_dirs.h"
#include "load_internal.h"

extern char **environ;

/* Value of NAME in envp, NULL if unset or empty. */
EG_CTOR_TEXT static const char *env_get(char *const *envp, const char *name)
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

/* Copy a + b into the dirs buffer at *used; NULL if it does not fit. */
EG_CTOR_TEXT static const char *put_dir(struct eg_source_dirs *out, size_t *used, const char *a,
    const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (*used + la + lb + 1 > out->size)
		return NULL;
	char *s = out->buf + *used;
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	*used += la + lb + 1;
	return s;
}

EG_CTOR_TEXT int eg_source_dirs(const char *self_path, char *const *envp, struct eg_source_dirs *out)
{
	if (!envp)
		envp = environ;
	size_t used = 0;
	out->packs = out->system = out->user = NULL;
	const char *v = env_get(envp, "EXECGUARD_PACKS_DIR");
	if (v)
		out->packs = put_dir(out, &used, v, "");
	else {
		/* eg_packs_dir_for writes into the buffer itself (or returns a constant) */
		const char *d = eg_packs_dir_for(self_path, out->buf, out->size);
		if (d == out->buf)
			used = strlen(d) + 1;
		out->packs = d == out->buf ? d : put_dir(out, &used, d, "");
	}
	v = env_get(envp, "EXECGUARD_SYSTEM_DIR");
	if (out->packs)
		out->system = put_dir(out, &used, v ? v : EG_SYSTEM_RULES_DIR, "");
	/* XDG base directory spec: a relative XDG_CONFIG_HOME is ignored. */
	v = env_get(envp, "XDG_CONFIG_HOME");
	const char *home = env_get(envp, "HOME");
	if (!out->system)
		out->user = NULL;
	else if (v && v[0] == '/')
		out->user = put_dir(out, &used, v, "/execguard");
	else if (home)
		out->user = put_dir(out, &used, home, "/.config/execguard");
	else
		return 1; /* the password database knows */
	if (!out->user) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int eg_sources_default(struct eg_sources *s, const char *self_path, char *const *envp)
{
	memset(s, 0, sizeof(*s));
	if (!envp)
		envp = environ;

	struct eg_source_dirs *dirs = malloc(sizeof *dirs + 3 * PATH_MAX + 64);
	if (!dirs)
		goto oom;
	dirs->buf = (char *)(dirs + 1);
	dirs->size = 3 * PATH_MAX + 64;
	int rc = eg_source_dirs(self_path, envp, dirs);
	if (rc < 0) {
		free(dirs);
		return -1;
	}
	s->packs_dir = strdup(dirs->packs);
	s->system_dir = strdup(dirs->system);
	if (rc == 0)
		s->user_dir = strdup(dirs->user);
	free(dirs);
	if (!s->packs_dir || !s->system_dir || (rc == 0 && !s->user_dir))
		goto oom;
	if (rc == 1) {
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
