/*
 * Where the functions the preload library wraps lie in one libc, found
 * ahead of time: a session copy of the library (library_copy.h) carries
 * this table, filled by `execguard run` for the libc it runs with, so that
 * the constructor of a process whose libc is that one (the same build ID)
 * takes them from it instead of searching libc's symbol tables, twelve
 * lookups whose cache misses cost every guarded process a few
 * microseconds. The library as installed carries it empty. Internal to
 * lib/.
 */
#ifndef EG_REAL_TABLE_H
#define EG_REAL_TABLE_H

#include <stdbool.h>
#include <stdint.h>

/* The functions, in the order of struct eg_real's slots (guard.h): each
 * name, then its version ("" the default, as dlsym; else as dlvsym). */
#define EG_REAL_NAMES \
	"execve\0\0" "execveat\0\0" "fexecve\0\0" "execvpe\0\0" \
	"posix_spawn\0GLIBC_2.15\0" "posix_spawn\0GLIBC_2.2.5\0" \
	"posix_spawnp\0GLIBC_2.15\0" "posix_spawnp\0GLIBC_2.2.5\0" \
	"system\0\0" "popen\0\0" "wordexp\0\0" "fork\0\0"
#define EG_REAL_SLOTS 12

/* 16 bytes, no NUL: what the copy's maker looks for in the library */
#define EG_REAL_TABLE_MAGIC "execguard-reals1"
#define EG_REAL_ID_MAX 32

struct eg_real_table {
	char magic[16];
	/* the libc's dynamic section, from its base: which object to read
	 * the build ID of (0: the table is empty) */
	uint64_t ld_off;
	uint32_t id_len;
	unsigned char id[EG_REAL_ID_MAX]; /* its GNU build ID */
	/* each function from the libc's base; 0: not known there (look it up) */
	uint64_t off[EG_REAL_SLOTS];
};

/* Fill t for the libc this process runs with (the object named libc.so.*):
 * what eg_next_sym would find in it, from its base. false (t untouched):
 * no such object, or no build ID in its first page. */
bool eg_real_table_fill(struct eg_real_table *t);

#endif
