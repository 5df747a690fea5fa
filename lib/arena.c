#include "arena.h"
#include "errno_fast.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

void eg_arena_init(struct eg_arena *a, void *mem, size_t size)
{
	a->base = mem;
	a->size = size;
	atomic_init(&a->used, 0);
}

int eg_arena_map(struct eg_arena *a, size_t size)
{
	int *eloc = eg_errno_loc(), saved = *eloc;
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		eg_errno_restore(eloc, saved);
		return -1;
	}
	eg_arena_init(a, m, size);
	return 0;
}

void eg_arena_unmap(struct eg_arena *a)
{
	if (a->base != NULL)
		munmap(a->base, a->size);
	a->base = NULL;
	a->size = 0;
}

void *eg_arena_alloc(struct eg_arena *a, size_t n)
{
	if (a->base == NULL || n > a->size)
		return NULL;
	size_t need = (n + 15u) & ~(size_t)15u;
	size_t old = atomic_load_explicit(&a->used, memory_order_relaxed);
	do {
		if (need > a->size - old)
			return NULL;
	} while (!atomic_compare_exchange_weak_explicit(&a->used, &old, old + need,
	    memory_order_relaxed, memory_order_relaxed));
	return a->base + old;
}

void *eg_arena_pcre2_malloc(size_t n, void *arena)
{
	return eg_arena_alloc(arena, n);
}

void eg_arena_pcre2_free(void *ptr, void *arena)
{
	(void)ptr;
	(void)arena;
}
