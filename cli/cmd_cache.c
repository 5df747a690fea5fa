/*
 * execguard cache [--check]: write the compiled rule cache that the library
 * maps when it is loaded without `execguard run` (a bare LD_PRELOAD,
 * /etc/ld.so.preload), instead of parsing every rule file in every process.
 * See lib/rule_cache.h for the format, the key and the trust rules.
 *
 *   as root:   the system caches (EG_SYSTEM_CACHE_DIR; one for root, one for
 *              the other users; used by a user with no *.rules file of their
 *              own) and root's own cache;
 *   as a user: the user's own cache ($XDG_CACHE_HOME/execguard), which is
 *              used only when no rule directory is root-owned (so that no
 *              rule file can be protected): exit 1, nothing written, when
 *              one is.
 *   --check:   exit 0 when a cache would be used here now, 1 (and why) when
 *              not. Reads nothing but the key.
 *
 * The rule files are loaded and checked first, as `execguard run` does: a
 * broken one is reported and nothing is written (exit 78).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "policy_block.h"
#include "rule_cache.h"

extern char **environ;

static const char cache_usage[] =
    "usage: execguard cache [--check]\n"
    "\n"
    "Compile the rule files into a cache that the library maps when it is\n"
    "loaded without `execguard run` (a bare LD_PRELOAD, /etc/ld.so.preload),\n"
    "instead of parsing every rule file in every process. A cache is used only\n"
    "while every rule file and directory it was built from is unchanged.\n"
    "\n"
    "  as root:    writes the system cache (used by every user who has no rule\n"
    "              files of their own) and root's own\n"
    "  as a user:  writes your own cache; it is not used, and not written\n"
    "              (exit 1), when a rule directory is root-owned (its rules are\n"
    "              protected): root's system cache serves you then\n"
    "  --check     exit 0 if a cache is used here now, 1 if not, and why\n"
    "\n"
    "Exit 0 written, 1 not written (see the message), 73 cannot write,\n"
    "78 the rule files are broken.\n";

static int check(const char *lib)
{
	struct eg_policy p;
	struct eg_cache_probe probe;
	if (eg_rule_cache_load(&p, lib, environ, &probe) == 0) {
		printf("cache in use: %s (%zu rules)\n", probe.path, eg_policy_rule_count(&p));
		return 0;
	}
	printf("no cache in use: %s%s%s\n", probe.path[0] ? probe.path : "", probe.path[0] ? ": " : "",
	    probe.why ? probe.why : "unknown");
	return 1;
}

static int write_one(const char *lib, enum eg_cache_kind kind, bool *untrusted)
{
	struct eg_diags d = { 0 };
	char path[PATH_MAX];
	enum eg_cache_write_result r = eg_rule_cache_write(lib, environ, kind, path, sizeof path, &d);
	int e = errno;
	fflush(stdout);
	if (r != EG_CACHE_WRITTEN && r != EG_CACHE_IO)
		eg_diags_print(&d, STDERR_FILENO);
	eg_diags_free(&d);
	switch (r) {
	case EG_CACHE_WRITTEN:
		printf("wrote %s\n", path);
		return 0;
	case EG_CACHE_UNTRUSTED:
		*untrusted = true;
		cli_error("cache", "not written: your own cache is not used for rules from "
				   "root-owned files (the system cache is: `sudo execguard cache`)");
		return 1;
	case EG_CACHE_UNSTABLE:
		cli_error("cache", "not written: the rule files kept changing (or have times in the "
				   "future) while the cache was built");
		return 1;
	case EG_CACHE_BAD_RULES:
		return EX_CONFIG;
	case EG_CACHE_IO:
	default:
		cli_error("cache", "cannot write the %s cache: %s",
		    kind == EG_CACHE_OWN ? "user's" : "system", strerror(e));
		return EX_CANTCREAT;
	}
}

int cmd_cache(int argc, char **argv)
{
	bool want_check = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(cache_usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--check") == 0) {
			want_check = true;
			continue;
		}
		cli_error("cache", "unexpected argument '%s'", argv[i]);
		fputs(cache_usage, stderr);
		return EX_USAGE;
	}
	const char *lib = cli_library_path();
	if (want_check)
		return check(lib);

	/* errors first, with file:line:column, as `execguard run` reports them */
	struct eg_ruleset rs = { 0 };
	struct eg_policy *p = cli_load_policy_from(lib, &rs, NULL, 0, false, NULL);
	eg_ruleset_free(&rs);
	if (p == NULL) {
		cli_error("cache", "the rule files above must be fixed; no cache written");
		return EX_CONFIG;
	}
	eg_policy_free(p);

	bool untrusted = false;
	int rc = 0;
	if (getuid() == 0) {
		rc = write_one(lib, EG_CACHE_SYSTEM_FOR_ROOT, &untrusted);
		if (rc == 0)
			rc = write_one(lib, EG_CACHE_SYSTEM_FOR_USER, &untrusted);
	}
	/* root without a home (a container's build step) has the system cache */
	if (rc == 0 && (getuid() != 0 || getenv("HOME") || getenv("XDG_CACHE_HOME")))
		rc = write_one(lib, EG_CACHE_OWN, &untrusted);
	return rc;
}
