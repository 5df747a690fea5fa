#include "fmt.h"

#include <stdint.h>

#include "hot_text.h"

/* In the hot text: eg_fd_path formats /proc/self/fd/N with it when a fork
 * child resolves a symlinked program. */
EG_HOT_TEXT size_t eg_fmt_uint(char out[EG_FMT_UINT_MAX], unsigned long v)
{
	char rev[EG_FMT_UINT_MAX];
	size_t n = 0;
	do {
		rev[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	out[n] = '\0';
	return n;
}

