/*
 * Counting allocator calls in a unit test: malloc, calloc, realloc and free
 * are interposed in the test program and add to n_alloc while `counting`
 * is set (this thread only). In a sanitized build ASan owns the allocator:
 * nothing is interposed and COUNTS_ALLOCATIONS stays undefined, so a test
 * skips its allocation assertions. Include once, in the test's one file.
 */
#ifndef EG_TEST_ALLOC_COUNT_H
#define EG_TEST_ALLOC_COUNT_H

#include <stddef.h>

static __thread int counting;
static __thread unsigned long n_alloc;

#ifndef __SANITIZE_ADDRESS__
#define COUNTS_ALLOCATIONS 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

__attribute__((visibility("default"))) void *malloc(size_t n)
{
	n_alloc += counting;
	return __libc_malloc(n);
}

__attribute__((visibility("default"))) void *calloc(size_t a, size_t b)
{
	n_alloc += counting;
	return __libc_calloc(a, b);
}

__attribute__((visibility("default"))) void *realloc(void *p, size_t n)
{
	n_alloc += counting;
	return __libc_realloc(p, n);
}

__attribute__((visibility("default"))) void free(void *p)
{
	n_alloc += counting && p != NULL;
	__libc_free(p);
}
#endif

#endif
