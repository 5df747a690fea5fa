/* The session copy of the preload library. See library_copy.h. */
#include "library_copy.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "load_internal.h"
#include "policy_block.h"
#include "real_table.h"

#define COPY_MAX_SIZE (64u << 20)
#define COPY_KEEP_SECONDS (7 * 24 * 3600)

/* The whole of a regular file, in a malloc'd buffer. */
static unsigned char *read_whole(const char *path, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	unsigned char *buf = NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uintmax_t)st.st_size > COPY_MAX_SIZE) {
		errno = EINVAL;
		goto fail;
	}
	buf = malloc((size_t)st.st_size);
	if (buf == NULL)
		goto fail;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* shrank under us */
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	*size = got;
	return buf;
fail:;
	int e = errno;
	free(buf);
	close(fd);
	errno = e;
	return NULL;
}

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

/* The program header table of an ELF64 shared object of this machine's
 * byte order, checked to lie inside the file. */
static Elf64_Phdr *phdrs_of(unsigned char *img, size_t size, unsigned *n)
{
	Elf64_Ehdr eh;
	if (size < sizeof eh)
		return NULL;
	memcpy(&eh, img, sizeof eh);
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_type != ET_DYN || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phoff % _Alignof(Elf64_Phdr) != 0 || eh.e_phoff > size ||
	    (size - eh.e_phoff) / sizeof(Elf64_Phdr) < eh.e_phnum)
		return NULL;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return NULL;
#else
	if (eh.e_ident[EI_DATA] != ELFDATA2MSB)
		return NULL;
#endif
	*n = eh.e_phnum;
	return (Elf64_Phdr *)(void *)(img + eh.e_phoff);
}

/* The largest p_align of the library's own that a copy accepts, the
 * kernel's window of fault-around (block_phase), and the size from which
 * the kernel places a file mapping at a 2 MiB boundary by itself
 * (add_block). */
#define COPY_ALIGN_LIMIT ((uint64_t)2 << 20)
#define COPY_BASE_ALIGN EG_COPY_WINDOW
#define KERNEL_ALIGNS_FROM ((uint64_t)2 << 20)

/*
 * In the copy, the library's headers and dynamic symbol tables join the
 * code that follows them. GNU ld's separate-code layout gives them a
 * read-only PT_LOAD of their own, at file offset and address 0, alone on
 * its page: a mapping of its own in every guarded process, which the
 * loader reads (symbol lookups, relocations) before the constructor runs,
 * and then a page fault more when the constructor's code, first in .text,
 * is reached. Joined, the loader's first read maps the constructor's code
 * with it (the kernel maps up to 64 KiB around a fault: fault-around), and
 * there is one mapping fewer. What becomes executable is that one page:
 * the ELF and program headers, symbol names and relocations; .rodata
 * stays a read-only PT_LOAD apart. Measured side by side with
 * bench/paired.py (posix_spawn of /bin/true, against the empty library):
 * see README.md, Performance. Any other layout is left as it is.
 */
static void join_headers_to_text(Elf64_Phdr *ph, unsigned n)
{
	long h = -1, t = -1;
	for (unsigned i = 0; i < n && t < 0; i++)
		if (ph[i].p_type == PT_LOAD) {
			if (h < 0)
				h = i;
			else
				t = i;
		}
	if (t < 0)
		return;
	Elf64_Phdr *hd = &ph[h], *tx = &ph[t];
	/* the text starts on the page right after the headers, at the same
	 * distance from its file offset (none): one mapping from offset 0
	 * then puts both where the library was linked to find them */
	if (hd->p_flags != PF_R || hd->p_offset != 0 || hd->p_vaddr != 0 ||
	    hd->p_filesz != hd->p_memsz || hd->p_align < 4096 || tx->p_align != hd->p_align ||
	    tx->p_flags != (PF_R | PF_X) || tx->p_offset != tx->p_vaddr || tx->p_filesz != tx->p_memsz ||
	    tx->p_vaddr != round_up(hd->p_memsz, 4096))
		return;
	tx->p_filesz += tx->p_offset;
	tx->p_memsz += tx->p_offset;
	tx->p_offset = tx->p_vaddr = tx->p_paddr = 0;
	*hd = (Elf64_Phdr){ .p_type = PT_NULL };
}

/*
 * How far past `at` (a multiple of `align`) the block is placed: so that the
 * page where its stored codes begin starts a 64 KiB window of the kernel's
 * fault-around (the copy is mapped at a 64 KiB boundary, below). A check
 * of a program the rules name reads the header and the index at the
 * block's start, then the rules' lists and the rules, the names and the
 * regex entries, which end where the codes begin (policy_build.c). The
 * kernel's window of the first fault, on the header, ends at the next
 * 64 KiB boundary; so placed, what a check reads ends at a boundary too:
 * with the default packs (a block of 140 KiB, 88 of them before the
 * codes) 88 KiB of the block are mapped, in two windows, where at a 64 KiB
 * boundary it was 128 KiB. A large block
 * has its codes at a multiple of 64 KiB (policy_build.c), so it starts at
 * a boundary, as the builder's layout of it expects. The space left before
 * the block is zeros in the data segment (add_block). 0 when the block has
 * no codes or `align` cannot express the distance.
 */
static size_t block_phase(const unsigned char *block, size_t block_size, size_t at, size_t align)
{
	struct eg_blk_header h;
	if (block_size < sizeof h)
		return 0;
	memcpy(&h, block, sizeof h);
	if (h.rxcodes_len == 0 || h.rxcodes_off >= block_size)
		return 0;
	size_t codes_page = h.rxcodes_off & ~(size_t)4095;
	size_t phase = (COPY_BASE_ALIGN - (at + codes_page) % COPY_BASE_ALIGN) % COPY_BASE_ALIGN;
	return phase % align == 0 ? phase : 0;
}

/* Where the parts of a copy lie in its file (add_block): the library's
 * image as edited, its data segment again, then the block, with holes
 * between (zeros, not written: a sparse file). */
struct copy_layout {
	size_t data_src;   /* the data segment's file bytes in the image */
	size_t data_len;
	size_t data_off;   /* where they are written again */
	size_t block_off;
	size_t pad_after; /* zeros after the block, to make the span */
};

/*
 * Turn the image into the copy: the library's data segment (its last
 * PT_LOAD, read-write) grows over the block, which follows it in memory
 * (block_phase), and over zeros after it, for the whole to span 2 MiB
 * (below); the PT_NOTE entry after the last PT_LOAD becomes an EG_PT_POLICY
 * entry saying where the block is. The data segment's bytes are written
 * again at the end of the file, followed by zeros for its .bss and the
 * space up to the block, the block, and the zeros after it: a PT_LOAD maps
 * a contiguous piece of the file. The zeros are holes in the file, which
 * execguard run does not read into the page cache (same_range); the
 * kernel's read-ahead may (preload_init.c, eg_preload_before_spawn).
 *
 * Why in the data segment: a PT_LOAD of its own costs the loader a mapping
 * more in every guarded process, and the space between it and the library
 * an mprotect more (the loader makes a hole inaccessible); measured side by
 * side (README.md, Performance) those two made about 2 % of a /bin/true
 * child's time, as much as the rest of the library. Mapped with the data,
 * the block is private and writable in memory, which it was not: nothing
 * writes it, and a process that wanted to change its own rules could as
 * well make its system calls itself (README, Threat model).
 */
static int add_block(unsigned char *img, size_t size, size_t block_size, uint64_t block_hash,
    const unsigned char *block, struct copy_layout *lay)
{
	unsigned n;
	Elf64_Phdr *ph = phdrs_of(img, size, &n);
	if (ph == NULL) {
		errno = ENOEXEC;
		return -1;
	}
	join_headers_to_text(ph, n);
	long last_load = -1, slot = -1;
	uint64_t end = 0, align = 4096;
	for (unsigned i = 0; i < n; i++) {
		if (ph[i].p_type == PT_LOAD) {
			last_load = i;
			if (ph[i].p_vaddr + ph[i].p_memsz > end)
				end = ph[i].p_vaddr + ph[i].p_memsz;
			if (ph[i].p_align > align)
				align = ph[i].p_align;
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (ph[i].p_type == PT_NOTE && (long)i > last_load)
			slot = i;
	/* PT_LOAD entries must stay in ascending order of address (the loader
	 * maps the span from the first to the last): the data segment grown
	 * must be the last, and end the image; a library that is already a
	 * copy has no PT_NOTE left there */
	if (last_load < 0 || slot < 0 || (align & (align - 1)) != 0 || align > COPY_ALIGN_LIMIT) {
		errno = ENOEXEC;
		return -1;
	}
	Elf64_Phdr *data = &ph[last_load];
	if (data->p_flags != (PF_R | PF_W) || data->p_vaddr + data->p_memsz != end ||
	    data->p_memsz < data->p_filesz || data->p_offset > size || size - data->p_offset < data->p_filesz ||
	    data->p_offset % 4096 != data->p_vaddr % 4096) {
		errno = ENOEXEC;
		return -1;
	}
	/* Not in the first 64 KiB of the data segment: the loader's first
	 * read of it (its dynamic section, on its first page) has the kernel
	 * map with that page the next 15 that are in the page cache
	 * (fault-around starts at a mapping's start), which would be the
	 * block's first pages in every guarded process, most of which never
	 * read the block. The zeros before it are holes, out of the cache
	 * until read-ahead reads them (preload_init.c lets them go). */
	size_t at = round_up((size_t)end, 4096);
	size_t first_read_end = ((size_t)data->p_vaddr & ~(size_t)4095) + COPY_BASE_ALIGN;
	at += block_phase(block, block_size, at, 4096);
	while (at < first_read_end)
		at += COPY_BASE_ALIGN; /* the same place in a window, one further */
	size_t span = at + block_size < KERNEL_ALIGNS_FROM ? KERNEL_ALIGNS_FROM : at + block_size;
	/* the data again at an offset that keeps its place in a page, and in
	 * p_align, as the loader requires */
	size_t data_align = data->p_align > 4096 ? (size_t)data->p_align : 4096;
	lay->data_src = (size_t)data->p_offset;
	lay->data_len = (size_t)data->p_filesz;
	lay->data_off = round_up(size, data_align) + (size_t)(data->p_vaddr % data_align);
	lay->block_off = lay->data_off + (at - (size_t)data->p_vaddr);
	/* PT_DYNAMIC and PT_GNU_RELRO, inside the data, follow it (the loader
	 * reads their addresses; a reader of the file, their offsets) */
	for (unsigned i = 0; i < n; i++)
		if ((ph[i].p_type == PT_DYNAMIC || ph[i].p_type == PT_GNU_RELRO) &&
		    ph[i].p_vaddr >= data->p_vaddr && ph[i].p_vaddr < end)
			ph[i].p_offset = lay->data_off + (ph[i].p_vaddr - data->p_vaddr);
	uint64_t grown = span - data->p_vaddr;
	lay->pad_after = span - (at + block_size);
	data->p_offset = lay->data_off;
	data->p_filesz = data->p_memsz = grown;
	ph[slot] = (Elf64_Phdr){
		.p_type = EG_PT_POLICY,
		.p_flags = PF_R,
		.p_offset = lay->block_off,
		.p_vaddr = at,
		.p_paddr = block_hash,
		.p_filesz = block_size,
		.p_memsz = block_size,
		.p_align = 4096,
	};
	/*
	 * The copy is mapped at a 2 MiB boundary, so at a 64 KiB one: the
	 * kernel maps a file's pages 64 KiB at a time around a fault
	 * (fault-around), within the mapping; so aligned, the code every
	 * guarded process runs (the constructor's and the hooks', first in
	 * .text) lies in one such window, always the same one. The kernel
	 * places a file mapping of 2 MiB or more at a 2 MiB boundary by itself
	 * (Linux 6.18 on ext4 does, every time), so the loader's first
	 * mapping, of the whole span, is made that large: the data segment
	 * ends with zeros up to 2 MiB (a hole in the file), which cost nothing
	 * until read, and no process reads them. Until the fifteenth round the
	 * block had a PT_LOAD of its own, placed far enough from the library's
	 * image for the span to be 2 MiB, the space between not mapped (see
	 * above). Until the twelfth round the first PT_LOAD asked for 64 KiB
	 * instead: glibc's loader (2.35 and later) then reserves the span plus
	 * 64 KiB of anonymous memory, maps the file into it and unmaps the
	 * rest, three system calls more in every guarded process. Measured
	 * side by side (bench/paired.py, 600 rounds of 10, ratio to the empty
	 * library, /bin/true): on a KVM guest, posix_spawn 1.036 and 1.032 so placed
	 * against 1.039 and 1.042 asked for 64 KiB, fork+execv 1.033 and
	 * 1.031 against 1.044 and 1.049, and a fork child's full check of a
	 * named program (--name git) 1.058 against 1.071; page-aligned only
	 * (no boundary at all) measured between the two.
	 */
	return 0;
}

/* The table of where the wrapped functions lie (real_table.h) in the
 * library's image, filled for the libc this process runs with: a process
 * of the session with the same libc takes them from it instead of
 * searching libc's symbol tables. Left empty (the functions are looked up,
 * as without it) when the image does not hold exactly one, or this libc
 * cannot be described. */
static void fill_real_table(unsigned char *img, size_t size)
{
	char magic[sizeof ((struct eg_real_table *)0)->magic];
	memcpy(magic, EG_REAL_TABLE_MAGIC, sizeof magic);
	unsigned char *at = NULL;
	for (unsigned char *p = img; (p = memmem(p, size - (size_t)(p - img), magic, sizeof magic)) != NULL;
	     p++) {
		if (at != NULL)
			return; /* more than one: which is ours is not known */
		at = p;
	}
	struct eg_real_table t;
	if (at == NULL || (size_t)(at - img) + sizeof t > size)
		return;
	memcpy(&t, at, sizeof t);
	if (eg_real_table_fill(&t))
		memcpy(at, &t, sizeof t);
}

/* Can code be mapped from the file (what the loader will do)? A noexec
 * mount, or a security module that forbids it for files there, would make
 * the loader skip the copy: every guarded process would start unguarded. */
static bool loader_can_map(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (m == MAP_FAILED) {
		errno = e == EACCES ? EPERM : e;
		return false;
	}
	munmap(m, 4096);
	return true;
}

/* Are the n bytes at off in fd equal to data, or zeros when data is NULL?
 * A range of zeros that is a hole in the file is not read: the reads
 * would fill the page cache with pages of zeros, which the kernel's
 * fault-around would then map into every guarded process (the space after
 * the library's data, add_block). */
static bool same_range(int fd, off_t off, const unsigned char *data, size_t n)
{
	/* the whole pages of a range of zeros: a hole, not read; the partial
	 * pages at its ends are read (they hold data too) */
	off_t first = (off + 4095) & ~(off_t)4095, last = (off + (off_t)n) & ~(off_t)4095;
	if (data == NULL && first < last) {
		off_t next = lseek(fd, first, SEEK_DATA);
		if ((next < 0 && errno == ENXIO) || (next >= 0 && next >= last))
			return same_range(fd, off, NULL, (size_t)(first - off)) &&
			    same_range(fd, last, NULL, (size_t)(off + (off_t)n - last));
	}
	unsigned char buf[65536];
	while (n > 0) {
		size_t want = n < sizeof buf ? n : sizeof buf;
		ssize_t got = pread(fd, buf, want, off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return false;
		for (ssize_t k = 0; data == NULL && k < got; k++)
			if (buf[k] != 0)
				return false;
		if (data != NULL && memcmp(buf, data, (size_t)got) != 0)
			return false;
		if (data != NULL)
			data += got;
		off += got;
		n -= (size_t)got;
	}
	return true;
}

/* Are the n_parts parts, one after the other (a part without data: that
 * many zeros), what fd holds? */
static bool same_content(int fd, const struct eg_file_part *parts, size_t n_parts)
{
	/* no read-ahead, into the holes either */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	off_t at = 0;
	bool same = true;
	for (size_t i = 0; same && i < n_parts; i++) {
		same = same_range(fd, at, parts[i].data, parts[i].len);
		at += (off_t)parts[i].len;
	}
	return same;
}

/*
 * Are the pages of fd (`size` bytes) that hold the parts' data (not their
 * zeros) all in the page cache? A copy is handed out again only then: one
 * that was evicted is written again rather than read back. As written, its
 * pages are in folios of up to 64 KiB (eg_write_file_whole), where the file
 * system makes large folios; read back, by a check or by the faults of the
 * processes that map it, in pages of 4 KiB. Each page mapped and
 * unmapped costs the kernel something: about 780 cycles a page of 4 KiB on
 * the development machine, about 170 a page of a folio of 64 KiB
 * (bench/folio_map; README.md, Performance), and a guarded process maps 20
 * of our pages or more. The size of a folio cannot be seen from here (only
 * root sees /proc/kpageflags): a copy evicted and read back by the
 * processes of a running session is in the cache again, page by page, and
 * is reused so. Looked at before anything is read (same_content would
 * bring the pages in).
 */
static bool data_in_cache(int fd, size_t size, const struct eg_file_part *parts, size_t n_parts)
{
	unsigned char *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return false;
	unsigned char *vec = malloc((size + 4095) / 4096);
	bool in = vec != NULL && mincore(map, size, vec) == 0;
	size_t at = 0;
	for (size_t i = 0; in && i < n_parts; at += parts[i++].len) {
		if (parts[i].data == NULL || parts[i].len == 0)
			continue;
		for (size_t p = at / 4096; in && p <= (at + parts[i].len - 1) / 4096; p++)
			in = (vec[p] & 1) != 0;
	}
	free(vec);
	munmap(map, size);
	return in;
}

/* Is the file at path exactly the parts (same_content), and, when
 * need_cached, its data in the page cache (data_in_cache)? */
static bool copy_is(const char *path, const struct eg_file_part *parts, size_t n_parts, bool need_cached)
{
	int saved = errno;
	size_t size = 0;
	for (size_t i = 0; i < n_parts; i++)
		size += parts[i].len;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	bool same = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == size &&
	    (!need_cached || (size > 0 && data_in_cache(fd, size, parts, n_parts))) &&
	    same_content(fd, parts, n_parts);
	if (fd >= 0)
		close(fd);
	errno = saved;
	return same;
}

/*
 * Remove the copies made from other builds of the library (`keep` is the
 * name prefix of this build's, "lib-<hash>-") that no session has started
 * with for a week (eg_library_copy touches the one it hands out): every
 * build leaves some (about a MiB each, more with large rule sets), and
 * nothing else would remove them. A running session that still preloads
 * one is safe: its next exec preloads the library the copy was made from
 * (env_inject.h), which maps the policy file. This build's own copies are
 * left alone, so that a run handing one out at this very moment cannot
 * lose it before its command has loaded it. Best effort.
 */
static void prune_old_copies(const char *parent, const char *keep)
{
	DIR *d = opendir(parent);
	if (d == NULL)
		return;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char dir[PATH_MAX], file[PATH_MAX];
		struct stat st;
		if (strncmp(e->d_name, "lib-", 4) != 0 || strncmp(e->d_name, keep, strlen(keep)) == 0 ||
		    snprintf(dir, sizeof dir, "%s/%s", parent, e->d_name) >= (int)sizeof dir ||
		    snprintf(file, sizeof file, "%s/libexecguard.so", dir) >= (int)sizeof file)
			continue;
		if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
		    lstat(file, &st) < 0 || !S_ISREG(st.st_mode) || now - st.st_mtime < COPY_KEEP_SECONDS)
			continue;
		if (unlink(file) == 0)
			(void)rmdir(dir);
	}
	closedir(d);
}

int eg_library_copy(const char *lib, const char *policy_path, char *out, size_t size)
{
	size_t lib_size = 0, pol_size = 0;
	unsigned char *img = NULL, *pol = read_whole(policy_path, &pol_size);
	int rc = -1;
	if (pol == NULL)
		return -1;
	struct eg_blk_header hdr;
	if (pol_size < sizeof hdr) {
		errno = EINVAL;
		goto out;
	}
	memcpy(&hdr, pol, sizeof hdr);
	uint64_t name_hash;
	if (!eg_policy_name_hash(policy_path, &name_hash) || name_hash != hdr.hash) {
		errno = EINVAL; /* not a file eg_policy_save wrote */
		goto out;
	}
	unsigned char *lib_img = read_whole(lib, &lib_size);
	if (lib_img == NULL)
		goto out;
	uint64_t lib_hash = eg_fnv64(lib_img, lib_size, 0);
	img = lib_img;
	fill_real_table(img, lib_size);
	struct copy_layout lay;
	if (add_block(img, lib_size, pol_size, hdr.hash, pol, &lay) < 0)
		goto out;
	const struct eg_file_part parts[] = {
		{ img, lib_size },
		{ NULL, lay.data_off - lib_size },
		{ img + lay.data_src, lay.data_len },
		{ NULL, lay.block_off - lay.data_off - lay.data_len },
		{ pol, pol_size },
		{ NULL, lay.pad_after },
	};
	size_t n_parts = sizeof parts / sizeof parts[0];

	char dir[PATH_MAX], final[PATH_MAX];
	const char *slash = strrchr(policy_path, '/');
	if (slash == NULL || slash == policy_path) {
		errno = EINVAL;
		goto out;
	}
	if (snprintf(dir, sizeof dir, "%.*s/lib-%016" PRIx64 "-%016" PRIx64, (int)(slash - policy_path),
	        policy_path, lib_hash, hdr.hash) >= (int)sizeof dir ||
	    snprintf(final, sizeof final, "%s/libexecguard.so", dir) >= (int)sizeof final) {
		errno = ENAMETOOLONG;
		goto out;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		goto out;
	/* Only our own private directory (someone else's could swap the copy),
	 * and one the loader may map code from (also tried: loader_can_map). */
	struct stat st;
	struct statvfs vfs;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0 || statvfs(dir, &vfs) < 0 || (vfs.f_flag & ST_NOEXEC) != 0) {
		errno = EPERM;
		goto out;
	}
	/* Reused when it is intact and its pages are in the page cache
	 * (data_in_cache), else written again and left in the cache as written.
	 * Either way the zeros are not in the cache (holes, not read:
	 * same_range), so no process's first fault reads ahead into them, for
	 * the kernel to map them into every process that reads near them
	 * (fault-around). */
	if (copy_is(final, parts, n_parts, true))
		(void)utimensat(AT_FDCWD, final, NULL, 0); /* in use: not pruned */
	else if (eg_write_file_whole(final, 0444, EG_WRITE_KEEP_CACHED, parts, n_parts) < 0)
		goto out;
	else if (!copy_is(final, parts, n_parts, false)) {
		errno = EIO; /* not what was written */
		goto out;
	}
	if (!loader_can_map(final))
		goto out;
	if (strlen(final) >= size) {
		errno = ENAMETOOLONG;
		goto out;
	}
	memcpy(out, final, strlen(final) + 1);
	rc = 0;
	char *name = strrchr(dir, '/');
	*name++ = '\0';
	name[4 + 16 + 1] = '\0'; /* "lib-<library hash>-" */
	prune_old_copies(dir, name);
out:;
	int e = errno;
	free(img);
	free(pol);
	errno = e;
	return rc;
}
