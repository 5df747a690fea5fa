#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli.h"
#include "eg_config.h"

void cli_error(const char *verb, const char *fmt, ...)
{
	va_list ap;
	fputs("execguard: ", stderr);
	if (verb != NULL)
		fprintf(stderr, "%s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *cli_self_path(void)
{
	static char path[PATH_MAX];
	if (path[0] == '\0') {
		ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
		path[n > 0 ? n : 0] = '\0';
	}
	return path;
}

static bool in_build_tree(const char *path)
{
	size_t n = strlen(EG_BUILD_ROOT);
	return strncmp(path, EG_BUILD_ROOT, n) == 0 && path[n] == '/';
}

const char *cli_library_path(void)
{
	if (in_build_tree(cli_self_path()))
		return EG_BUILD_LIBRARY;
	return EG_LIBDIR "/libexecguard.so";
}

static bool already_loaded(const struct eg_ruleset *rs, const char *path)
{
	char want[PATH_MAX], have[PATH_MAX];
	if (realpath(path, want) == NULL)
		return false;
	for (size_t i = 0; i < rs->n_files; i++)
		if (realpath(rs->files[i], have) != NULL && strcmp(want, have) == 0)
			return true;
	return false;
}

struct eg_policy *cli_load_policy(struct eg_ruleset *rs, char **extra, size_t n_extra,
    bool lint_examples, size_t *n_problems)
{
	struct eg_sources src = { 0 };
	struct eg_diags d = { 0 };
	struct eg_policy *p = NULL;
	int rc = 0;

	if (eg_sources_default(&src, cli_self_path(), NULL) < 0) {
		cli_error(NULL, "cannot determine where the rule files are");
		return NULL;
	}
	if (eg_ruleset_load(rs, &src, &d) < 0)
		rc = -1;
	for (size_t i = 0; i < n_extra; i++)
		if (!already_loaded(rs, extra[i]) && eg_ruleset_load_file(rs, extra[i], &d) < 0)
			rc = -1;
	if (eg_ruleset_validate_regex(rs, &d) < 0)
		rc = -1;
	if (rc == 0) {
		p = eg_policy_build(rs, &d);
		if (p != NULL && lint_examples && eg_lint_examples(rs, p, &d) < 0)
			rc = -1;
	}
	fflush(stdout);
	eg_diags_print(&d, STDERR_FILENO);
	if (n_problems != NULL)
		*n_problems = d.n;
	if (d.n > 0 || rc < 0) {
		eg_policy_free(p);
		p = NULL;
	}
	eg_diags_free(&d);
	eg_sources_free(&src);
	return p;
}

int cli_new_session_id(char out[17])
{
	unsigned char r[8];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return -1;
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}
