/*
 * A session copy of the preload library that carries the policy block in
 * its data segment, so that the loader, which opens and maps the library
 * in every guarded process anyway, maps the policy with it, in the same
 * mapping: the constructor then makes no open, fstat, mmap or close of its
 * own, and the loader no system call more (README, "Performance").
 *
 * The copy is a cache of EXECGUARD_POLICY's file, never a replacement: an
 * EG_PT_POLICY program header (a type no loader reads) says where the
 * block lies and holds its hash (p_paddr), and the constructor uses the
 * block only when EXECGUARD_POLICY names the file of that same hash
 * (policy-<hash>.bin); otherwise it maps the file as before. If the copy
 * disappears during a session, the exec hooks inject the library it was
 * made from (EXECGUARD_LIBRARY) instead, so children never name a missing
 * file in LD_PRELOAD (the loader would skip it: unguarded).
 *
 * The slot for that header is the library's PT_NOTE entry (the build id,
 * which only debuggers read). The copy also carries, filled, the table of
 * where the wrapped functions lie in the libc the maker runs with
 * (real_table.h), which the constructor takes instead of looking them up
 * when its libc is that one. Internal to execguard (the CLI).
 */
#ifndef EG_LIBRARY_COPY_H
#define EG_LIBRARY_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fmt.h"

/* The environment variable naming the library a copy was made from. */
#define EG_LIBRARY_VAR "EXECGUARD_LIBRARY"

/* The program header of a copy that says where its policy block lies
 * (p_vaddr, p_filesz, inside the data segment's PT_LOAD) and whose it is
 * (p_paddr: the block's hash). In the range for operating-system types
 * (PT_LOOS..PT_HIOS), unused by GNU ("EGP"). */
#define EG_PT_POLICY 0x60454750u

/* The kernel's window of fault-around (its default fault_around_bytes):
 * a read fault on a file page maps the pages of the cache in the 64 KiB
 * window around it, within the mapping. The copy's layout is made for it
 * (library_copy.c), and the preload library's spawn hook reads by it
 * (eg_preload_before_spawn). */
#define EG_COPY_WINDOW ((uint64_t)64 << 10)

/*
 * Write (or find, when the same one is there) the copy of library `lib`
 * carrying the policy file `policy_path` (written by eg_policy_save), in
 * <policy's directory>/lib-<library hash>-<policy hash>/libexecguard.so;
 * its path into out. -1 with errno when no copy can be used (ENOEXEC: not
 * a library with a free slot; EPERM: a directory mounted noexec, or not
 * our own private one); the caller then uses `lib` and the file.
 */
int eg_library_copy(const char *lib, const char *policy_path, char *out, size_t size);

/* The policy hash in a policy file name ".../policy-<16 hex>.bin"; false
 * if the name is not of that form. Inline: the constructor uses it. */
static inline __attribute__((always_inline)) bool eg_policy_name_hash(const char *path, uint64_t *hash)
{
	const char *base = path;
	for (const char *c = path; *c; c++)
		if (*c == '/')
			base = c + 1;
	/* compared with immediates: no string in .rodata (hot_text.h) */
	if (base[0] != 'p' || base[1] != 'o' || base[2] != 'l' || base[3] != 'i' || base[4] != 'c' ||
	    base[5] != 'y' || base[6] != '-')
		return false;
	const char *p = base + 7;
	return eg_parse_hex64(p, hash) && p[16] == '.' && p[17] == 'b' && p[18] == 'i' && p[19] == 'n' &&
	    p[20] == '\0';
}

#endif
