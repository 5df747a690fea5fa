/*
 * The session copy of the preload library (lib/library_copy.c): the new
 * segment is exactly the policy file, placed after the library's own image
 * and tagged with its hash; the headers' page joins the code's mapping,
 * and nothing else of the library changes; a copy is
 * reused when intact and rewritten when damaged; what cannot be copied is
 * refused with the errno the caller falls back on.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eg_config.h"
#include "execguard.h"
#include "library_copy.h"
#include "policy_block.h"
#include "real_table.h"

static char tmp[64];
static char policy[PATH_MAX];
static uint64_t policy_hash;

static void rm_tmp(void)
{
	char cmd[2 * sizeof tmp + 32];
	snprintf(cmd, sizeof cmd, "chmod -R u+w %s; rm -rf %s", tmp, tmp);
	cr_assert_eq(system(cmd), 0);
}

/* A policy file written as `execguard run` writes it, in a fresh cache dir */
static void setup(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/eg-libcopy.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	static const char rules[] = "rule t.destroy\n  program terraform\n  match destroy\n"
				    "  action confirm\n  reason test\n  example terraform destroy\n";
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	int rc = eg_ruleset_parse_text(&rs, "t.rules", rules, sizeof rules - 1, true, &d);
	cr_assert_eq(rc, 0, "%s", d.n ? d.v[0].msg : "");
	struct eg_policy *p = eg_policy_build(&rs, &d);
	cr_assert_not_null(p);
	char env_cache[128];
	snprintf(env_cache, sizeof env_cache, "XDG_CACHE_HOME=%s", tmp);
	char *envp[] = { env_cache, NULL };
	cr_assert_eq(eg_policy_save(p, envp, policy, sizeof policy), 0);
	cr_assert(eg_policy_name_hash(policy, &policy_hash));
	eg_policy_free(p);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

static unsigned char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)n + 1);
	cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*size = (size_t)n;
	return b;
}

static const Elf64_Phdr *phdrs(const unsigned char *img, unsigned *n)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	*n = eh->e_phnum;
	return (const Elf64_Phdr *)(img + eh->e_phoff);
}

TestSuite(library_copy, .init = setup, .fini = rm_tmp);

Test(library_copy, the_new_segment_is_the_policy_file_and_nothing_else_changes)
{
	char out[PATH_MAX];
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, out, sizeof out), 0, "errno %d", errno);
	char want_prefix[PATH_MAX];
	snprintf(want_prefix, sizeof want_prefix, "%s/execguard/lib-", tmp);
	cr_assert_eq(strncmp(out, want_prefix, strlen(want_prefix)), 0, "%s", out);
	cr_assert_str_eq(strrchr(out, '/'), "/libexecguard.so");

	size_t lib_n, copy_n, pol_n;
	unsigned char *lib = slurp(EG_BUILD_LIBRARY, &lib_n), *copy = slurp(out, &copy_n),
		      *pol = slurp(policy, &pol_n);
	unsigned n, m;
	const Elf64_Phdr *a = phdrs(lib, &n), *b = phdrs(copy, &m);
	cr_assert_eq(n, m);
	int changed = -1, head = -1, text = -1;
	uint64_t end = 0, copy_end = 0;
	for (unsigned i = 0; i < m; i++)
		if (b[i].p_type == PT_LOAD && b[i].p_vaddr + b[i].p_memsz > copy_end)
			copy_end = b[i].p_vaddr + b[i].p_memsz;
	for (unsigned i = 0; i < n; i++) {
		if (a[i].p_type == PT_LOAD && a[i].p_vaddr + a[i].p_memsz > end)
			end = a[i].p_vaddr + a[i].p_memsz;
		if (a[i].p_type == PT_LOAD && head < 0) {
			/* the headers' own read-only PT_LOAD (GNU ld's separate
			 * code) is gone from the copy... */
			head = (int)i;
			cr_assert_eq(a[i].p_offset, 0);
			cr_assert_eq(a[i].p_flags, PF_R, "the library's headers alone, read-only");
			cr_assert_eq(b[i].p_type, PT_NULL, "the headers' PT_LOAD is gone from the copy");
			continue;
		}
		if (a[i].p_type == PT_LOAD && text < 0) {
			/* ...joined to the code after them, which the loader now
			 * maps from offset 0, asking for the library's own
			 * alignment (the kernel aligns the copy: below) */
			text = (int)i;
			cr_assert_eq(a[i].p_flags, PF_R | PF_X);
			Elf64_Phdr want = a[i];
			want.p_offset = want.p_vaddr = want.p_paddr = 0;
			want.p_filesz += a[i].p_offset;
			want.p_memsz += a[i].p_offset;
			cr_assert_eq(memcmp(&want, &b[i], sizeof want), 0,
			    "the code's PT_LOAD from offset 0 (%#lx, %#lx bytes, p_align %#lx), the rest unchanged",
			    (unsigned long)b[i].p_offset, (unsigned long)b[i].p_filesz, (unsigned long)b[i].p_align);
			continue;
		}
		if (memcmp(&a[i], &b[i], sizeof a[i]) != 0) {
			cr_assert_eq(changed, -1, "one other program header changes");
			changed = (int)i;
		}
	}
	cr_assert_neq(text, -1);
	for (unsigned i = 0; i < m; i++)
		if (b[i].p_type == PT_LOAD && (int)i != text)
			cr_assert_eq(b[i].p_flags & PF_X, 0, "only the code's PT_LOAD is executable (%u)", i);
	cr_assert_neq(changed, -1);
	const Elf64_Phdr *s = &b[changed];
	cr_assert_eq(a[changed].p_type, PT_NOTE, "the slot was the PT_NOTE entry");
	cr_assert_eq(s->p_type, PT_LOAD);
	cr_assert_eq(s->p_flags, PF_R, "read-only");
	cr_assert_eq(s->p_paddr, policy_hash, "tagged with the policy's hash");
	cr_assert_eq(s->p_filesz, pol_n);
	cr_assert_eq(s->p_memsz, pol_n);
	cr_assert_eq(s->p_offset % s->p_align, 0);
	cr_assert_eq(s->p_vaddr % s->p_align, 0);
	cr_assert_geq(s->p_vaddr, end, "after the library's own image");
	/* placed so that the whole spans 2 MiB (the kernel then maps it at a
	 * 2 MiB boundary by itself) and no further, the page where its stored
	 * codes begin starting a 64 KiB window of the kernel's fault-around
	 * (block_phase) */
	struct eg_blk_header h;
	memcpy(&h, pol, sizeof h);
	cr_assert_gt(h.rxcodes_len, 0, "the block stores compiled codes");
	uint64_t codes_page = h.rxcodes_off & ~(uint64_t)4095;
	cr_assert_eq((s->p_vaddr + codes_page) % (64u << 10), 0,
	    "the codes' page at %#lx: a 64 KiB boundary", (unsigned long)(s->p_vaddr + codes_page));
	uint64_t at = (end + 4095) & ~(uint64_t)4095;
	if (at + pol_n < (2u << 20))
		at = ((2u << 20) - pol_n + 4095) & ~(uint64_t)4095;
	cr_assert_geq(copy_end, 2u << 20, "the copy spans %#lx bytes", (unsigned long)copy_end);
	cr_assert(s->p_vaddr >= at && s->p_vaddr - at < 64u << 10, "the block at %#lx, %#lx expected",
	    (unsigned long)s->p_vaddr, (unsigned long)at);
	cr_assert_geq(s->p_offset, lib_n, "after the library's own bytes");
	cr_assert_eq(copy_n, s->p_offset + pol_n);
	cr_assert_eq(memcmp(copy + s->p_offset, pol, pol_n), 0, "the policy file's bytes");
	/* the table of libc's functions (real_table.h): one, in the library
	 * empty, in the copy filled for this process's libc as
	 * eg_real_table_fill fills it */
	const unsigned char *tab = memmem(lib, lib_n, EG_REAL_TABLE_MAGIC, 16);
	cr_assert_not_null(tab, "the library holds the table");
	cr_assert_null(memmem(tab + 1, lib_n - (size_t)(tab + 1 - lib), EG_REAL_TABLE_MAGIC, 16), "once");
	size_t tab_at = (size_t)(tab - lib);
	struct eg_real_table want = { .magic = EG_REAL_TABLE_MAGIC }, empty = want, got;
	memcpy(&got, lib + tab_at, sizeof got);
	cr_assert_eq(memcmp(&got, &empty, sizeof got), 0, "the library's table is empty");
	cr_assert(eg_real_table_fill(&want));
	memcpy(&got, copy + tab_at, sizeof got);
	cr_assert_eq(memcmp(&got, &want, sizeof got), 0, "the copy's table is filled for this libc");
	/* the rest: the library's bytes, but for those two headers and the table */
	size_t phoff = ((const Elf64_Ehdr *)lib)->e_phoff;
	for (size_t i = 0; i < lib_n; i++) {
		bool in_ph = i >= phoff && i < phoff + (size_t)n * sizeof(Elf64_Phdr);
		size_t k = in_ph ? (i - phoff) / sizeof(Elf64_Phdr) : 0;
		if (in_ph && (k == (size_t)changed || k == (size_t)head || k == (size_t)text))
			continue;
		if (i >= tab_at && i < tab_at + sizeof got)
			continue;
		if (copy[i] != lib[i])
			cr_assert_fail("byte %zu differs from the library's", i);
	}
	free(lib);
	free(copy);
	free(pol);
}

/* A copy of 2 MiB or more asks for no boundary: the kernel places such a
 * file mapping at 2 MiB by itself, which asking would lose (library_copy.c) */
Test(library_copy, a_copy_of_2_mib_or_more_keeps_the_librarys_alignment)
{
	enum { N = 4000 }; /* about 600 bytes of policy each */
	size_t cap = (size_t)N * 160, len = 0;
	char *rules = malloc(cap);
	cr_assert_not_null(rules);
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(rules + len, cap - len,
		    "rule big.r%d\n  program big%d\n  match (^|\\s)wipe-%d(\\s|$)\n"
		    "  action confirm\n  reason r\n  example big%d wipe-%d\n\n", i, i, i, i, i);
	cr_assert_lt(len, cap);
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_parse_text(&rs, "big.rules", rules, len, true, &d), 0, "%s",
	    d.n ? d.v[0].msg : "");
	struct eg_policy *p = eg_policy_build(&rs, &d);
	cr_assert_not_null(p);
	char env_cache[128], big[PATH_MAX], out[PATH_MAX];
	snprintf(env_cache, sizeof env_cache, "XDG_CACHE_HOME=%s/big", tmp);
	char *envp[] = { env_cache, NULL };
	cr_assert_eq(eg_policy_save(p, envp, big, sizeof big), 0);
	eg_policy_free(p);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
	free(rules);
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, big, out, sizeof out), 0, "errno %d", errno);

	size_t lib_n, copy_n;
	unsigned char *lib = slurp(EG_BUILD_LIBRARY, &lib_n), *copy = slurp(out, &copy_n);
	unsigned n, m;
	const Elf64_Phdr *a = phdrs(lib, &n), *b = phdrs(copy, &m);
	cr_assert_eq(n, m);
	uint64_t lo = UINT64_MAX, hi = 0;
	int first = -1;
	for (unsigned i = 0; i < m; i++)
		if (b[i].p_type == PT_LOAD) {
			if (first < 0)
				first = (int)i;
			lo = b[i].p_vaddr < lo ? b[i].p_vaddr : lo;
			hi = b[i].p_vaddr + b[i].p_memsz > hi ? b[i].p_vaddr + b[i].p_memsz : hi;
		}
	cr_assert_geq(hi - lo, (uint64_t)2 << 20, "the copy spans %#lx bytes", (unsigned long)(hi - lo));
	/* the first the loader maps (the code, with the headers joined to it)
	 * asks for what the library's own did */
	cr_assert_eq(b[first].p_offset, 0);
	cr_assert_eq(b[first].p_flags, PF_R | PF_X);
	cr_assert_eq(b[first].p_align, a[first].p_align, "p_align %#lx, the library's %#lx",
	    (unsigned long)b[first].p_align, (unsigned long)a[first].p_align);
	free(lib);
	free(copy);
}

Test(library_copy, an_intact_copy_is_reused_and_a_damaged_one_rewritten)
{
	char out[PATH_MAX], again[PATH_MAX];
	struct stat st1, st2;
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, out, sizeof out), 0);
	cr_assert_eq(stat(out, &st1), 0);
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, again, sizeof again), 0);
	cr_assert_str_eq(out, again);
	cr_assert_eq(stat(out, &st2), 0);
	cr_assert_eq(st1.st_ino, st2.st_ino, "not written again");
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	cr_assert_eq(utimensat(AT_FDCWD, out, old, 0), 0);
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, again, sizeof again), 0);
	cr_assert_eq(stat(out, &st2), 0);
	cr_assert_gt(st2.st_mtime, time(NULL) - 60, "touched when handed out again (not pruned while used)");

	size_t good_n, n;
	unsigned char *good = slurp(out, &good_n);
	cr_assert_eq(chmod(out, 0644), 0);
	int fd = open(out, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "X", 1, (off_t)good_n - 1), 1); /* the policy's last byte */
	close(fd);
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, again, sizeof again), 0);
	unsigned char *now = slurp(out, &n);
	cr_assert_eq(n, good_n);
	cr_assert_eq(memcmp(now, good, n), 0, "rewritten whole");
	free(good);
	free(now);
}

Test(library_copy, what_cannot_be_copied_is_refused)
{
	char out[PATH_MAX], copy[PATH_MAX];
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, copy, sizeof copy), 0);

	/* a copy has no PT_NOTE left: not a source */
	errno = 0;
	cr_assert_eq(eg_library_copy(copy, policy, out, sizeof out), -1);
	cr_assert_eq(errno, ENOEXEC);

	/* not ELF at all */
	errno = 0;
	cr_assert_eq(eg_library_copy(policy, policy, out, sizeof out), -1);
	cr_assert_eq(errno, ENOEXEC);

	/* a policy file under another name than its hash */
	char renamed[PATH_MAX];
	snprintf(renamed, sizeof renamed, "%s/execguard/policy-0000000000000001.bin", tmp);
	cr_assert_eq(link(policy, renamed), 0);
	errno = 0;
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, renamed, out, sizeof out), -1);
	cr_assert_eq(errno, EINVAL);

	/* a copy directory others can write */
	char *slash = strrchr(copy, '/');
	*slash = '\0';
	cr_assert_eq(chmod(copy, 0777), 0);
	errno = 0;
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, out, sizeof out), -1);
	cr_assert_eq(errno, EPERM);

	/* no room for the path */
	cr_assert_eq(chmod(copy, 0700), 0);
	errno = 0;
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, out, 8), -1);
	cr_assert_eq(errno, ENAMETOOLONG);
}

/* a copy file at parent/name/libexecguard.so, written `age` seconds ago */
static void fake_copy(const char *name, time_t age, char *file, size_t size)
{
	char dir[PATH_MAX];
	cr_assert_lt(snprintf(dir, sizeof dir, "%s/execguard/%s", tmp, name), (int)sizeof dir);
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_lt(snprintf(file, size, "%s/libexecguard.so", dir), (int)size);
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fputs("old", f);
	fclose(f);
	struct timespec t[2] = { { time(NULL) - age, 0 }, { time(NULL) - age, 0 } };
	cr_assert_eq(utimensat(AT_FDCWD, file, t, 0), 0);
}

Test(library_copy, other_builds_copies_unused_for_a_week_are_removed)
{
	char first[PATH_MAX], out[PATH_MAX];
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, first, sizeof first), 0);
	/* this build's copies are "lib-<its hash>-..." */
	char mine[64];
	const char *name = strstr(first, "/lib-") + 1;
	snprintf(mine, sizeof mine, "%.21s0000000000000009", name);
	char old[PATH_MAX], recent[PATH_MAX], own_old[PATH_MAX], other[PATH_MAX];
	fake_copy("lib-0000000000000001-0000000000000002", 8 * 24 * 3600, old, sizeof old);
	fake_copy("lib-0000000000000003-0000000000000004", 6 * 24 * 3600, recent, sizeof recent);
	fake_copy(mine, 30 * 24 * 3600, own_old, sizeof own_old);
	fake_copy("not-a-copy", 30 * 24 * 3600, other, sizeof other);
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, out, sizeof out), 0);
	struct stat st;
	cr_assert_eq(stat(old, &st), -1, "another build's copy unused for a week is removed");
	*strrchr(old, '/') = '\0';
	cr_assert_eq(stat(old, &st), -1, "with its directory");
	cr_assert_eq(stat(recent, &st), 0, "another build's recent copy stays");
	cr_assert_eq(stat(own_old, &st), 0, "this build's copies stay (one may be handed out right now)");
	cr_assert_eq(stat(other, &st), 0, "what is not a copy stays");
	cr_assert_eq(stat(out, &st), 0, "the new copy is there");
	cr_assert_eq(stat(policy, &st), 0, "policy files are never removed here");
}

Test(library_copy, policy_names)
{
	uint64_t h = 0;
	cr_assert(eg_policy_name_hash("/x/policy-0123456789abcdef.bin", &h));
	cr_assert_eq(h, 0x0123456789abcdefull);
	cr_assert(eg_policy_name_hash("policy-ffffffffffffffff.bin", &h));
	cr_assert_eq(h, ~0ull);
	static const char *const bad[] = {
		"/x/policy-0123456789abcde.bin",   /* 15 digits */
		"/x/policy-0123456789abcdef0.bin", /* 17 */
		"/x/policy-0123456789ABCDEF.bin",  /* upper case: not what is written */
		"/x/policy-0123456789abcdef.bin.tmp",
		"/x/Policy-0123456789abcdef.bin",
		"/policy-0123456789abcdef.bin/x",
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_not(eg_policy_name_hash(bad[i], &h), "%s", bad[i]);
}
