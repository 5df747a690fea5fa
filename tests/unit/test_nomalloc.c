/*
 * The check path must never call malloc: it runs in vfork children and
 * between fork and exec in multithreaded programs. This binary interposes
 * the allocator and counts calls made by this thread while a check runs.
 */
#include <criterion/criterion.h>

#ifdef __SANITIZE_ADDRESS__
/* ASan owns the allocator; interposing it here would mix two heaps. The
 * plain build runs this test. */
Test(nomalloc, check_path_allocates_nothing)
{
	cr_skip_test("allocator interposition is incompatible with AddressSanitizer");
}
#else
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <limits.h>
#include <stdio.h>

#include "execguard.h"
#include "rule_cache.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static __thread int counting;
static __thread unsigned long calls;

void *malloc(size_t n)
{
	calls += counting;
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	calls += counting;
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	calls += counting;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	calls += counting && p != NULL;
	__libc_free(p);
}

void *memalign(size_t a, size_t n)
{
	calls += counting;
	return __libc_memalign(a, n);
}

void *aligned_alloc(size_t a, size_t n)
{
	calls += counting;
	return __libc_memalign(a, n);
}

int posix_memalign(void **out, size_t a, size_t n)
{
	calls += counting;
	*out = __libc_memalign(a, n);
	return *out ? 0 : 12;
}

static const char rules[] =
    "rule tf\n program terraform\n match (^|\\s)destroy(\\s|$)\n unless -help\n action confirm\n"
    " severity critical\n reason r\n example terraform destroy\n"
    "rule aws\n program aws\n match delete-db-instance.*--db-instance-identifier[=\\s](?<target>\\S+)\n"
    " env AWS_PROFILE .\n cwd /\n action confirm\n reason r\n"
    " example AWS_PROFILE=p aws rds delete-db-instance --db-instance-identifier x\n"
    "rule ok\n program terraform\n match -chdir=sandbox\n action allow\n reason r\n"
    " example terraform -chdir=sandbox destroy\n";

Test(nomalloc, check_path_allocates_nothing)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_parse_text(&rs, "t.rules", rules, strlen(rules), true, &d), 0);
	struct eg_policy *p = eg_policy_build(&rs, &d);
	cr_assert_not_null(p);
	struct eg_check_scratch *scratch = __libc_malloc(sizeof *scratch);
	struct eg_check_result res;
	char *env[] = { "AWS_PROFILE=prod", NULL };
	char big[40000];
	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	char *const cases[][8] = {
		{ "terraform", "destroy", NULL },
		{ "terraform", "-chdir=sandbox", "destroy", NULL },
		{ "aws", "rds", "delete-db-instance", "--db-instance-identifier", "db1", NULL },
		{ "bash", "-c", "cd /x && terraform destroy | tee log; echo $(dropdb y)", NULL },
		{ "sudo", "-u", "root", "env", "-i", "A=b", "timeout", NULL },
		{ "ssh", "-p", "22", "host", "terraform destroy", NULL },
		{ "terraform", big, "destroy", NULL },
		{ "ls", "-l", NULL },
	};
	for (unsigned round = 0; round < 2; round++) { /* first round compiles lazily */
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			struct eg_check_input in = { .argv = cases[i], .envp = env, .cwd = "/tmp",
				.exe_path = i == 0 ? "/bin/sh" : NULL,
				.flags = (i % 2) ? EG_CHECK_UNWRAP_ALL : 0 };
			calls = 0;
			counting = 1;
			eg_check(p, &in, scratch, &res);
			counting = 0;
			cr_expect_eq(calls, 0, "case %zu round %u: %lu allocator calls", i, round, calls);
		}
	}
	cr_expect_eq(res.action, EG_ACT_NONE);
	__libc_free(scratch);
	eg_policy_free(p);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}
/* The constructor's path with a cache: no allocation either. */
Test(nomalloc, cache_load_allocates_nothing)
{
	char tmp[] = "/tmp/eg-nomalloc.XXXXXX";
	cr_assert_not_null(mkdtemp(tmp));
	char lib[PATH_MAX], e_home[PATH_MAX], e_cache[PATH_MAX], e_cfg[PATH_MAX], e_packs[PATH_MAX],
	    e_sys[PATH_MAX], e_sc[PATH_MAX];
	snprintf(lib, sizeof lib, "%s/libexecguard.so", tmp);
	FILE *f = fopen(lib, "w");
	cr_assert_not_null(f);
	fclose(f);
	snprintf(e_home, sizeof e_home, "HOME=%s", tmp);
	snprintf(e_cache, sizeof e_cache, "XDG_CACHE_HOME=%s/c", tmp);
	snprintf(e_cfg, sizeof e_cfg, "XDG_CONFIG_HOME=%s/cfg", tmp);
	snprintf(e_packs, sizeof e_packs, "EXECGUARD_PACKS_DIR=%s/patterns", EG_SOURCE_DIR);
	snprintf(e_sys, sizeof e_sys, "EXECGUARD_SYSTEM_DIR=%s/sys", tmp);
	snprintf(e_sc, sizeof e_sc, "EXECGUARD_SYSTEM_CACHE_DIR=%s/sc", tmp);
	char *envp[] = { e_home, e_cache, e_cfg, e_packs, e_sys, e_sc, NULL };
	struct eg_diags d = { 0 };
	char path[PATH_MAX];
	cr_assert_eq(eg_rule_cache_write(lib, envp, EG_CACHE_OWN, path, sizeof path, &d), EG_CACHE_WRITTEN);
	eg_diags_free(&d);
	struct eg_policy *p = __libc_malloc(4096);
	calls = 0;
	counting = 1;
	int rc = eg_rule_cache_load(p, lib, envp, NULL);
	counting = 0;
	cr_expect_eq(rc, 0);
	cr_expect_eq(calls, 0, "%lu allocator calls", calls);
	__libc_free(p);
	char cmd[PATH_MAX];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	cr_expect_eq(system(cmd), 0);
}
#endif
