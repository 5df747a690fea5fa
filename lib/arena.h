/*
 * Bump allocators for PCRE2 on the hook path, where malloc is off limits.
 * Allocation is a lock-free atomic bump; free does nothing; the whole arena
 * goes at once (stack unwinding, or munmap).
 */
#ifndef EG_ARENA_H
#define EG_ARENA_H

#include <stdatomic.h>
#include <stddef.h>

struct eg_arena {
	unsigned char *base;
	size_t size;
	_Atomic size_t used;
};

void eg_arena_init(struct eg_arena *a, void *mem, size_t size);
/* Reserve `size` bytes of address space with mmap (lazily backed). */
int eg_arena_map(struct eg_arena *a, size_t size);
void eg_arena_unmap(struct eg_arena *a);
void *eg_arena_alloc(struct eg_arena *a, size_t n);

/* PCRE2 memory-management callbacks; memory_data is a struct eg_arena *. */
void *eg_arena_pcre2_malloc(size_t n, void *arena);
void eg_arena_pcre2_free(void *ptr, void *arena);

#endif
