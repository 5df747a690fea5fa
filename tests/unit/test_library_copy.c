/*
 * The session copy of the preload library (lib/library_copy.c): its data
 * segment carries exactly the policy file, after the library's own image,
 * described by an EG_PT_POLICY header tagged with its hash; the headers'
 * page joins the code's mapping, and nothing else of the library changes;
 * a copy is
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
#include <sys/mman.h>
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

/* Build rs into a policy file written as `execguard run` writes it, in the
 * cache dir tmp + sub; rs and d are freed. */
static void save_policy(struct eg_ruleset *rs, struct eg_diags *d, const char *sub, char *path,
    size_t size)
{
	struct eg_policy *p = eg_policy_build(rs, d);
	cr_assert_not_null(p);
	char env_cache[128];
	snprintf(env_cache, sizeof env_cache, "XDG_CACHE_HOME=%s%s", tmp, sub);
	char *envp[] = { env_cache, NULL };
	cr_assert_eq(eg_policy_save(p, envp, path, size), 0);
	eg_policy_free(p);
	eg_ruleset_free(rs);
	eg_diags_free(d);
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
	save_policy(&rs, &d, "", policy, sizeof policy);
	cr_assert(eg_policy_name_hash(policy, &policy_hash));
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

/* The end of an image's last PT_LOAD in memory (.bss included). */
static uint64_t image_end(const Elf64_Phdr *ph, unsigned n)
{
	uint64_t end = 0;
	for (unsigned i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr + ph[i].p_memsz > end)
			end = ph[i].p_vaddr + ph[i].p_memsz;
	return end;
}

/* The block `blk` lies past the 64 KiB the kernel maps from the data
 * segment's start when the loader first reads it (fault-around), and no
 * further than that from the library's image, which ends at `end`. */
static void assert_past_first_read(const Elf64_Phdr *data, const Elf64_Phdr *blk, uint64_t end)
{
	uint64_t first_read_end = (data->p_vaddr & ~(uint64_t)4095) + (64u << 10);
	cr_assert_geq(blk->p_vaddr, first_read_end,
	    "the block at %#lx, the data segment at %#lx: outside the loader's first window",
	    (unsigned long)blk->p_vaddr, (unsigned long)data->p_vaddr);
	uint64_t earliest = (end + 4095) & ~(uint64_t)4095;
	if (earliest < first_read_end)
		earliest = first_read_end;
	cr_assert_lt(blk->p_vaddr - earliest, 64u << 10, "and no further than needed");
}

/* Out of the page cache, written back first (a copy is left there as
 * written, its pages dirty until the kernel writes them). */
static void drop_from_page_cache(int fd)
{
	cr_assert_eq(fdatasync(fd), 0);
	cr_assert_eq(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
}

/* How many of the file's first `pages` pages are in the page cache. */
static size_t pages_cached(const char *path, size_t pages)
{
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	void *map = mmap(NULL, pages * 4096, PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq(map, MAP_FAILED);
	unsigned char *vec = malloc(pages);
	cr_assert_eq(mincore(map, pages * 4096, vec), 0);
	size_t in = 0;
	for (size_t p = 0; p < pages; p++)
		in += vec[p] & 1;
	free(vec);
	munmap(map, pages * 4096);
	close(fd);
	return in;
}

TestSuite(library_copy, .init = setup, .fini = rm_tmp);

/* Where the block goes, with the default packs (a block whose stored codes
 * begin 88 KiB in, so that, placed to put them at a 64 KiB boundary, it
 * would begin inside the data segment's first 64 KiB): past those 64 KiB,
 * which the kernel maps, as far as they are in the page cache, when the
 * loader first reads the data segment (its dynamic section, on its first
 * page), in every guarded process. */
Test(library_copy, the_policy_lies_past_what_the_loaders_first_read_maps)
{
	struct eg_sources src = { .packs_dir = EG_SOURCE_DIR "/patterns" };
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_load(&rs, &src, &d), 0);
	char packs_policy[PATH_MAX], out[PATH_MAX];
	save_policy(&rs, &d, "", packs_policy, sizeof packs_policy);
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, packs_policy, out, sizeof out), 0, "errno %d", errno);
	size_t copy_n, pol_n;
	unsigned char *copy = slurp(out, &copy_n), *pol = slurp(packs_policy, &pol_n);
	unsigned n;
	const Elf64_Phdr *ph = phdrs(copy, &n), *data = NULL, *blk = NULL;
	for (unsigned i = 0; i < n; i++) {
		if (ph[i].p_type == PT_LOAD)
			data = &ph[i]; /* the last */
		if (ph[i].p_type == EG_PT_POLICY)
			blk = &ph[i];
	}
	cr_assert(data && blk);
	struct eg_blk_header h;
	memcpy(&h, pol, sizeof h);
	uint64_t codes_page = h.rxcodes_off & ~(uint64_t)4095;
	cr_assert_geq(h.rxcodes_off, 64u << 10, "the packs' codes begin %#x into the block", h.rxcodes_off);
	cr_assert_eq((blk->p_vaddr + codes_page) % (64u << 10), 0, "the codes at a 64 KiB boundary");
	size_t lib_n;
	unsigned char *lib = slurp(EG_BUILD_LIBRARY, &lib_n);
	unsigned m;
	const Elf64_Phdr *lp = phdrs(lib, &m);
	assert_past_first_read(data, blk, image_end(lp, m));
	free(lib);
	free(copy);
	free(pol);
}

Test(library_copy, the_data_segment_carries_the_policy_file_and_nothing_else_changes)
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
	int slot = -1, head = -1, text = -1, data = -1, loads = 0;
	uint64_t end = image_end(a, n);
	for (unsigned i = 0; i < n; i++)
		if (a[i].p_type == PT_LOAD) {
			loads++;
			data = (int)i; /* the last */
		}
	cr_assert_neq(data, -1);
	const Elf64_Phdr *ad = &a[data], *bd = &b[data];
	cr_assert_eq(ad->p_flags, PF_R | PF_W, "the library's last PT_LOAD is its data");
	for (unsigned i = 0; i < n; i++) {
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
		if (a[i].p_type == PT_NOTE && b[i].p_type != PT_NOTE) {
			cr_assert_eq(slot, -1, "one PT_NOTE entry changes");
			slot = (int)i;
			continue;
		}
		if ((int)i == data)
			continue;
		if (a[i].p_type == PT_DYNAMIC || a[i].p_type == PT_GNU_RELRO) {
			/* inside the data: their offsets follow it, nothing else changes */
			Elf64_Phdr want = a[i];
			want.p_offset = bd->p_offset + (a[i].p_vaddr - ad->p_vaddr);
			cr_assert_eq(memcmp(&want, &b[i], sizeof want), 0, "program header %u moves with the data", i);
			continue;
		}
		cr_assert_eq(memcmp(&a[i], &b[i], sizeof a[i]), 0, "program header %u is the library's", i);
	}
	cr_assert_neq(text, -1);
	cr_assert_eq(loads, 4, "headers, code, .rodata, data: no PT_LOAD more in the copy");
	for (unsigned i = 0; i < m; i++)
		if (b[i].p_type == PT_LOAD && (int)i != text)
			cr_assert_eq(b[i].p_flags & PF_X, 0, "only the code's PT_LOAD is executable (%u)", i);

	/* the policy: where the PT_NOTE entry was, an EG_PT_POLICY one,
	 * tagged with the policy's hash, inside the data segment */
	cr_assert_neq(slot, -1, "the PT_NOTE entry became the policy's");
	const Elf64_Phdr *s = &b[slot];
	cr_assert_eq(s->p_type, EG_PT_POLICY);
	cr_assert_eq(s->p_paddr, policy_hash, "tagged with the policy's hash");
	cr_assert_eq(s->p_filesz, pol_n);
	cr_assert_eq(s->p_vaddr % 4096, 0);
	cr_assert_geq(s->p_vaddr, end, "after the library's own image (.bss included)");
	cr_assert_eq(s->p_offset, bd->p_offset + (s->p_vaddr - bd->p_vaddr), "where the data maps it");
	cr_assert_eq(memcmp(copy + s->p_offset, pol, pol_n), 0, "the policy file's bytes");
	/* the data segment: the library's bytes again, zeros (its .bss, and
	 * up to the block), the block, zeros to a span of 2 MiB (the kernel
	 * then maps the copy at a 2 MiB boundary by itself), all in the file */
	cr_assert_eq(bd->p_vaddr, ad->p_vaddr);
	cr_assert_eq(bd->p_flags, PF_R | PF_W);
	cr_assert_eq(bd->p_filesz, bd->p_memsz, "nothing for the loader to zero: no mapping more");
	cr_assert_eq(bd->p_offset % 4096, bd->p_vaddr % 4096);
	cr_assert_geq(bd->p_offset, lib_n, "after the library's own bytes");
	cr_assert_eq(bd->p_vaddr + bd->p_filesz, s->p_vaddr + pol_n < (2u << 20) ? 2u << 20 : s->p_vaddr + pol_n,
	    "the data ends with the block, or at 2 MiB");
	cr_assert_eq(copy_n, bd->p_offset + bd->p_filesz, "the data segment ends the file");
	cr_assert_eq(memcmp(copy + bd->p_offset, lib + ad->p_offset, ad->p_filesz), 0, "the library's data");
	for (size_t i = ad->p_filesz; i < bd->p_filesz; i++)
		if (i < s->p_vaddr - bd->p_vaddr || i >= s->p_vaddr - bd->p_vaddr + pol_n)
			cr_assert_eq(copy[bd->p_offset + i], 0, "zeros around the block (byte %zu)", i);
	/* the page where the block's stored codes begin starts a 64 KiB
	 * window of the kernel's fault-around (block_phase) */
	struct eg_blk_header h;
	memcpy(&h, pol, sizeof h);
	cr_assert_gt(h.rxcodes_len, 0, "the block stores compiled codes");
	uint64_t codes_page = h.rxcodes_off & ~(uint64_t)4095;
	cr_assert_eq((s->p_vaddr + codes_page) % (64u << 10), 0,
	    "the codes' page at %#lx: a 64 KiB boundary", (unsigned long)(s->p_vaddr + codes_page));
	assert_past_first_read(bd, s, end);
	/* the zeros are not written (a sparse file), where the file system
	 * keeps holes: the next full page after the library's data */
	int fd = open(out, O_RDONLY);
	cr_assert_geq(fd, 0);
	off_t gap = (off_t)((bd->p_offset + ad->p_filesz + 4095) & ~(uint64_t)4095);
	off_t hole = lseek(fd, gap, SEEK_HOLE);
	struct stat st;
	cr_assert_eq(fstat(fd, &st), 0);
	close(fd);
	if (hole == gap)
		cr_assert_lt((uintmax_t)st.st_blocks * 512, (uintmax_t)st.st_size, "sparse");
	else
		cr_log_warn("the file system keeps no hole at %#lx: sparseness not checked", (unsigned long)gap);
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
	/* the rest: the library's bytes, but for the program headers and the table */
	size_t phoff = ((const Elf64_Ehdr *)lib)->e_phoff;
	for (size_t i = 0; i < lib_n; i++) {
		bool in_ph = i >= phoff && i < phoff + (size_t)n * sizeof(Elf64_Phdr);
		if (in_ph || (i >= tab_at && i < tab_at + sizeof got))
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
	char big[PATH_MAX], out[PATH_MAX];
	save_policy(&rs, &d, "/big", big, sizeof big);
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
	cr_assert_eq(pwrite(fd, "X", 1, (off_t)good_n - 1), 1); /* the last byte: zeros, unwritten */
	close(fd);
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, again, sizeof again), 0);
	unsigned char *now = slurp(out, &n);
	cr_assert_eq(n, good_n);
	cr_assert_eq(memcmp(now, good, n), 0, "rewritten whole");
	free(good);
	free(now);
}

/* A copy evicted from the page cache is written again, not read back:
 * read back, by a check or by the processes' faults, its pages would be
 * in the cache one by one, each mapped and unmapped at a cost, where a
 * copy as written is in large folios (library_copy.c, data_in_cache). */
Test(library_copy, a_copy_out_of_the_page_cache_is_written_again)
{
	char out[PATH_MAX], again[PATH_MAX];
	struct stat st1, st2, st3;
	const size_t code_pages = 16;
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, out, sizeof out), 0, "errno %d", errno);
	cr_assert_eq(stat(out, &st1), 0);
	cr_assert_eq(pages_cached(out, code_pages), code_pages, "left in the page cache as written");
	int fd = open(out, O_RDONLY);
	cr_assert_geq(fd, 0);
	drop_from_page_cache(fd);
	close(fd);
	if (pages_cached(out, code_pages) != 0)
		cr_skip_test("the page cache kept the copy");
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, again, sizeof again), 0);
	cr_assert_str_eq(out, again);
	cr_assert_eq(stat(out, &st2), 0);
	cr_assert_neq(st1.st_ino, st2.st_ino, "written again, not read back");
	cr_assert_eq(pages_cached(out, code_pages), code_pages);
	/* intact and in the cache: reused */
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, again, sizeof again), 0);
	cr_assert_eq(stat(out, &st3), 0);
	cr_assert_eq(st2.st_ino, st3.st_ino, "reused once written");
}

/* The size, in pages, of the largest page-cache folio among the first
 * `pages` pages of path, and how many of those pages are in a folio of
 * more than one page (from /proc/kpageflags: only root sees the page frame
 * numbers). false: not visible here. */
static bool folio_sizes(const char *path, size_t pages, size_t *largest, size_t *in_large)
{
	int kf = open("/proc/kpageflags", O_RDONLY), pm = open("/proc/self/pagemap", O_RDONLY);
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	volatile unsigned char *map = mmap(NULL, pages * 4096, PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq((void *)map, MAP_FAILED);
	bool seen = kf >= 0 && pm >= 0;
	size_t run = 0;
	*largest = *in_large = 0;
	for (size_t p = 0; seen && p < pages; p++) {
		(void)map[p * 4096];
		uint64_t e = 0, flags = 0;
		seen = pread(pm, &e, 8, (off_t)(((uintptr_t)map / 4096 + p) * 8)) == 8;
		uint64_t pfn = e & ((UINT64_C(1) << 55) - 1);
		seen = seen && (e >> 63) != 0 && pfn != 0 && pread(kf, &flags, 8, (off_t)(pfn * 8)) == 8;
		bool head = flags & (UINT64_C(1) << 15), tail = flags & (UINT64_C(1) << 16);
		run = tail ? run + 1 : 1;
		*in_large += head || tail;
		*largest = run > *largest ? run : *largest;
	}
	munmap((void *)map, pages * 4096);
	close(fd);
	if (kf >= 0)
		close(kf);
	if (pm >= 0)
		close(pm);
	return seen;
}

/* Written, the copy is left in the page cache in folios of more than a
 * page, where the file system makes them for a write, and of at most
 * 64 KiB: one of 2 MiB at a 2 MiB boundary of a mapping would be mapped
 * whole by the first read of any of its pages (file_write.c). */
Test(library_copy, a_copy_written_is_cached_in_folios_of_at_most_64_kib)
{
	char probe[PATH_MAX];
	snprintf(probe, sizeof probe, "%s/probe", tmp);
	static unsigned char bytes[256 << 10];
	memset(bytes, 1, sizeof bytes);
	int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, bytes, sizeof bytes), (ssize_t)sizeof bytes);
	close(fd);
	size_t largest, in_large;
	if (!folio_sizes(probe, sizeof bytes / 4096, &largest, &in_large))
		cr_skip_test("the page cache's folios are not visible here (not root)");
	if (largest <= 16)
		cr_skip_test("no folio over 64 KiB for a write of 256 KiB here (largest: %zu pages)", largest);

	char out[PATH_MAX];
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, out, sizeof out), 0, "errno %d", errno);
	const size_t code_pages = 64;
	cr_assert(folio_sizes(out, code_pages, &largest, &in_large));
	cr_assert_gt(in_large, code_pages / 2, "%zu of the first %zu pages in large folios", in_large,
	    code_pages);
	cr_assert_leq(largest, 16, "a folio of %zu pages", largest);
}

/* Checking a copy (reused) or writing it again leaves the pages the
 * processes map in the page cache and not the zeros: a process's fault
 * near them would otherwise have the kernel map them too (fault-around),
 * in every guarded process (library_copy.c, same_range). */
Test(library_copy, a_copy_checked_or_written_leaves_no_zeros_in_the_page_cache)
{
	char out[PATH_MAX];
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, out, sizeof out), 0, "errno %d", errno);
	size_t copy_n;
	unsigned char *copy = slurp(out, &copy_n); /* reads it all in */
	unsigned m;
	const Elf64_Phdr *b = phdrs(copy, &m);
	const Elf64_Phdr *data = NULL, *blk = NULL;
	for (unsigned i = 0; i < m; i++) {
		if (b[i].p_type == PT_LOAD)
			data = &b[i];
		if (b[i].p_type == EG_PT_POLICY)
			blk = &b[i];
	}
	cr_assert(data && blk);
	size_t lib_data_end = 0; /* the library's own data bytes in the copy end here */
	for (size_t i = (size_t)(blk->p_offset - 1); i > (size_t)data->p_offset; i--)
		if (copy[i] != 0) {
			lib_data_end = i + 1;
			break;
		}
	size_t gap_from = (lib_data_end + 4095) & ~(size_t)4095, gap_to = (size_t)blk->p_offset & ~(size_t)4095;
	size_t tail_from = ((size_t)(blk->p_offset + blk->p_filesz) + 4095) & ~(size_t)4095;
	cr_assert_gt(gap_to, gap_from, "whole pages of zeros before the block");
	cr_assert_gt(copy_n, tail_from, "and after it");
	size_t blk_off = (size_t)blk->p_offset, blk_size = (size_t)blk->p_filesz;
	free(copy);

	int fd = open(out, O_RDONLY);
	cr_assert_geq(fd, 0);
	if (lseek(fd, (off_t)gap_from, SEEK_HOLE) != (off_t)gap_from) {
		close(fd);
		cr_skip_test("the file system keeps no holes here");
	}
	/* the reading above brought the zeros in: out, and the copy written
	 * again, as a run finds it when none is in the cache */
	drop_from_page_cache(fd);
	char again[PATH_MAX];
	cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, again, sizeof again), 0);
	close(fd);
	fd = open(out, O_RDONLY);
	cr_assert_geq(fd, 0);
	struct stat before, now;
	for (int round = 0; round < 3; round++) {
		/* round 0: in the page cache as written, so checked and reused;
		 * round 1: dropped from it, so written again; round 2:
		 * damaged, so written again */
		if (round > 0)
			drop_from_page_cache(fd);
		if (round == 2) {
			cr_assert_eq(chmod(out, 0644), 0);
			int w = open(out, O_WRONLY);
			cr_assert_geq(w, 0);
			cr_assert_eq(pwrite(w, "X", 1, (off_t)blk_off), 1);
			close(w);
			drop_from_page_cache(fd);
		}
		/* fd keeps the file as it was open: its inode number is not
		 * given to a file written again meanwhile */
		cr_assert_eq(fstat(fd, &before), 0);
		cr_assert_eq(eg_library_copy(EG_BUILD_LIBRARY, policy, again, sizeof again), 0);
		close(fd);
		fd = open(out, O_RDONLY); /* the file written again is another one */
		cr_assert_geq(fd, 0);
		cr_assert_eq(fstat(fd, &now), 0);
		cr_assert_eq(now.st_ino == before.st_ino, round == 0, "round %d: %s", round,
		    round == 0 ? "reused" : "written again");
		void *map = mmap(NULL, copy_n, PROT_READ, MAP_PRIVATE, fd, 0);
		cr_assert_neq(map, MAP_FAILED);
		size_t pages = (copy_n + 4095) / 4096;
		unsigned char *vec = malloc(pages);
		cr_assert_eq(mincore(map, copy_n, vec), 0);
		size_t zeros_in = 0, code_in = 0, block_in = 0;
		for (size_t p = 0; p < pages; p++) {
			size_t at = p * 4096;
			bool in = vec[p] & 1;
			if ((at >= gap_from && at < gap_to) || at >= tail_from)
				zeros_in += in;
			else if (at < 4096 * 16)
				code_in += in;
			else if (at >= blk_off && at < blk_off + blk_size)
				block_in += in;
		}
		cr_assert_eq(zeros_in, 0, "round %d: %zu pages of zeros in the page cache", round, zeros_in);
		cr_assert_eq(code_in, 16, "round %d: the code's first pages are (%zu of 16)", round, code_in);
		cr_assert_gt(block_in, 0, "round %d: the block's are", round);
		free(vec);
		munmap(map, copy_n);
	}
	close(fd);
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
