/*
 * The string and memory functions the library uses, defined in it (hidden)
 * instead of imported from libc, for the reason libc_direct.c gives: every
 * import is a symbol the loader binds in every guarded process (-z now),
 * whether the process ever execs or not. The strings the library handles
 * are short (names, paths, one command line), so plain loops are enough;
 * memcpy and memset use the CPU's string instructions. Built with
 * -fno-tree-loop-distribute-patterns, so that the compiler does not turn
 * these loops back into calls to themselves. Only the library's own
 * references bind here (hidden; nothing is exported).
 */
#undef _FORTIFY_SOURCE /* these are the out-of-line definitions */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)

#define EG_LOCAL __attribute__((visibility("hidden")))

EG_LOCAL void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	void *ret = d;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return ret;
}

EG_LOCAL void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	if (dp == sp || n == 0)
		return d;
	if (dp < sp || dp >= sp + n)
		return memcpy(d, s, n);
	while (n--) /* overlapping, destination after source: backwards */
		dp[n] = sp[n];
	return d;
}

EG_LOCAL void *memset(void *d, int c, size_t n)
{
	void *ret = d;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return ret;
}

/* glibc's fortified memcpy: a copy that would overrun the destination ends
 * the process, as glibc's __chk_fail does. */
EG_LOCAL void *__memcpy_chk(void *restrict d, const void *restrict s, size_t n, size_t dlen)
{
	if (n > dlen)
		__builtin_trap();
	return memcpy(d, s, n);
}

EG_LOCAL int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

EG_LOCAL void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	for (size_t i = 0; i < n; i++)
		if (p[i] == (unsigned char)c)
			return (void *)(p + i);
	return NULL;
}

EG_LOCAL size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

EG_LOCAL size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

EG_LOCAL int strcmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	while (*x && *x == *y)
		x++, y++;
	return *x - *y;
}

EG_LOCAL int strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] - y[i];
		if (x[i] == '\0')
			return 0;
	}
	return 0;
}

EG_LOCAL char *strchrnul(const char *s, int c)
{
	while (*s && *s != (char)c)
		s++;
	return (char *)s;
}

EG_LOCAL char *strchr(const char *s, int c)
{
	char *p = strchrnul(s, c);
	return *p == (char)c ? p : NULL;
}

EG_LOCAL char *strrchr(const char *s, int c)
{
	const char *last = NULL;
	do {
		if (*s == (char)c)
			last = s;
	} while (*s++);
	return (char *)last;
}

EG_LOCAL char *strcpy(char *restrict d, const char *restrict s)
{
	char *ret = d;
	while ((*d++ = *s++))
		;
	return ret;
}

EG_LOCAL void *memmem(const void *h, size_t hn, const void *n, size_t nn)
{
	const unsigned char *hp = h, *np = n;
	if (nn == 0)
		return (void *)hp;
	for (size_t i = 0; i + nn <= hn; i++)
		if (hp[i] == np[0] && memcmp(hp + i, np, nn) == 0)
			return (void *)(hp + i);
	return NULL;
}

EG_LOCAL char *strstr(const char *h, const char *n)
{
	return memmem(h, strlen(h), n, strlen(n));
}

#endif
