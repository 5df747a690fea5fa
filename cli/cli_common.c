#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli.h"
#include "guard_state.h"
#include "library_copy.h"
#include "eg_config.h"
#include "install_dirs.h"

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

const char *cli_library_path(void)
{
	static char path[PATH_MAX];
	return eg_library_for(cli_self_path(), path, sizeof path);
}

/*
 * The library a session preloads (run, shell-init): see cli.h.
 */
const char *cli_session_library(const char *lib, const char *policy_path, bool nested)
{
	static char path[PATH_MAX];
	if (nested) {
		const char *from = getenv(EG_LIBRARY_VAR);
		if (from && strcmp(from, lib) == 0 && guard_library_loaded(path, sizeof path) &&
		    path[0] == '/' && strpbrk(path, ": \t\n") == NULL)
			return path;
		return lib;
	}
	unsetenv(EG_LIBRARY_VAR); /* an outer session's, not ours */
	return eg_library_copy(lib, policy_path, path, sizeof path) == 0 ? path : lib;
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

/* One `set KEY VALUE` from the command line, as if from a protected file
 * named after the option; a protected file's own value is not replaced. */
static int add_cli_setting(struct eg_ruleset *rs, const struct cli_setting *s, struct eg_diags *d)
{
	for (size_t i = 0; i < rs->n_settings; i++)
		if (strcmp(rs->settings[i].key, s->key) == 0 && rs->settings[i].protected_src) {
			eg_diags_add(d, s->source, 0, 0,
			    "setting '%s' is already set in %s:%u, a file you cannot write; "
			    "it is not changed from the command line",
			    s->key, rs->settings[i].file, rs->settings[i].line);
			return -1;
		}
	if (strpbrk(s->value, "\n\r") != NULL) {
		eg_diags_add(d, s->source, 0, 0, "the value of '%s' must be one line", s->key);
		return -1;
	}
	char *text = NULL;
	int n = asprintf(&text, "set %s %s\n", s->key, s->value);
	if (n < 0)
		return -1;
	int rc = eg_ruleset_parse_text(rs, s->source, text, (size_t)n, true, d);
	free(text);
	return rc;
}

struct eg_policy *cli_load_policy(struct eg_ruleset *rs, char **extra, size_t n_extra,
    bool lint_examples, size_t *n_problems)
{
	return cli_load_policy_full(cli_self_path(), rs, extra, n_extra, lint_examples, n_problems,
	    NULL, 0);
}

struct eg_policy *cli_load_policy_from(const char *self_path, struct eg_ruleset *rs, char **extra,
    size_t n_extra, bool lint_examples, size_t *n_problems)
{
	return cli_load_policy_full(self_path, rs, extra, n_extra, lint_examples, n_problems, NULL,
	    0);
}

struct eg_policy *cli_load_policy_set(struct eg_ruleset *rs, char **extra, size_t n_extra,
    bool lint_examples, size_t *n_problems, const struct cli_setting *sets, size_t n_sets)
{
	return cli_load_policy_full(cli_self_path(), rs, extra, n_extra, lint_examples, n_problems,
	    sets, n_sets);
}

struct eg_policy *cli_load_policy_full(const char *self_path, struct eg_ruleset *rs,
    char **extra, size_t n_extra, bool lint_examples, size_t *n_problems,
    const struct cli_setting *sets, size_t n_sets)
{
	struct eg_sources src = { 0 };
	struct eg_diags d = { 0 };
	struct eg_policy *p = NULL;
	int rc = 0;

	if (eg_sources_default(&src, self_path, NULL) < 0) {
		cli_error(NULL, "cannot determine where the rule files are");
		return NULL;
	}
	if (eg_ruleset_load(rs, &src, &d) < 0)
		rc = -1;
	for (size_t i = 0; i < n_extra; i++)
		if (!already_loaded(rs, extra[i]) && eg_ruleset_load_file(rs, extra[i], &d) < 0)
			rc = -1;
	for (size_t i = 0; rc == 0 && i < n_sets; i++)
		if (add_cli_setting(rs, &sets[i], &d) < 0)
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
