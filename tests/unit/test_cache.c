/*
 * The compiled rule cache (lib/rule_cache.c), in process:
 *   - the cached block is byte for byte the block the library would build
 *     by parsing (eg_policy_load_default), for the shipped packs: the same
 *     decisions by construction;
 *   - an edit in place, of the same size, right after the cache was written
 *     is seen (the writer waits out the file system's clock tick);
 *   - another block format version or execguard version is not used, even
 *     with a sound key;
 *   - loading a cache allocates nothing (the constructor's path).
 * The packs are the source tree's; everything else is in a temp dir.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "execguard.h"
#include "policy_block.h"
#include "rule_cache.h"
#include "load_internal.h"

static char tmp[64], lib[PATH_MAX], packs[PATH_MAX];
static char e_home[PATH_MAX + 8], e_cache[PATH_MAX + 20], e_cfg[PATH_MAX + 20],
    e_packs[PATH_MAX + 24], e_sys[PATH_MAX + 24], e_syscache[PATH_MAX + 32];
static char *envp[8];

static void setup(void)
{
	strcpy(tmp, "/tmp/eg-cache-unit.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	/* the "library": any file; its identity is part of the key */
	snprintf(lib, sizeof lib, "%s/libexecguard.so", tmp);
	FILE *f = fopen(lib, "w");
	cr_assert_not_null(f);
	fputs("not really a library\n", f);
	fclose(f);
	snprintf(packs, sizeof packs, "%s/patterns", EG_SOURCE_DIR);
	snprintf(e_home, sizeof e_home, "HOME=%s", tmp);
	snprintf(e_cache, sizeof e_cache, "XDG_CACHE_HOME=%s/cache", tmp);
	snprintf(e_cfg, sizeof e_cfg, "XDG_CONFIG_HOME=%s/cfg", tmp);
	snprintf(e_packs, sizeof e_packs, "EXECGUARD_PACKS_DIR=%s", packs);
	snprintf(e_sys, sizeof e_sys, "EXECGUARD_SYSTEM_DIR=%s/sys", tmp);
	snprintf(e_syscache, sizeof e_syscache, "EXECGUARD_SYSTEM_CACHE_DIR=%s/syscache", tmp);
	char *v[] = { e_home, e_cache, e_cfg, e_packs, e_sys, e_syscache, NULL };
	memcpy(envp, v, sizeof v);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(cache, .init = setup, .fini = teardown, .timeout = 60);

static void write_own(void)
{
	struct eg_diags d = { 0 };
	char path[PATH_MAX];
	enum eg_cache_write_result r = eg_rule_cache_write(lib, envp, EG_CACHE_OWN, path, sizeof path, &d);
	cr_assert_eq(r, EG_CACHE_WRITTEN, "write: %d (%s)", r, d.n ? d.v[0].msg : "");
	eg_diags_free(&d);
}

Test(cache, block_is_the_parsed_block)
{
	write_own();
	struct eg_policy cached;
	struct eg_cache_probe probe;
	cr_assert_eq(eg_rule_cache_load(&cached, lib, envp, &probe), 0, "%s: %s", probe.path,
	    probe.why);
	/* Parsed as the library parses (eg_policy_load_default), but with the
	 * compiled regexes stored, as the cache keeps them: a process using
	 * the cache decodes instead of compiling on its first match. */
	struct eg_diags d = { 0 };
	struct eg_sources src = { 0 };
	struct eg_ruleset rs = { 0 };
	cr_assert_eq(eg_sources_default(&src, lib, envp), 0);
	cr_assert_eq(eg_ruleset_load_ex(&rs, &src, EG_LOAD_NO_EXAMPLES, &d), 0);
	struct eg_policy *parsed = eg_policy_build_ex(&rs, EG_BUILD_NO_HASH, &d);
	eg_ruleset_free(&rs);
	eg_sources_free(&src);
	cr_assert_not_null(parsed);
	size_t a, b;
	const void *ba = eg_policy_block(&cached, &a), *bb = eg_policy_block(parsed, &b);
	cr_assert_gt(eg_policy_rule_count(parsed), 50);
	cr_assert_eq(a, b);
	cr_assert_eq(memcmp(ba, bb, a), 0, "the cached block differs from the parsed one");
	eg_policy_free(parsed);
	eg_diags_free(&d);
}

/* a rule file of our own, so that its times are fresh */
static void write_rules(const char *dir, const char *action)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/cfg", tmp);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/cfg/execguard", tmp);
	mkdir(path, 0755);
	(void)dir;
	snprintf(path, sizeof path, "%s/cfg/execguard/mine.rules", tmp);
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	char text[256];
	int n = snprintf(text, sizeof text,
	    "rule mine.x\n  program   xyzzy\n  match     go\n  action    %s\n  reason    r\n"
	    "  example   xyzzy go\n",
	    action);
	cr_assert_eq(pwrite(fd, text, (size_t)n, 0), n);
	close(fd);
}

Test(cache, same_tick_edit_is_seen)
{
	write_rules(NULL, "confirm");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	write_own(); /* the file is brand new: the writer waits */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_expect_geq(waited, 0.5, "waited %.3f s", waited);
	struct eg_policy p;
	cr_assert_eq(eg_rule_cache_load(&p, lib, envp, NULL), 0);
	write_rules(NULL, "deny   "); /* same size, same inode, at once */
	struct eg_cache_probe probe;
	cr_assert_eq(eg_rule_cache_load(&p, lib, envp, &probe), -1, "a stale cache was used");
	cr_expect(strstr(probe.why, "stale") != NULL, "%s", probe.why);
}

/* rewrite the cache file with header field `off` (u32) changed, the key's
 * checksum made right again */
static void patch_u32(size_t off, uint32_t v, const char *str_field, size_t str_off)
{
	struct eg_policy p;
	struct eg_cache_probe probe;
	cr_assert_eq(eg_rule_cache_load(&p, lib, envp, &probe), 0);
	int fd = open(probe.path, O_RDWR);
	cr_assert_geq(fd, 0);
	struct stat st;
	fstat(fd, &st);
	unsigned char *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert_neq(m, MAP_FAILED);
	struct eg_cache_header *h = (void *)m;
	if (str_field)
		memcpy(m + str_off, str_field, strlen(str_field) + 1);
	else
		memcpy(m + off, &v, sizeof v);
	h->key_sum = 0;
	h->key_sum = eg_fnv64(m, h->block_off, 0);
	munmap(m, (size_t)st.st_size);
	close(fd);
}

Test(cache, other_block_version_is_not_used)
{
	write_own();
	patch_u32(offsetof(struct eg_cache_header, block_version), EG_BLOCK_VERSION + 1, NULL, 0);
	struct eg_policy p;
	struct eg_cache_probe probe;
	cr_assert_eq(eg_rule_cache_load(&p, lib, envp, &probe), -1);
	cr_expect(strstr(probe.why, "version") != NULL, "%s", probe.why);
}

Test(cache, other_execguard_version_is_not_used)
{
	write_own();
	patch_u32(0, 0, "0.0.0-other", offsetof(struct eg_cache_header, eg_version));
	struct eg_policy p;
	struct eg_cache_probe probe;
	cr_assert_eq(eg_rule_cache_load(&p, lib, envp, &probe), -1);
	cr_expect(strstr(probe.why, "version") != NULL, "%s", probe.why);
}

Test(cache, sound_patch_is_still_used)
{
	/* the control for the two above: patching a field to its own value
	 * (checksum recomputed) keeps the cache usable */
	write_own();
	patch_u32(offsetof(struct eg_cache_header, block_version), EG_BLOCK_VERSION, NULL, 0);
	struct eg_policy p;
	cr_assert_eq(eg_rule_cache_load(&p, lib, envp, NULL), 0);
}

Test(cache, changed_library_is_stale)
{
	write_own();
	struct eg_policy p;
	cr_assert_eq(eg_rule_cache_load(&p, lib, envp, NULL), 0);
	char other[PATH_MAX + 8];
	snprintf(other, sizeof other, "%s/other.so", tmp);
	FILE *f = fopen(other, "w");
	fputs("not really a library\n", f);
	fclose(f);
	cr_assert_eq(eg_rule_cache_load(&p, other, envp, NULL), -1);
}
