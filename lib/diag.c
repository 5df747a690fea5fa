/* Diagnostics: "file:line:col: message" records collected while loading. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "execguard.h"

void eg_diags_add(struct eg_diags *d, const char *file, unsigned line, unsigned col,
    const char *fmt, ...)
{
	if (!d)
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct eg_diag *v = reallocarray(d->v, cap, sizeof(*v));
		if (!v)
			return; /* out of memory: the caller's return value still says -1 */
		d->v = v;
		d->cap = cap;
	}
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	char *f = NULL;
	if (file && !(f = strdup(file))) {
		free(msg);
		return;
	}
	d->v[d->n++] = (struct eg_diag){ .file = f, .line = line, .col = col, .msg = msg };
}

void eg_diags_free(struct eg_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

void eg_diags_print(const struct eg_diags *d, int fd)
{
	if (!d)
		return;
	int saved = errno;
	for (size_t i = 0; i < d->n; i++) {
		const struct eg_diag *g = &d->v[i];
		char pos[64] = "";
		if (g->line && g->col)
			snprintf(pos, sizeof pos, "%u:%u:", g->line, g->col);
		else if (g->line)
			snprintf(pos, sizeof pos, "%u:", g->line);
		char *out = NULL;
		int n = asprintf(&out, "%s%s%s%s%s\n", g->file ? g->file : "", g->file ? ":" : "",
		    pos, (g->file || pos[0]) ? " " : "", g->msg ? g->msg : "");
		if (n < 0)
			continue;
		/* user text must not drive the terminal: no control characters */
		for (int k = 0; k < n - 1; k++)
			if ((unsigned char)out[k] < 0x20 || out[k] == 0x7f)
				out[k] = '?';
		write_all(fd, out, (size_t)n);
		free(out);
	}
	errno = saved;
}
