/* Number formatting for the hook path, where snprintf is off limits. */
#ifndef EG_FMT_H
#define EG_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hot_text.h"

#define EG_FMT_UINT_MAX 21 /* digits of 2^64-1, plus the NUL */

/* Decimal digits of v into out (NUL-terminated); returns their count. */
size_t eg_fmt_uint(char out[EG_FMT_UINT_MAX], unsigned long v);

/* A strict decimal 0..max (digits only, no sign or blanks); 0 also for
 * NULL, an empty string, anything else, or a value above max. */
EG_HOT_INLINE unsigned eg_parse_uint(const char *v, unsigned max)
{
	/* inline: the preload constructor calls it, and its pages are kept few */
	if (!v || !*v)
		return 0;
	uint64_t x = 0;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return 0;
		x = x * 10 + (uint64_t)(*v - '0');
		if (x > max)
			return 0;
	}
	return (unsigned)x;
}

/* The 16 lowercase hex digits at p (a 64-bit hash as execguard writes it:
 * policy file names, the popen approval marker) into *v; false if any of
 * them is not one. What follows them is the caller's to check. Inline, as
 * eg_parse_uint. */
static inline __attribute__((always_inline)) bool eg_parse_hex64(const char *p, uint64_t *v)
{
	uint64_t x = 0;
	for (int i = 0; i < 16; i++) {
		char c = p[i];
		int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
		if (d < 0)
			return false;
		x = x << 4 | (uint64_t)d;
	}
	*v = x;
	return true;
}

#endif
