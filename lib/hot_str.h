/*
 * String helpers for the code every exec runs (the preload constructor and
 * the hooks' allow path), written out instead of calling libc: in a fork
 * child each libc text page a hook touches is a page fault of its own (fork
 * does not copy the page tables of file mappings), and these strings are a
 * few dozen bytes. Built with -fno-tree-loop-distribute-patterns (lib/
 * meson.build) so that the loops stay loops. Internal to lib/.
 */
#ifndef EG_HOT_STR_H
#define EG_HOT_STR_H

#include <stdbool.h>
#include <stddef.h>
#include "hot_text.h"

EG_HOT_INLINE size_t eg_hs_len(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

/* Does s start with p? */
EG_HOT_INLINE bool eg_hs_prefix(const char *s, const char *p)
{
	while (*p && *s == *p)
		s++, p++;
	return *p == '\0';
}

/* strcmp(a, b) == 0 */
EG_HOT_INLINE bool eg_hs_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* The first n bytes of a and b equal? */
EG_HOT_INLINE bool eg_hs_eq_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* One instruction where the CPU has it (fast-string moves), instead of the
 * vectorised loop the compiler would make of it, with its prologue and
 * epilogue, in each of the constructor's callers. */
EG_HOT_INLINE void eg_hs_copy(char *d, const char *s, size_t n)
{
#if defined(__x86_64__)
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
#else
	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
#endif
}

/* First c in s, or NULL */
EG_HOT_INLINE const char *eg_hs_chr(const char *s, char c)
{
	for (; *s; s++)
		if (*s == c)
			return s;
	return NULL;
}

#endif
